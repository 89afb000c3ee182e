// The graphql-http server audit (GraphQL-over-HTTP spec) against a running
// motcua: `node audit.mjs URL [TOKEN]`. Prints each audit's outcome and
// exits 1 if any MUST audit failed (SHOULD and MAY ones are reported).
import { serverAudits } from "graphql-http";

const [url, token] = process.argv.slice(2);
if (!url) {
  console.error("usage: node audit.mjs URL [TOKEN]");
  process.exit(2);
}
const fetchWithToken = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};
let failedMust = 0;
for (const audit of serverAudits({ url, fetchFn: fetchWithToken })) {
  const result = await audit.fn();
  const level = audit.name.split(" ")[0];
  if (result.status === "ok") {
    console.log(`ok    ${audit.name}`);
  } else {
    console.log(`${result.status.padEnd(5)} ${audit.name}: ${result.reason}`);
    if (level === "MUST") failedMust += 1;
  }
}
console.log(`${failedMust} MUST audits failed`);
process.exit(failedMust === 0 ? 0 : 1);
