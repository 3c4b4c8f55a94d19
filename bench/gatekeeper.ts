// The Gatekeeper review stream: every gatekeeper-library template with its sample constraints,
// reviewing every sample object of the library's suites (cases that need no inventory), in
// Portcullis (the gatekeeper face's Client, in process) and in `gator bench -e rego` (when
// ~/go/bin/gator or gator on PATH is installed). Both are timed by CPU, not wall clock:
// Portcullis with process.cpuUsage over whole passes of the stream; gator by its process CPU
// (bash `times`) at two iteration counts, so its start-up and template compilation cancel out.
// The violation counts of both must agree before the ratio is printed.
//
//   node --import tsx bench/gatekeeper.ts      (also the last part of `npm run bench`)
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "../src/gatekeeper/client.ts";
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
  violationsPerPass: number;
  portcullisUsPerReview: number;
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
function gatorRun(gator: string, dir: string, iterations: number): { cpuNs: number; report: Obj } {
  const outFile = path.join(dir, `..`, `gator-${iterations}.json`);
  const r = spawnSync("bash", ["-c", '"$@" > "$OUT" 2>/dev/null; rc=$?; times; exit $rc', "_", gator, "bench", "-e", "rego", "-f", dir, "-n", String(iterations), "--warmup", "5", "-o", "json"], {
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
  // Reviews as Gatekeeper runs them (templates that also carry CEL run it: CEL wins).
  const client = new Client();
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
      files.push([`template-${nT++}.yaml`, t.obj]);
    } catch (e) {
      o.log(`  stream: template ${t.file} not loaded: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  for (const c of constraints.values()) {
    if (!client.templates.has(c.obj.kind)) continue;
    try {
      client.addConstraint(c.obj, c.file);
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

  // Portcullis: passes over the stream, CPU per review (median pass after a warm-up pass).
  const pass = async () => {
    let v = 0;
    for (const obj of stream) v += (await client.review(obj)).results.length;
    return v;
  };
  const violationsPerPass = await pass();
  const passes = o.quick ? 2 : 7;
  const times: number[] = [];
  for (let i = 0; i < passes; i++) {
    const t0 = cpuNs();
    await pass();
    times.push((cpuNs() - t0) / stream.length);
  }
  times.sort((a, b) => a - b);
  const ours = times[times.length >> 1];
  const res: StreamResult = { templates: nT, constraints: nC, objects: stream.length, violationsPerPass, portcullisUsPerReview: ours / 1000 };

  o.out(`\ngatekeeper review stream: ${nT} templates, ${nC} constraints, ${stream.length} sample objects (library suites' cases without inventory), every object reviewed against every constraint`);
  o.out(`  Portcullis: ${(ours / 1000).toFixed(1)} µs CPU per review = ${(1e9 / ours).toFixed(0)} reviews per CPU second; ${violationsPerPass} violations per pass`);
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
      o.out(`  reviews per CPU second, Portcullis ÷ gator: ${res.ratio.toFixed(2)}`);
    }
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
  streamBench({ quick: process.env.BENCH_QUICK === "1", out: (s) => console.log(s), log: (s) => console.error(s) }).then(
    () => process.exit(0),
    (e) => {
      console.error(`gatekeeper bench: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
