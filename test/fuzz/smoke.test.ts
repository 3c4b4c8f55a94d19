// A short fuzz run with a fixed seed: a few hundred Rego modules, inputs of every format and
// builtin calls, each case in a worker process under the 2 s watchdog (scripts/fuzz/). The full
// run is `npm run fuzz`.
//
// Crashes in OPEN_AREAS are known and being fixed elsewhere: they are reported here (as test
// diagnostics) but not asserted on yet. Every other area must stay free of crashes and hangs.
// Once the fixes are merged, empty OPEN_AREAS so that the whole run must be clean.
import test from "node:test";
import assert from "node:assert/strict";
import { fuzz, defaultOptions, type Finding } from "../../scripts/fuzz/run.ts";

/**
 * Areas (the `area` of a finding: a source file, a format, a builtin) with crashes that this seed
 * finds today and whose fixes are in progress elsewhere. Remove an entry once its fix is merged;
 * an empty set makes the run strict.
 */
const OPEN_AREAS = new Set<string>([
  // parser/compiler recursion: stack overflows on deep nesting; a superlinear compile of long
  // unification chains (x = y; y = z; …)
  "rego/parser",
  "rego/compiler",
  "rego:unifyChain",
  // value model: fromJS/toJS recurse (deep input documents overflow Engine.query)
  "rego/value",
  // input formats: __proto__ keys replace prototypes (ini, xml), Infinity in documents (hcl2),
  // NginxError escaping the lexer, dotenv expansion exceeding the string length
  "ini",
  "xml",
  "hcl2",
  "nginx",
  "dotenv",
  // graphql builtins: graphql-js errors escape validateQuery (masked by callBuiltin)
  "builtins/graphql",
]);

const SEED = 20240601;

function describe(f: Finding): string {
  const where = f.case.target === "formats" ? ` [${f.case.parser}]` : f.case.target === "builtins" ? ` [${f.case.name}]` : "";
  return `${f.kind} ×${f.count}${where}: ${f.signature}`;
}

test("fuzz smoke run: no crashes or hangs outside the open areas", { timeout: 180_000 }, async (t) => {
  const t0 = Date.now();
  const res = await fuzz(
    defaultOptions({
      seed: SEED,
      counts: { rego: 400, formats: 40, builtins: 2000 },
      workers: 2,
      budgetMs: 2000,
      minimize: false,
      // A hang is attributed to its recipe ("rego:unifyChain"), not to wherever the stuck worker
      // happened to be paused: deterministic areas.
      hangStacks: false,
      // A fixed set of cases: nothing is skipped for being slow or hanging repeatedly.
      quarantineAfter: Infinity,
      slowLimit: Infinity,
      log: () => {},
    }),
  );
  for (const s of res.summaries) {
    t.diagnostic(`${s.target}: ${s.stats.run} cases, ${s.stats.crash} crashes, ${s.stats.hang} hangs, ${s.seconds.toFixed(1)} s`);
  }
  t.diagnostic(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const open = res.findings.filter((f) => OPEN_AREAS.has(f.area));
  for (const f of open) t.diagnostic(`open: ${describe(f)}`);
  const unexpected = res.findings.filter((f) => !OPEN_AREAS.has(f.area));
  assert.deepEqual(unexpected.map(describe), []);
  assert.ok(res.summaries.find((s) => s.target === "rego")!.stats.run >= 400);
});
