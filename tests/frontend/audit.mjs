// Runs graphql-http's GraphQL-over-HTTP conformance audit against a live server, prints JSON.
//
// Usage: node audit.mjs URL          (normally through `scripts/frontend.sh audit URL`)
// Prints {"ok": N, "failed": [{id, name, status, reason}]} on stdout, where status is "error"
// (a MUST the server breaks), "warn" (a SHOULD) or "notice"; exits 1 when any is "warn" or
// "error". Packages load through require(), which honours NODE_PATH (set by scripts/frontend.sh).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { auditServer } = require("graphql-http");

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.mjs URL");
  process.exit(2);
}

const results = await auditServer({ url, fetchFn: fetch });
const failed = results
  .filter((r) => r.status !== "ok")
  .map(({ id, name, status, reason }) => ({ id, name, status, reason }));
const ok = results.length - failed.length;
console.log(JSON.stringify({ ok, failed }, null, 2));
process.exit(failed.some((r) => r.status !== "notice") ? 1 : 0);
