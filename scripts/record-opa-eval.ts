// Records `opa eval`'s answers (exit code, stdout, stderr) for the cases of a recorded-case file
// (test/cli/recorded/*.json): each case names its files (written to a fresh directory, which is
// the working directory of the run, so outputs name them relatively) and its `opa eval`
// arguments. test/cli/recorded.test.ts replays every case through `portcullis eval` and expects
// the same bytes.
//
// Usage: node --import tsx scripts/record-opa-eval.ts test/cli/recorded/FILE.json [--check]
//   --check: print the cases whose recorded answer differs from opa's now, change nothing.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { opaPath } from "../test/support/oracles.ts";
import type { RecordedCase } from "../test/cli/recorded-cases.ts";

const [file, flag] = process.argv.slice(2);
if (!file) {
  console.error("usage: record-opa-eval.ts CASES.json [--check]");
  process.exit(2);
}
const opa = opaPath();
if (!opa) {
  console.error("opa not found (~/go/bin/opa or PATH): nothing recorded");
  process.exit(1);
}
const doc = JSON.parse(readFileSync(file, "utf8")) as { _about?: string; cases: RecordedCase[] };
let changed = 0;
for (const c of doc.cases) {
  const dir = mkdtempSync(join(tmpdir(), "opa-rec-"));
  try {
    for (const [name, text] of Object.entries(c.files ?? {})) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const r = spawnSync(opa, ["eval", ...c.args], { cwd: dir, encoding: "utf8" });
    const now = { code: r.status ?? -1, out: r.stdout, err: r.stderr };
    if (now.code !== c.code || now.out !== c.out || now.err !== c.err) {
      changed++;
      if (flag === "--check") console.log(`differs: ${c.name}\n  recorded: ${JSON.stringify([c.code, c.out, c.err])}\n  opa now:  ${JSON.stringify([now.code, now.out, now.err])}`);
      Object.assign(c, now);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (flag !== "--check") writeFileSync(file, JSON.stringify(doc, null, 1) + "\n");
console.log(`${doc.cases.length} cases, ${changed} ${flag === "--check" ? "differ" : "recorded anew"}`);
