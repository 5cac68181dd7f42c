// Composes subgraph SDL with Apollo's @apollo/composition and prints the outcome as JSON.
//
// Usage: node compose.mjs [FILE ...]     (normally through `scripts/federation.sh compose`)
//   No FILE (or "-"): one subgraph named "consilium", its SDL read from stdin.
//   Each FILE is one subgraph named after the file ("other.graphql" -> "other"), so a test can
//   compose the gateway next to a deliberately conflicting subgraph.
// Prints {"errors": [{code, message}], "hints": [{code, message}], "supergraphSdl"?} on stdout
// and exits 1 when composition reports errors (an unreadable or unparsable SDL counts as one).
// The packages are loaded with require(), which honours NODE_PATH: scripts/federation.sh points it
// at the node_modules it installed outside the checkout.
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { composeServices } = require("@apollo/composition");
const { parse } = require("graphql");

const GATEWAY_URL = "http://127.0.0.1:8000/graphql";

function subgraphName(path) {
  return path === "-" ? "consilium" : basename(path, extname(path));
}

function readSubgraphs(args) {
  const paths = args.length > 0 ? args : ["-"];
  return paths.map((path) => {
    const name = subgraphName(path);
    const sdl = readFileSync(path === "-" ? 0 : path, "utf8");
    return { name, url: name === "consilium" ? GATEWAY_URL : `http://${name}.invalid/graphql`, sdl };
  });
}

function describe(items) {
  return (items ?? []).map((item) => ({
    code: item.extensions?.code ?? item.definition?.code ?? item.code ?? null,
    message: item.message ?? item.toString(),
  }));
}

function main(args) {
  let services;
  try {
    services = readSubgraphs(args).map(({ name, url, sdl }) => ({
      name,
      url,
      typeDefs: parse(sdl),
    }));
  } catch (error) {
    return { errors: [{ code: "INVALID_SUBGRAPH_INPUT", message: String(error.message ?? error) }], hints: [] };
  }
  const result = composeServices(services);
  const out = { errors: describe(result.errors), hints: describe(result.hints) };
  if (!result.errors && result.supergraphSdl) {
    out.supergraphSdl = result.supergraphSdl;
  }
  return out;
}

const out = main(process.argv.slice(2));
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
process.exitCode = out.errors.length > 0 ? 1 : 0;
