// µs of CPU per CEL evaluation: every constraint of the gatekeeper-library's CEL templates
// against every sample Pod and Deployment (bench/workloads/cel.ts), on Portcullis's evaluator
// and on @bufbuild/cel's interpreter (the fallback), rounds interleaved so that load on the
// machine falls on both alike; and their answers compared (every violation message).
//
//   node --import tsx bench/cel.ts [rounds]             (the sources, as npm run bench runs)
//   npx esbuild bench/cel.ts --bundle --platform=node --format=esm --packages=external \
//     --outfile=/tmp/cel-bench.mjs && BENCH_GATEKEEPER_LIBRARY=… node /tmp/cel-bench.mjs
//                                                       (a bundle without keepNames, as dist/)
import { celPairs, compileAll } from "./workloads/cel.ts";
import { evaluateCel, type CelReviewInput, type CelTemplate } from "../src/gatekeeper/cel/driver.ts";
import { useFastEvaluator, fastStats } from "../src/gatekeeper/cel/engine.ts";
import { countGenericCalls } from "../src/gatekeeper/cel/fast.ts";
import { Client } from "../src/gatekeeper/client.ts";
import { buildReview } from "../src/gatekeeper/review.ts";

const rounds = Number(process.argv[2] ?? 7);
const pairs = celPairs();
useFastEvaluator(true);
const fastTemplates = compileAll(pairs);
const compiled = { ...fastStats };
useFastEvaluator(false);
const slowTemplates = compileAll(pairs);
useFastEvaluator(true);

const work: { t: CelTemplate; s: CelTemplate; input: CelReviewInput; name: string }[] = [];
for (const c of pairs.constraints) {
  for (const input of pairs.inputs(c.constraint)) work.push({ t: fastTemplates.get(c.templateFile)!, s: slowTemplates.get(c.templateFile)!, input, name: c.name });
}
let diffs = 0;
let violations = 0;
for (const w of work) {
  const a = JSON.stringify(evaluateCel(w.t, w.input));
  const b = JSON.stringify(evaluateCel(w.s, w.input));
  violations += (JSON.parse(a) as string[]).length;
  if (a !== b) {
    diffs++;
    if (diffs <= 5) console.log(`DIFFERENT ${w.name}: ${a} vs ${b}`);
  }
}
// Each round reviews fresh requests (the documents' views are shared by the constraints of one
// review, as in the admission path, not across rounds).
const time = (pick: (w: (typeof work)[number]) => CelTemplate): number => {
  const fresh = new Map<object, object>();
  const inputs = work.map((w) => {
    let request = fresh.get(w.input.request);
    if (!request) fresh.set(w.input.request, (request = { ...w.input.request }));
    return { ...w.input, request } as CelReviewInput;
  });
  const start = process.cpuUsage();
  for (let i = 0; i < work.length; i++) evaluateCel(pick(work[i]), inputs[i]);
  const d = process.cpuUsage(start);
  return ((d.user + d.system) / work.length);
};
if (process.env.BENCH_CEL_CALLS) {
  const counts = countGenericCalls(true)!;
  for (const w of work) evaluateCel(w.t, w.input);
  countGenericCalls(false);
  console.log("calls through the function groups per round:", JSON.stringify([...counts.entries()].sort((a, b) => b[1] - a[1])));
}
const fast: number[] = [];
const slow: number[] = [];
for (let r = 0; r < rounds; r++) {
  fast.push(time((w) => w.t));
  if (process.argv[3] !== "fast") slow.push(time((w) => w.s));
}
const min = (x: number[]) => Math.min(...x);
const median = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1];
console.log(`${pairs.constraints.length} constraints × ${pairs.objects.length} Pods and Deployments = ${work.length} evaluations per round, ${violations} violations; answers differing: ${diffs}`);
console.log(`expressions: ${compiled.compiled} on Portcullis's evaluator, ${compiled.fallback} on @bufbuild/cel`);
console.log(`µs CPU per evaluation, ${rounds} rounds: Portcullis's evaluator min ${min(fast).toFixed(1)} median ${median(fast).toFixed(1)}; @bufbuild/cel min ${slow.length ? min(slow).toFixed(1) : "-"} median ${slow.length ? median(slow).toFixed(1) : "-"}`);

// Per template: CEL on each evaluator against the same template's Rego (its `code` Rego entry,
// as `--enable-k8s-native-validation=false` runs it), on the same constraints and objects;
// minimum of rounds, µs of CPU per evaluation.
if (process.argv[3] !== "fast") {
  const rego = new Client({ k8sNativeValidation: false });
  for (const [file, t] of pairs.templates) rego.addTemplate(t, file);
  const regoConstraints = new Map(pairs.constraints.map((c) => [c, rego.addConstraint(c.constraint)]));
  const built = pairs.objects.map((o) => buildReview(o.obj));
  const rows: string[] = [];
  let atOrUnder = 0;
  for (const file of pairs.templates.keys()) {
    const cs = pairs.constraints.filter((c) => c.templateFile === file);
    const mine = work.filter((w) => cs.some((c) => c.name === w.name));
    const cpu = async (f: () => unknown | Promise<unknown>) => {
      const start = process.cpuUsage();
      await f();
      const d = process.cpuUsage(start);
      return (d.user + d.system) / mine.length;
    };
    const best = { fast: Infinity, slow: Infinity, rego: Infinity };
    for (let r = 0; r < Math.max(3, rounds >> 1); r++) {
      best.fast = Math.min(best.fast, await cpu(() => mine.forEach((w) => evaluateCel(w.t, { ...w.input, request: { ...w.input.request } }))));
      best.slow = Math.min(best.slow, await cpu(() => mine.forEach((w) => evaluateCel(w.s, { ...w.input, request: { ...w.input.request } }))));
      best.rego = Math.min(
        best.rego,
        await cpu(async () => {
          for (const c of cs) for (const b of built) await rego.evaluate(regoConstraints.get(c)!, b);
        }),
      );
    }
    if (best.fast <= best.rego) atOrUnder++;
    rows.push(`| ${String(pairs.templates.get(file)!.spec?.crd?.spec?.names?.kind)} | ${cs.length} | ${best.fast.toFixed(1)} | ${best.slow.toFixed(1)} | ${best.rego.toFixed(1)} |`);
  }
  console.log("| template | constraints | CEL, Portcullis's evaluator | CEL, @bufbuild/cel | Rego |\n| --- | --- | --- | --- | --- |\n" + rows.join("\n"));
  console.log(`CEL on Portcullis's evaluator at or under the template's Rego: ${atOrUnder} of ${pairs.templates.size} templates`);
}
