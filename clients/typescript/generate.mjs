// The TypeScript client's types: openapi-typescript (pinned in package-lock.json) over the
// live /openapi.json, with the generator's own defaults (so --default-non-nullable stays on:
// the contract, app/api/defaults.py, makes that safe). One addition, the generator's
// documented recipe for files: `format: binary` (uploads, XLSX and DOCX answers) is a Blob.
// Usage: node generate.mjs openapi.json src/kcbx.d.ts
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import openapiTS, { astToString } from "openapi-typescript";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node generate.mjs OPENAPI_JSON OUTPUT_D_TS");
  process.exit(2);
}
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const ast = await openapiTS(pathToFileURL(path.resolve(input)), {
  transform(schemaObject) {
    if (schemaObject.format === "binary") return BLOB;
    return undefined;
  },
});
fs.mkdirSync(path.dirname(output), { recursive: true });
fs.writeFileSync(output, astToString(ast));
console.log(`generated ${output}`);
