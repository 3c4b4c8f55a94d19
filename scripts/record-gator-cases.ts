// Records gator's answers for the cases in test/gatekeeper/recorded/<file>.json: runs gator
// (~/go/bin/gator or $GATOR) on each case and writes its exit code, stdout and stderr back into
// the file. Usage: node --import tsx scripts/record-gator-cases.ts test/gatekeeper/recorded/x.json
import * as fs from "node:fs";
import { findGator, runGator, type GatorCase } from "../test/gatekeeper/gator-recorded.ts";

const gator = findGator();
if (!gator) {
  process.stderr.write("record-gator-cases: gator is not installed (set GATOR)\n");
  process.exit(1);
}
for (const file of process.argv.slice(2)) {
  const cases = JSON.parse(fs.readFileSync(file, "utf8")) as GatorCase[];
  for (const c of cases) Object.assign(c, runGator(gator, c));
  fs.writeFileSync(file, JSON.stringify(cases, null, 2) + "\n");
  process.stdout.write(`${file}: ${cases.length} case(s) recorded\n`);
}
