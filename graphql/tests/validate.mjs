// Validates every committed operation (graphql/operations/*.graphql)
// against the committed schema (graphql/schema.graphql) with graphql-js.
import { readFileSync, readdirSync } from "node:fs";
import { buildSchema, parse, validate } from "graphql";

const root = new URL("../", import.meta.url);
const schema = buildSchema(readFileSync(new URL("schema.graphql", root), "utf8"));
const directory = new URL("operations/", root);
const files = readdirSync(directory).filter((name) => name.endsWith(".graphql"));
let failures = 0;
for (const file of files) {
  const errors = validate(schema, parse(readFileSync(new URL(file, directory), "utf8")));
  for (const error of errors) {
    console.log(`${file}: ${error.message}`);
    failures += 1;
  }
}
console.log(`${files.length} operation files, ${failures} errors`);
process.exit(files.length > 0 && failures === 0 ? 0 : 1);
