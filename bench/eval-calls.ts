// Micro-benchmark of the evaluator's cost per user-function call and per rule body entered, on the
// shapes of the built-in library (library/lib) and the Gatekeeper library's templates: CPU time
// per operation (process CPU, user+system), the median of interleaved rounds.
//
//   node --import tsx bench/eval-calls.ts            # the shipped build, dist/ (built when stale)
//   BENCH_SRC=1 node --import tsx bench/eval-calls.ts  # the TypeScript sources through tsx
//   EVAL_BENCH_ONLY=call1,sprintf node --import tsx bench/eval-calls.ts
//   EVAL_BENCH_DIST=/tmp/dist-before node --import tsx bench/eval-calls.ts  # a copy of another build
//
// Each case is a query that performs one operation OPS times (a comprehension over OPS inputs,
// of which the count is the answer, so that converting results is not measured);
// the figure is (CPU per evaluation − the same comprehension without the operation) ÷ OPS, so the
// iteration's own cost is left out. Every case's answer is checked against its expected value
// before anything is timed: a faster wrong answer is not a result.
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { loadLibrary, BUILD_LABEL } from "./lib/engine.ts";

const OPS = 200;
const ROUNDS = Number(process.env.EVAL_BENCH_ROUNDS ?? 7);
const BATCH_MS = Number(process.env.EVAL_BENCH_BATCH_MS ?? 60);

interface Case {
  name: string;
  what: string;
  module: string;
  query: string;
  /** The same iteration without the operation (its cost is subtracted). */
  baseline: string;
  /** Divide the difference by this many operations per evaluation. */
  ops: number;
  check: (v: unknown) => boolean;
}

const nums = Array.from({ length: OPS }, (_, i) => i);
const containers = nums.map((i) => ({ name: `c${i}`, image: `registry.example/app${i % 7}:1.${i % 5}`, securityContext: i % 3 === 0 ? { privileged: true } : {} }));
const kinds = ["Deployment", "Pod", "CronJob", "StatefulSet"];
const objs = nums.map((i) => {
  const k = kinds[i % 4];
  const spec = { n: i };
  return k === "Pod" ? { kind: k, spec } : k === "CronJob" ? { kind: k, spec: { jobTemplate: { spec: { template: { spec } } } } } : { kind: k, spec: { template: { spec } } };
});
// The collections iterated are base data, read once: an input is checked (and walked) by every
// evaluation, which would be most of what is measured.
const input = { kind: "Deployment", apiVersion: "apps/v1", metadata: { name: "web", namespace: "shop", labels: { app: "web" } } };
const data = { d: { nums, objs, containers } };

const MODULE = `package m

inc(x) := x + 1

finding(id, path, resource, text) := {"id": id, "path": path, "resource": resource, "text": text}

two(a, b) := a if a > b
else := b

label(c) := sprintf("container '%s'", [c.name])

is_priv(c) if c.securityContext.privileged == true

pod_spec(o) := o.spec if o.kind == "Pod"
pod_spec(o) := o.spec.template.spec if o.kind in {"Deployment", "StatefulSet"}
pod_spec(o) := o.spec.jobTemplate.spec.template.spec if o.kind == "CronJob"

name(o) := object.get(o, ["metadata", "name"], "")

# the same argument every call: the per-query function cache answers
same := [name(input) | some _ in data.d.nums]

g0 contains 0 if input.kind == "Service"

# a partial set rule whose guard fails on its first expression, x20
${Array.from({ length: 20 }, (_, i) => `g contains ${i} if {\n\tinput.kind == "Service${i}"\n\tsome c in data.d.containers\n\tc.name == "x"\n}`).join("\n\n")}
`;

const CASES: Case[] = [
  {
    name: "call1",
    what: "f(x) := x + 1, a new argument each call",
    module: MODULE,
    query: "[data.m.inc(i) | some i in data.d.nums]",
    baseline: "[i | some i in data.d.nums]",
    ops: OPS,
    check: (v) => Array.isArray(v) && v[OPS - 1] === OPS,
  },
  {
    name: "call4obj",
    what: "finding(id, path, resource, text) := {...} (4 args, object result)",
    module: MODULE,
    query: `[data.m.finding("K8S-001", "", "Deployment/web", i) | some i in data.d.nums]`,
    baseline: "[i | some i in data.d.nums]",
    ops: OPS,
    check: (v) => Array.isArray(v) && (v[3] as { text: number }).text === 3,
  },
  {
    name: "else",
    what: "two(a, b) := a if a > b else := b (the else taken for half)",
    module: MODULE,
    query: "[data.m.two(i, 100) | some i in data.d.nums]",
    baseline: "[i | some i in data.d.nums]",
    ops: OPS,
    check: (v) => Array.isArray(v) && v[0] === 100 && v[OPS - 1] === OPS - 1,
  },
  {
    name: "multidef",
    what: "pod_spec(o): 3 definitions with kind guards, 4 kinds",
    module: MODULE,
    query: "[data.m.pod_spec(o) | some o in data.d.objs]",
    baseline: "[o.kind | some o in data.d.objs]",
    ops: OPS,
    check: (v) => Array.isArray(v) && (v[5] as { n: number }).n === 5 && (v[6] as { n: number }).n === 6,
  },
  {
    name: "helper",
    what: "some c in containers; is_priv(c) (a boolean helper per container)",
    module: MODULE,
    query: "[c.name | some c in data.d.containers; data.m.is_priv(c)]",
    baseline: "[c.name | some c in data.d.containers]",
    ops: OPS,
    check: (v) => Array.isArray(v) && v.length === Math.ceil(OPS / 3),
  },
  {
    name: "sprintf-fn",
    what: `label(c) := sprintf("container '%s'", [c.name]) per container`,
    module: MODULE,
    query: "[data.m.label(c) | some c in data.d.containers]",
    baseline: "[c.name | some c in data.d.containers]",
    ops: OPS,
    check: (v) => Array.isArray(v) && v[1] === "container 'c1'",
  },
  {
    name: "sprintf",
    what: `sprintf("%s/%s", [kind, name]) inline`,
    module: MODULE,
    query: `[sprintf("%s/%s", [input.kind, c.name]) | some c in data.d.containers]`,
    baseline: "[c.name | some c in data.d.containers]",
    ops: OPS,
    check: (v) => Array.isArray(v) && v[2] === "Deployment/c2",
  },
  {
    name: "cached",
    what: "name(input) with the same argument each call (cache hit)",
    module: MODULE,
    query: "data.m.same",
    baseline: "[i | some i in data.d.nums]",
    ops: OPS,
    check: (v) => Array.isArray(v) && v[OPS - 1] === "web",
  },
  {
    name: "guard20",
    what: "a partial set rule whose first expression input.kind == ... fails (20 vs 1 rule)",
    module: MODULE,
    query: "data.m.g",
    baseline: "data.m.g0",
    ops: 19,
    check: (v) => Array.isArray(v) && v.length === 0,
  },
];

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

type Prepared = { eval(o: { input: unknown }): unknown };

function valueOf(rs: unknown): unknown {
  const rows = rs as { bindings: Record<string, unknown> }[];
  return rows[0]?.bindings?.x;
}

/** CPU ns per evaluation over a batch of about BATCH_MS. */
function batch(pq: Prepared, n: number): number {
  const t0 = cpuNs();
  for (let i = 0; i < n; i++) pq.eval({ input });
  return (cpuNs() - t0) / n;
}

function sizeBatch(pq: Prepared): number {
  let n = 1;
  for (;;) {
    const t0 = cpuNs();
    for (let i = 0; i < n; i++) pq.eval({ input });
    const dt = cpuNs() - t0;
    if (dt > BATCH_MS * 1e6 / 4) return Math.max(1, Math.round((n * BATCH_MS * 1e6) / dt));
    n *= 2;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function main(): Promise<void> {
  const other = process.env.EVAL_BENCH_DIST;
  const lib = other ? ((await import(pathToFileURL(path.resolve(other, "index.js")).href)) as Awaited<ReturnType<typeof loadLibrary>>) : await loadLibrary((s) => console.error(s));
  const only = process.env.EVAL_BENCH_ONLY ? new Set(process.env.EVAL_BENCH_ONLY.split(",")) : null;
  const cases = CASES.filter((c) => only === null || only.has(c.name));
  const engine = new lib.Engine({ regoVersion: "v1" });
  engine.addModule("m.rego", MODULE);
  engine.setData(data);
  engine.compile();
  const runs = cases.map((c) => {
    const v = valueOf((engine.prepare(`x := ${c.query}`) as unknown as Prepared).eval({ input }));
    if (!c.check(v)) throw new Error(`${c.name}: unexpected answer ${JSON.stringify(v).slice(0, 200)}`);
    // Timed: the count only, so that converting the answer to JavaScript is not measured.
    const pq = engine.prepare(`x := count(${c.query})`) as unknown as Prepared;
    const base = engine.prepare(`x := count(${c.baseline})`) as unknown as Prepared;
    return { c, pq, base, n: sizeBatch(pq), nb: sizeBatch(base), t: [] as number[], tb: [] as number[] };
  });
  for (let r = 0; r < ROUNDS; r++) {
    for (const x of runs) {
      x.t.push(batch(x.pq, x.n));
      x.tb.push(batch(x.base, x.nb));
    }
  }
  console.log(`eval-calls: CPU per operation (${other ? `the build in ${other}` : BUILD_LABEL}; median of ${ROUNDS} rounds of ~${BATCH_MS} ms batches)`);
  console.log(`${"case".padEnd(11)} ${"ns/op".padStart(8)} ${"µs/eval".padStart(9)}  what`);
  for (const x of runs) {
    const t = median(x.t);
    const tb = median(x.tb);
    const per = (t - tb) / x.c.ops;
    console.log(`${x.c.name.padEnd(11)} ${per.toFixed(0).padStart(8)} ${(t / 1000).toFixed(1).padStart(9)}  ${x.c.what}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
