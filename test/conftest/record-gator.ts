/**
 * Records `gator test` outputs on the Gatekeeper library in gator-expected.json (see
 * gator-harness.ts), only where Portcullis prints the same (stdout, stderr without time stamps,
 * exit code); mismatches are listed and not recorded.
 *   node --import tsx test/conftest/record-gator.ts
 */
import { writeFileSync } from "node:fs";
import { gatorCases, findGator, runGator, runPortcullisGator, caseKey, GATOR_EXPECTED, UNSTABLE, sortedLines, type GatorRun } from "./gator-harness.ts";

const bin = findGator();
if (!bin) {
  console.error("gator not found (GATOR or ~/go/bin/gator)");
  process.exit(2);
}
const out: Record<string, GatorRun> = {};
let mismatches = 0;
for (const c of gatorCases()) {
  const theirs = runGator(bin, c);
  const ours = await runPortcullisGator(c);
  const norm = (s: string) => (UNSTABLE.has(c.dir) ? sortedLines(s) : s);
  if (norm(theirs.stdout) === norm(ours.stdout) && theirs.stderr === ours.stderr && theirs.code === ours.code) out[caseKey(c)] = theirs;
  else {
    mismatches++;
    console.log(`MISMATCH ${caseKey(c)}`);
  }
}
writeFileSync(GATOR_EXPECTED, JSON.stringify(out, null, 1) + "\n");
console.log(`${Object.keys(out).length} gator outputs recorded, ${mismatches} mismatches`);
