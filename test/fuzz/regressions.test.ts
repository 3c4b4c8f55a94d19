// The fuzz regression corpus: one small file per crash or hang the fuzzer found
// (test/fuzz/regressions/*.json, written by `npm run fuzz -- --write-regressions DIR` and
// replayed by `npm run fuzz -- --replay DIR`). Each case must now end in a result or a coded
// error (RegoError with an OPA code, ParseError from src/formats), within the 2 s budget. Cases
// run in worker processes under the fuzzer's watchdog, so a hang fails its test instead of
// stopping the suite.
import test from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { readRegressions, replay } from "../../scripts/fuzz/run.ts";
import type { CheckResult } from "../../scripts/fuzz/pool.ts";

const DIR = fileURLToPath(new URL("./regressions/", import.meta.url));
const regs = readRegressions(DIR);

function outcome(r: CheckResult): string {
  switch (r.kind) {
    case "crash":
      return `crash: ${r.outcome.error.name}: ${r.outcome.error.message}\n${r.outcome.error.stack}`;
    case "hang":
      return "hang: over the 2 s CPU budget";
    case "died":
      return `worker died: ${r.detail}`;
    default:
      return r.kind;
  }
}

test("fuzz regressions: every case is a result or a coded error", { timeout: 600_000 }, async (t) => {
  assert.ok(regs.length > 0, `no regression files in ${DIR}`);
  const results = await replay(
    regs.map((r) => r.reg.case),
    { workers: 2, budgetMs: 2000, log: () => {} },
  );
  for (let i = 0; i < regs.length; i++) {
    const { file, reg } = regs[i];
    const r = results[i];
    await t.test(`${file} (${reg.kind} in ${reg.area})`, () => {
      assert.ok(r.kind === "ok" || r.kind === "coded", `${reg.signature}\n→ ${outcome(r)}`);
    });
  }
});
