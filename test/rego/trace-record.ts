// Records the oracles' trace lines for the trace corpus: node --import tsx test/rego/trace-record.ts
// (needs ~/go/bin/opa and ~/go/bin/conftest). Prints how many lines Portcullis matches.
// With --rescore, the recorded lines are kept (no oracle runs) and only the counts of lines
// Portcullis matches are brought up to date.
import { readFileSync, writeFileSync } from "node:fs";
import { CASES, EXPECTED_FILE, caseName, oracle, ours, matchedLines } from "./trace-cases.ts";

const rescore = process.argv.includes("--rescore");
const recorded: { name: string; lines: string[] }[] = rescore ? JSON.parse(readFileSync(EXPECTED_FILE, "utf8")) : [];
const expected: { name: string; lines: string[]; matched: number; exact: boolean }[] = [];
let total = 0;
let matched = 0;
for (let i = 0; i < CASES.length; i++) {
  const c = CASES[i];
  let lines: string[] | null;
  if (rescore) {
    if (recorded[i]?.name !== caseName(c)) throw new Error(`${EXPECTED_FILE} does not match cases.json at ${caseName(c)}: record it again`);
    lines = recorded[i].lines;
  } else lines = oracle(c);
  if (lines === null) throw new Error(`no oracle for ${caseName(c)}`);
  const mine = await ours(c);
  const m = matchedLines(c, mine, lines);
  expected.push({ name: caseName(c), lines, matched: m, exact: m === lines.length && mine.length === lines.length });
  total += lines.length;
  matched += m;
  console.log(`${m}/${lines.length} (ours ${mine.length})  ${caseName(c)}`);
}
writeFileSync(EXPECTED_FILE, JSON.stringify(expected, null, 1) + "\n");
console.log(`matched ${matched} of ${total} oracle trace lines in ${CASES.length} cases, ${expected.filter((e) => e.exact).length} exactly`);
