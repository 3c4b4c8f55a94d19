// A short fuzz run with a fixed seed over the three targets (scripts/fuzz/): Rego modules through
// the parser, compiler and evaluator; inputs of every format through parseContent (what
// `portcullis parse`/`test` run); builtin calls through the engine. Each case runs in a worker
// process under the 2 s CPU watchdog. Any crash (an exception escaping the API, an
// eval_internal_error, a parser's internal fault, an invalid document) or hang fails the test.
// The full run is `npm run fuzz` (docs/LIMITS.md, "Fuzzing").
import test from "node:test";
import assert from "node:assert/strict";
import { fuzz, defaultOptions, type Finding } from "../../scripts/fuzz/run.ts";
import { FORMAT_NAMES } from "../../scripts/fuzz/gen-formats.ts";

const SEED = 20240601;
/** Cases per target (for formats: per format, every registered format). */
const COUNTS = { rego: 300, formats: 10, builtins: 1200 };
/**
 * Generated inputs stay under 2,000 characters (the acceptance run allows 1,000,000): a short run
 * covers many small cases rather than a few huge ones, and stays inside 30 s on a loaded machine.
 * Huge inputs are the acceptance run's (npm run fuzz) and test/formats/hostile.test.ts's. (Known
 * there and left open: a body of 500+ chained unifications `b0 = b1; b1 = b2; …` takes seconds
 * to compile — OPA 1.19 takes minutes — see docs/LIMITS.md, "Fuzzing".)
 */
const MAX_INPUT = 2_000;

function describe(f: Finding): string {
  const where = f.case.target === "formats" ? ` [${f.case.parser}]` : f.case.target === "builtins" ? ` [${f.case.name}]` : "";
  return `${f.kind} ×${f.count}${where}: ${f.signature}`;
}

test("fuzz smoke run: no crashes, no hangs", { timeout: 240_000 }, async (t) => {
  const t0 = Date.now();
  const res = await fuzz(
    defaultOptions({
      seed: SEED,
      counts: COUNTS,
      workers: 2,
      budgetMs: 2000,
      minimize: false,
      // hangs are named by their recipe or builtin, not by where the stuck worker was paused
      hangStacks: false,
      // a fixed set of cases: nothing is skipped for being slow or hanging repeatedly
      quarantineAfter: Infinity,
      slowLimit: Infinity,
      maxInput: MAX_INPUT,
      log: () => {},
    }),
  );
  for (const s of res.summaries) {
    const reached = s.target === "builtins" ? `, the builtin ran in ${s.stats.reached}` : "";
    t.diagnostic(`${s.target}: ${s.stats.run} cases, ${s.stats.crash} crashes, ${s.stats.hang} hangs${reached}, ${s.seconds.toFixed(1)} s`);
  }
  t.diagnostic(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.deepEqual(res.findings.map(describe), []);
  const runs = Object.fromEntries(res.summaries.map((s) => [s.target, s.stats]));
  assert.equal(runs.rego.run, COUNTS.rego);
  assert.equal(runs.formats.run, COUNTS.formats * FORMAT_NAMES.length);
  assert.equal(runs.builtins.run, COUNTS.builtins);
  // the generated calls reach the builtins (not only the type checker): most of them run
  assert.ok(runs.builtins.reached > COUNTS.builtins * 0.8, `the builtin ran in only ${runs.builtins.reached} of ${COUNTS.builtins} calls`);
  // every outcome is counted: ok + coded + crash = run
  for (const s of res.summaries) {
    const coded = Object.values(s.stats.coded).reduce((a, b) => a + b, 0);
    assert.equal(s.stats.ok + coded + s.stats.crash, s.stats.run, s.target);
  }
});
