// Automatic persisted queries with Apollo Client's own PersistedQueryLink, against the gateway:
// the first use of a query sends its sha256 alone, the gateway answers PERSISTED_QUERY_NOT_FOUND,
// the link sends hash and document together (registering it); later uses send the hash alone.
// With useGETForHashedQueries those hash-only requests are GETs (cacheable URLs).
//
// Usage: node apq.mjs URL TOKEN   (normally `scripts/frontend.sh apq ...`)
// Prints JSON on stdout; tests/e2e/test_frontend_clients.py checks the exchange:
//   {post: RUN, get: RUN}, RUN = {requests: [REQUEST...], results: [[id...], [id...]]}
//   REQUEST = {method, hash, hasQuery, queryHash, status, codes}: what the link sent (hash of
//   extensions.persistedQuery; queryHash = sha256 of the document it sent, if any) and what
//   came back (HTTP status, the errors' extensions.code).
// Packages load through require(), which honours NODE_PATH (set by scripts/frontend.sh).
import { createHash } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { ApolloClient, HttpLink, InMemoryCache, gql } = require("@apollo/client");
const { PersistedQueryLink } = require("@apollo/client/link/persisted-queries");

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: node apq.mjs URL TOKEN");
  process.exit(2);
}
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function recordingFetch(requests) {
  return async (input, init = {}) => {
    const method = (init.method ?? "GET").toUpperCase();
    let params;
    if (method === "GET") {
      const search = new URL(String(input)).searchParams;
      params = {
        query: search.get("query") ?? undefined,
        extensions: JSON.parse(search.get("extensions") ?? "{}"),
      };
    } else {
      params = JSON.parse(init.body);
    }
    const response = await fetch(input, init);
    const body = await response.clone().json();
    requests.push({
      method,
      hash: params.extensions?.persistedQuery?.sha256Hash ?? null,
      hasQuery: typeof params.query === "string",
      queryHash: typeof params.query === "string" ? sha256(params.query) : null,
      status: response.status,
      codes: (body.errors ?? []).map((error) => error.extensions?.code ?? null),
    });
    return response;
  };
}

async function run(document, useGETForHashedQueries) {
  const requests = [];
  const persisted = new PersistedQueryLink({ sha256, useGETForHashedQueries });
  const http = new HttpLink({
    uri: url,
    headers: { authorization: `Bearer ${token}` },
    fetch: recordingFetch(requests),
  });
  const client = new ApolloClient({ link: persisted.concat(http), cache: new InMemoryCache() });
  const results = [];
  for (let use = 0; use < 2; use += 1) {
    const { data, error } = await client.query({
      query: gql(document),
      variables: { first: 3 },
      fetchPolicy: "network-only",
    });
    if (error || !data) throw error ?? new Error("no data");
    results.push(data.feed.nodes.map((node) => node.id));
  }
  return { requests, results };
}

console.log(
  JSON.stringify({
    post: await run("query ApqFeed($first: Int!) { feed(first: $first) { nodes { id title } } }", false),
    get: await run("query ApqFeedIds($first: Int!) { feed(first: $first) { nodes { id } } }", true),
  })
);
