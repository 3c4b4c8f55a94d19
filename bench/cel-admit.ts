// µs of CPU per AdmissionReview of the in-process admission path (src/gatekeeper/webhook.ts
// admit(), no HTTP, no worker thread) with the gatekeeper-library's templates and sample
// constraints (CEL where a template has it, as Gatekeeper runs them) on 200 mixed Pod and
// Deployment reviews (the webhook bench's, bench/gatekeeper-webhook.ts), with Portcullis's CEL
// evaluator and with @bufbuild/cel's, rounds interleaved; and the two answers compared.
//
//   node --import tsx bench/cel-admit.ts [rounds] [fast]   ("fast": time Portcullis's evaluator only)   (or bundled with esbuild as bench/cel.ts says)
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSnapshot } from "../src/gatekeeper/snapshot.ts";
import { admit, defaultServiceAccount } from "../src/gatekeeper/webhook.ts";
import { emptyObjects } from "../src/gatekeeper/state.ts";
import { readManifests } from "../src/gatekeeper/manifestfiles.ts";
import { isTemplate } from "../src/gatekeeper/template.ts";
import { isConstraint } from "../src/gatekeeper/constraint.ts";
import { useFastEvaluator } from "../src/gatekeeper/cel/engine.ts";
import { NAMESPACES, reviewBody } from "./lib/reviews.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const LIBRARY = path.resolve(process.env.BENCH_GATEKEEPER_LIBRARY ?? path.join(here, "../../shared/gatekeeper-library/library"));
const rounds = Number(process.argv[2] ?? 7);

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}
const objs = emptyObjects();
for (const f of walk(LIBRARY).sort()) {
  if (path.basename(f) === "template.yaml") objs.templates.push(...readManifests(f).filter(isTemplate));
  else if (/[\\/]samples[\\/]/.test(f) && path.basename(f).startsWith("constraint")) objs.constraints.push(...readManifests(f).filter(isConstraint));
}
NAMESPACES.forEach((n, i) => objs.namespaces.set(n, { apiVersion: "v1", kind: "Namespace", metadata: { name: n, labels: { env: i % 2 ? "dev" : "prod", owner: "team" } } }));

// The reviews of bench/gatekeeper-webhook.ts.
const BODIES = Array.from({ length: 200 }, (_, i) => reviewBody(i));
const opts = { serviceAccount: defaultServiceAccount() };

useFastEvaluator(true);
const fastSnap = buildSnapshot(objs);
useFastEvaluator(false);
const slowSnap = buildSnapshot(objs);
useFastEvaluator(true);
console.log(`${objs.templates.length} templates, ${objs.constraints.length} constraints, ${BODIES.length} reviews`);

let diffs = 0;
let denied = 0;
for (const b of BODIES) {
  const out = (await admit(fastSnap, JSON.parse(b), opts)).review;
  if (out.response?.allowed === false) denied++;
  const a = JSON.stringify(out);
  const z = JSON.stringify((await admit(slowSnap, JSON.parse(b), opts)).review);
  if (a !== z && ++diffs <= 3) console.log(`DIFFERENT: ${a.slice(0, 300)} vs ${z.slice(0, 300)}`);
}
const pass = async (snap: typeof fastSnap) => {
  const start = process.cpuUsage();
  for (const b of BODIES) await admit(snap, JSON.parse(b), opts);
  const d = process.cpuUsage(start);
  return (d.user + d.system) / BODIES.length;
};
const fast: number[] = [];
const slow: number[] = [];
for (let r = 0; r < rounds; r++) {
  fast.push(await pass(fastSnap));
  if (process.argv[3] !== "fast") slow.push(await pass(slowSnap));
}
const min = (x: number[]) => Math.min(...x);
const median = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1];
console.log(`${denied} of ${BODIES.length} reviews denied; responses differing: ${diffs}`);
console.log(`µs CPU per review, ${rounds} rounds: Portcullis's CEL evaluator min ${min(fast).toFixed(0)} median ${median(fast).toFixed(0)}; @bufbuild/cel min ${slow.length ? min(slow).toFixed(0) : "-"} median ${slow.length ? median(slow).toFixed(0) : "-"}`);
