// Pages the gateway's feed the way apps do: Apollo Client's InMemoryCache with
// relayStylePagination, and Relay's ConnectionHandler merging each page into its store.
//
// Usage: node paging.mjs URL TOKEN PAGE_SIZE   (normally `scripts/frontend.sh paging ...`)
// Prints JSON on stdout; tests/e2e/test_frontend_clients.py checks that the pages join:
//   apollo:       {pages: [[id...]...], merged: [id...]}   each page fetched with `after` the
//                 previous endCursor, merged = what the cache's feed field reads back
//   apolloMiddle: {first: [id...], after: CURSOR, next: [id...], merged: [id...]}  a page
//                 fetched `after` the cursor of the first page's second edge, not its end
//   relay:        {pages: [[id...]...], merged: [id...]}   merged = ConnectionHandler's
//                 client connection, read back through ConnectionHandler.getConnection
// Packages load through require(), which honours NODE_PATH (set by scripts/frontend.sh).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { ApolloClient, HttpLink, InMemoryCache, gql } = require("@apollo/client");
const { relayStylePagination } = require("@apollo/client/utilities");
const {
  ConnectionHandler,
  Environment,
  Network,
  RecordSource,
  Store,
  commitLocalUpdate,
  getRelayHandleKey,
} = require("relay-runtime");

const [url, token, size] = process.argv.slice(2);
if (!url || !token || !size) {
  console.error("usage: node paging.mjs URL TOKEN PAGE_SIZE");
  process.exit(2);
}
const first = Number(size);
const headers = { authorization: `Bearer ${token}` };

const FEED = `query Feed($first: Int!, $after: String) {
  feed(first: $first, after: $after) {
    edges { cursor node { id title } }
    pageInfo { hasNextPage endCursor hasPreviousPage startCursor }
  }
}`;

const ids = (connection) => connection.edges.map((edge) => edge.node.id);

// Apollo's query results are read back from the cache (merged), so each page as the server
// sent it is recorded on its way in.
function apolloClient(pages) {
  const recording = async (input, init) => {
    const response = await fetch(input, init);
    pages.push(ids((await response.clone().json()).data.feed));
    return response;
  };
  return new ApolloClient({
    link: new HttpLink({ uri: url, headers, fetch: recording }),
    cache: new InMemoryCache({
      typePolicies: { Query: { fields: { feed: relayStylePagination(["community"]) } } },
    }),
  });
}

async function apolloFetch(client, after) {
  const { data, error } = await client.query({
    query: gql(FEED),
    variables: { first, after },
    fetchPolicy: "network-only",
  });
  if (error || !data) throw error ?? new Error("no data");
  return data.feed;
}

async function apollo() {
  const pages = [];
  const client = apolloClient(pages);
  let after = null;
  for (;;) {
    const page = await apolloFetch(client, after);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  const merged = client.cache.readQuery({ query: gql(FEED), variables: { first } }).feed;
  return { pages, merged: ids(merged) };
}

async function apolloMiddle() {
  // Apollo trims the cached edges to the one whose cursor is `after` and appends the page:
  // only right if that cursor is exactly that edge's position.
  const pages = [];
  const client = apolloClient(pages);
  const head = await apolloFetch(client, null);
  const after = head.edges[1].cursor;
  await apolloFetch(client, after);
  const merged = client.cache.readQuery({ query: gql(FEED), variables: { first } }).feed;
  return { first: pages[0], after, next: pages[1], merged: ids(merged) };
}

async function fetchPage(after) {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query: FEED, variables: { first, after } }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data.feed;
}

async function relay() {
  const environment = new Environment({
    network: Network.create(() => {
      throw new Error("pages are fetched by hand and normalised below");
    }),
    store: new Store(new RecordSource()),
  });
  const handleKey = getRelayHandleKey("connection", "Feed_feed", null);
  const pages = [];
  let after = null;
  for (let number = 0; ; number += 1) {
    const page = await fetchPage(after);
    pages.push(ids(page));
    const args = { first, after };
    const fieldKey = `feed(after:${JSON.stringify(after)},first:${first})`;
    // What a compiled query's normaliser writes, then the @connection handle's update.
    commitLocalUpdate(environment, (store) => {
      const root = store.getRoot();
      const connection = store.create(`client:feed:${number}`, "PostConnection");
      const edges = page.edges.map((edge, index) => {
        const record = store.create(`client:feed:${number}:edges:${index}`, "PostEdge");
        const node = store.get(edge.node.id) ?? store.create(edge.node.id, "Post");
        node.setValue(edge.node.id, "id");
        node.setValue(edge.node.title, "title");
        record.setValue(edge.cursor, "cursor");
        record.setLinkedRecord(node, "node");
        return record;
      });
      connection.setLinkedRecords(edges, "edges");
      const pageInfo = store.create(`client:feed:${number}:pageInfo`, "PageInfo");
      for (const [name, value] of Object.entries(page.pageInfo)) pageInfo.setValue(value, name);
      connection.setLinkedRecord(pageInfo, "pageInfo");
      root.setLinkedRecord(connection, fieldKey);
      ConnectionHandler.update(store, {
        dataID: root.getDataID(),
        fieldKey,
        handleKey,
        args,
        handleArgs: {},
      });
    });
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  let merged = null;
  commitLocalUpdate(environment, (store) => {
    const connection = ConnectionHandler.getConnection(store.getRoot(), "Feed_feed");
    merged = connection
      .getLinkedRecords("edges")
      .map((edge) => edge.getLinkedRecord("node").getValue("id"));
  });
  return { pages, merged };
}

console.log(
  JSON.stringify({ apollo: await apollo(), apolloMiddle: await apolloMiddle(), relay: await relay() })
);
