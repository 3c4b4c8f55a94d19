// The Gatekeeper review stream: every gatekeeper-library template with its sample constraints,
// reviewing every sample object of the library's suites (cases that need no inventory), in
// Portcullis (the gatekeeper face's Client, in process) and in `gator bench -e rego` (when
// ~/go/bin/gator or gator on PATH is installed). Both are timed by CPU, not wall clock:
// Portcullis with process.cpuUsage over whole passes of the stream; gator by its process CPU
// (bash `times`) at two iteration counts, so its start-up and template compilation cancel out.
// The violation counts of both must agree before the ratio is printed.
//
// `gator bench -e rego` runs every template's Rego, also for the 16 library templates that
// carry CEL too, so the ratio is taken on Portcullis's Rego stream (k8sNativeValidation off).
// The stream as Gatekeeper reviews (CEL wins where a template has it) is timed too, and its
// CEL part compared with `gator bench -e cel`: the CEL code of some templates reports all the
// offending containers in one violation where their Rego reports one per container (11 fewer
// violations per pass on the library's samples), so the two streams' counts differ by design.
//
//   node --import tsx bench/gatekeeper.ts      (also the last part of `npm run bench`; the shipped
//   build, or the sources with BENCH_SRC=1 / --src: bench/lib/engine.ts)
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { loadClient, BUILD_LABEL } from "./lib/engine.ts";
import type { Obj } from "../src/gatekeeper/yaml.ts";
import { sampleCases, DEFAULT_LIBRARY } from "./workloads/gatekeeper.ts";

export interface StreamOptions {
  quick: boolean;
  out: (s: string) => void;
  log: (s: string) => void;
  library?: string;
}

export interface StreamResult {
  templates: number;
  constraints: number;
  objects: number;
  /** The Rego stream (what gator bench -e rego runs). */
  violationsPerPass: number;
  portcullisUsPerReview: number;
  /** The stream as Gatekeeper reviews: CEL where a template has it. */
  gatekeeper: { violationsPerPass: number; usPerReview: number; celViolationsPerPass: number };
  gator?: { usPerReview: number; violationsPerPass: number } | { skipped: string };
  ratio?: number;
}

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function findGator(): string | null {
  for (const p of [...(process.env.PATH ?? "").split(path.delimiter).map((d) => path.join(d, "gator")), path.join(os.homedir(), "go/bin/gator")]) {
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** Run gator bench; answer its process CPU (user+system, ns) and its JSON report. */
function gatorRun(gator: string, dir: string, iterations: number, engine: "rego" | "cel" = "rego"): { cpuNs: number; report: Obj } {
  const outFile = path.join(dir, `..`, `gator-${engine}-${iterations}.json`);
  const r = spawnSync("bash", ["-c", '"$@" > "$OUT" 2>/dev/null; rc=$?; times; exit $rc', "_", gator, "bench", "-e", engine, "-f", dir, "-n", String(iterations), "--warmup", "5", "-o", "json"], {
    encoding: "utf8",
    env: { ...process.env, OUT: outFile },
    timeout: 20 * 60_000,
  });
  if (r.status !== 0) throw new Error(`gator bench exited with ${r.status ?? r.signal}: ${(r.stderr || "").trim().slice(0, 300)}`);
  // `times`: the shell's user/system, then its children's.
  const lines = r.stdout.trim().split("\n");
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1] ?? "");
  if (!m) throw new Error(`cannot read gator's CPU time from ${JSON.stringify(r.stdout)}`);
  const cpu = (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1e9;
  const report = (JSON.parse(fs.readFileSync(outFile, "utf8")) as Obj[])[0];
  return { cpuNs: cpu, report };
}

export async function streamBench(o: StreamOptions): Promise<StreamResult> {
  const library = o.library ?? DEFAULT_LIBRARY;
  const { cases } = sampleCases(library);
  // The Rego stream (as gator bench -e rego), and the stream as Gatekeeper runs it (templates
  // that also carry CEL run it: CEL wins; no namespaceObject for CEL, as gator).
  const Client = await loadClient(o.log);
  const client = new Client({ k8sNativeValidation: false });
  const gk = new Client({ celNamespaceObject: false });
  const templates = new Map<string, { obj: Obj; file: string }>();
  const constraints = new Map<string, { obj: Obj; file: string }>();
  const objects = new Map<string, Obj>();
  for (const c of cases) {
    if (c.inventory.length) continue;
    templates.set(c.templateFile, { obj: c.template, file: c.templateFile });
    constraints.set(c.constraintFile, { obj: c.constraint, file: c.constraintFile });
    objects.set(c.objectFile, c.object);
  }
  let nT = 0;
  let nC = 0;
  const files: [string, Obj][] = [];
  for (const t of templates.values()) {
    try {
      client.addTemplate(t.obj, t.file);
      gk.addTemplate(t.obj, t.file);
      files.push([`template-${nT++}.yaml`, t.obj]);
    } catch (e) {
      o.log(`  stream: template ${t.file} not loaded: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  for (const c of constraints.values()) {
    if (!client.templates.has(c.obj.kind)) continue;
    try {
      client.addConstraint(c.obj, c.file);
      gk.addConstraint(c.obj, c.file);
      files.push([`constraint-${nC++}.yaml`, c.obj]);
    } catch (e) {
      o.log(`  stream: constraint ${c.file} not loaded: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  // Objects of one kind and name would replace one another in gator's object cache: each gets
  // a unique name (a suffix), in both engines' stream. AdmissionReviews are left out (gator bench
  // reviews plain objects).
  let stream = [...objects.values()]
    .filter((obj) => obj.kind !== "AdmissionReview" && typeof obj.metadata?.name === "string")
    .map((obj, i) => ({ ...obj, metadata: { ...obj.metadata, name: `${obj.metadata.name}-${i}` } }));
  if (o.quick) stream = stream.slice(0, 20);
  stream.forEach((obj, i) => files.push([`object-${i}.yaml`, obj]));
  // gator bench syncs every object it reviews into data.inventory (referential data); so does this.
  client.setInventory(stream);
  gk.setInventory(stream);

  // Portcullis: passes over the stream, CPU per review (median pass after a warm-up pass), the
  // two clients' passes interleaved so that load on the machine falls on both alike.
  const pass = async (c: InstanceType<typeof Client>) => {
    let v = 0;
    for (const obj of stream) v += (await c.review(obj)).results.length;
    return v;
  };
  const violationsPerPass = await pass(client);
  let gkViolations = 0;
  let celViolations = 0;
  for (const obj of stream) {
    for (const v of (await gk.review(obj)).results) {
      gkViolations++;
      if (gk.templates.get(v.constraintKind)?.cel) celViolations++;
    }
  }
  const passes = o.quick ? 2 : 7;
  const times: number[] = [];
  const gkTimes: number[] = [];
  for (let i = 0; i < passes; i++) {
    for (const [c, ts] of i % 2 === 0 ? ([[client, times], [gk, gkTimes]] as const) : ([[gk, gkTimes], [client, times]] as const)) {
      const t0 = cpuNs();
      await pass(c);
      ts.push((cpuNs() - t0) / stream.length);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const ours = median(times);
  const gkOurs = median(gkTimes);
  const res: StreamResult = {
    templates: nT,
    constraints: nC,
    objects: stream.length,
    violationsPerPass,
    portcullisUsPerReview: ours / 1000,
    gatekeeper: { violationsPerPass: gkViolations, usPerReview: gkOurs / 1000, celViolationsPerPass: celViolations },
  };

  o.out(`\ngatekeeper review stream (Portcullis: ${BUILD_LABEL}): ${nT} templates, ${nC} constraints, ${stream.length} sample objects (library suites' cases without inventory), every object reviewed against every constraint`);
  o.out(`  Portcullis, Rego: ${(ours / 1000).toFixed(1)} µs CPU per review = ${(1e9 / ours).toFixed(0)} reviews per CPU second; ${violationsPerPass} violations per pass`);
  o.out(
    `  Portcullis as Gatekeeper (CEL where the template has it): ${(gkOurs / 1000).toFixed(1)} µs CPU per review = ${(1e9 / gkOurs).toFixed(0)} reviews per CPU second; ${gkViolations} violations per pass, ${celViolations} of them from CEL templates' constraints`,
  );
  const gator = findGator();
  if (!gator) {
    res.gator = { skipped: "gator is not installed" };
    o.out(`  gator bench: skipped (gator is not installed)`);
    return res;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portcullis-gator-bench-"));
  try {
    const objDir = path.join(dir, "files");
    fs.mkdirSync(objDir);
    for (const [name, obj] of files) fs.writeFileSync(path.join(objDir, name), JSON.stringify(obj));
    const n1 = o.quick ? 1 : 2;
    const n2 = o.quick ? 3 : 10;
    o.log(`  stream: gator bench -e rego -n ${n1} and -n ${n2} ...`);
    const a = gatorRun(gator, objDir, n1);
    const b = gatorRun(gator, objDir, n2);
    const reviews = (Number(b.report.totalReviews) || n2 * stream.length) - (Number(a.report.totalReviews) || n1 * stream.length);
    const theirs = (b.cpuNs - a.cpuNs) / reviews;
    const gatorViolations = Number(b.report.violationCount) / n2;
    res.gator = { usPerReview: theirs / 1000, violationsPerPass: gatorViolations };
    o.out(
      `  gator bench -e rego: ${(theirs / 1000).toFixed(1)} µs CPU per review = ${(1e9 / theirs).toFixed(0)} reviews per CPU second (process CPU at -n ${n1} and -n ${n2}, difference ÷ ${reviews} reviews); ${gatorViolations} violations per pass`,
    );
    if (Number(b.report.objectCount) !== stream.length || gatorViolations !== violationsPerPass) {
      o.out(`  no ratio: gator reviewed ${b.report.objectCount} objects and found ${gatorViolations} violations per pass, Portcullis ${stream.length} and ${violationsPerPass}`);
    } else {
      res.ratio = theirs / ours;
      o.out(`  reviews per CPU second, Portcullis (Rego) ÷ gator -e rego: ${res.ratio.toFixed(2)}`);
    }
    // The CEL side: gator bench -e cel runs the templates that carry CEL (and skips the others).
    const cel = gatorRun(gator, objDir, 1, "cel");
    const gatorCel = Number(cel.report.violationCount);
    o.out(
      `  gator bench -e cel: ${gatorCel} violations per pass on ${cel.report.constraintCount} constraints of ${cel.report.templateCount} CEL templates; Portcullis's CEL templates: ${celViolations}${gatorCel === celViolations ? " (same)" : " (DIFFERENT)"}`,
    );
  } catch (e) {
    res.gator = { skipped: (e as Error).message };
    o.out(`  gator bench: skipped (${(e as Error).message})`);
  } finally {
    if (process.env.BENCH_KEEP_GATOR_DIR === "1") o.log(`  stream: gator's files kept in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // BENCH_STREAM_RUNS=N: the whole comparison N times in a row (Portcullis's passes, then gator's
  // runs, then Portcullis's again …), each run's figures printed, then the ratios side by side.
  const runs = Number(process.env.BENCH_STREAM_RUNS ?? 1);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
    console.error(`gatekeeper bench: BENCH_STREAM_RUNS must be a whole number from 1 to 20, got ${process.env.BENCH_STREAM_RUNS}`);
    process.exit(2);
  }
  (async () => {
    const results: StreamResult[] = [];
    for (let i = 0; i < runs; i++) {
      if (runs > 1) console.log(`\nrun ${i + 1} of ${runs}`);
      results.push(await streamBench({ quick: process.env.BENCH_QUICK === "1", out: (s) => console.log(s), log: (s) => console.error(s) }));
    }
    if (runs > 1) {
      console.log(`\nruns: Portcullis µs CPU per review / gator µs CPU per review = reviews per CPU second ratio`);
      for (const [i, r] of results.entries()) {
        const g = r.gator !== undefined && "usPerReview" in r.gator ? r.gator : undefined;
        console.log(`  run ${i + 1}: ${r.portcullisUsPerReview.toFixed(1)} / ${g ? g.usPerReview.toFixed(1) : "-"} = ${r.ratio !== undefined ? r.ratio.toFixed(2) : "no ratio"} (violations per pass ${r.violationsPerPass} / ${g ? g.violationsPerPass : "-"})`);
      }
    }
  })().then(
    () => process.exit(0),
    (e) => {
      console.error(`gatekeeper bench: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
