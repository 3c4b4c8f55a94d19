// The bench harness (bench/): CPU measurement of one tiny workload, the answer check that keeps
// a bench from comparing different answers, the table shape, and `npm run bench` end to end on
// one family without peers (BENCH_QUICK). The OPA peer's answer for the tiny workload is recorded
// below (OPA 1.19.0 through bench/peers/opa); when the peer is already built, it is run too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { measure, QUICK_OPTIONS, type MeasureOptions } from "../../bench/lib/measure.ts";
import { PortcullisRunner, JsonParseRunner, PeerRunner, type Runner, type RunResult } from "../../bench/lib/runners.ts";
import { familyTable, scalingTable, slope } from "../../bench/lib/report.ts";
import { agree, type Workload } from "../../bench/lib/workload.ts";
import { cachedPeer } from "../../bench/lib/peers.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const TINY: Workload = {
  id: "tiny",
  family: "tiny",
  name: "names of team a, members per team",
  modules: [
    {
      file: "t.rego",
      source: `package t

names contains n if {
  some item in input.items
  item.team == "a"
  n := item.name
}

by_team := {team: [m.name | some m in input.items; m.team == team] | some team in {"a", "b"}}
`,
    },
  ],
  regoVersion: "v1",
  input: { items: [{ name: "x", team: "a" }, { name: "y", team: "b" }, { name: "z", team: "a" }] },
  query: "data.t.names[n]; x := data.t.by_team",
};

// OPA 1.19.0's answer (bench/peers/opa runner), recorded.
const OPA_ANSWER = [
  { n: "x", x: { a: ["x", "z"], b: ["y"] } },
  { n: "z", x: { a: ["x", "z"], b: ["y"] } },
];

const FAST: MeasureOptions = { ...QUICK_OPTIONS, rounds: 2, batchMs: 2, warmMs: 2 };

/** A runner answering a fixed result (another engine's answer, without its process). */
class Fixed implements Runner {
  constructor(
    readonly name: string,
    private answer: unknown,
  ) {}
  async run(_w: Workload, n: number): Promise<RunResult> {
    let s = 0;
    for (let i = 0; i < n * 100; i++) s += i;
    return { ns: 1000 + (s % 2), result: this.answer };
  }
  async close(): Promise<void> {}
}

test("Portcullis answers what OPA answers on the tiny workload; the harness times all engines", async () => {
  const ref = new PortcullisRunner();
  const parse = new JsonParseRunner();
  const opa = new Fixed("OPA", OPA_ANSWER);
  const m = await measure(TINY, ref, [parse, opa], FAST, new Set<Runner>([opa]));
  const p = m.figures.Portcullis;
  assert.equal(p.skipped, undefined);
  assert.ok(p.ns !== undefined && p.ns > 0, "Portcullis has a CPU figure");
  assert.equal(p.rounds?.length, FAST.rounds);
  assert.ok((m.figures["JSON.parse"].ns ?? 0) > 0);
  assert.equal(m.figures.OPA.agreement, "same");
  assert.equal(m.figures.OPA.ns, 1000);
  const first = await ref.run(TINY, 1);
  assert.equal(agree(first.result, OPA_ANSWER), "same");
});

test("an engine whose answer differs is not timed, so no ratio compares different answers", async () => {
  const wrong = new Fixed("Wrong", [{ n: "x", x: { a: ["x"], b: ["y"] } }]);
  const reordered = new Fixed("Sets", [{ n: "z", x: { a: ["z", "x"], b: ["y"] } }, { n: "x", x: { a: ["x", "z"], b: ["y"] } }]);
  const m = await measure(TINY, new PortcullisRunner(), [wrong, reordered], FAST, new Set<Runner>([wrong, reordered]));
  assert.match(m.figures.Wrong.skipped ?? "", /^answer differs from Portcullis/);
  assert.equal(m.figures.Wrong.ns, undefined);
  // Arrays in another order agree only as multisets: timed, and marked as such.
  assert.equal(m.figures.Sets.agreement, "order");
  const lines: string[] = [];
  const s = familyTable("tiny", [m], ["Wrong", "Sets"], (l) => lines.push(l));
  assert.equal(s.peers.Wrong, undefined);
  assert.ok(s.peers.Sets !== undefined && s.peers.Sets > 0);
  assert.match(lines[1], /^workload +Portcullis µs +JSON\.parse µs +÷parse +Wrong µs +÷Wrong +Sets µs +÷Sets$/);
  assert.match(lines[2], / differs /);
  assert.match(lines[2], /°$/);
  assert.match(lines[3], /^geomean /);
  assert.ok(lines.some((l) => /Wrong: answer differs/.test(l)));
});

test("the Portcullis runner evaluates with the library it is given (dist/ in npm run bench)", async () => {
  const src = await import("../../src/index.ts");
  let made = 0;
  class Counted extends src.Engine {
    constructor(o?: ConstructorParameters<typeof src.Engine>[0]) {
      super(o);
      made++;
    }
  }
  const r = await new PortcullisRunner({ ...src, Engine: Counted }).run(TINY, 3);
  assert.equal(made, 1);
  assert.equal(agree(r.result, OPA_ANSWER), "same");
});

test("an engine's error is reported, not timed", async () => {
  const broken: Workload = { ...TINY, id: "broken", modules: [{ file: "b.rego", source: "package b\n\nx := 1 +\n" }], query: "data.b.x" };
  const m = await measure(broken, new PortcullisRunner(), [new JsonParseRunner()], FAST, new Set());
  assert.match(m.figures.Portcullis.skipped ?? "", /rego_parse_error/);
  assert.equal(m.figures["JSON.parse"].skipped, "Portcullis failed");
});

test("scaling table: per-size figures and the log-log slope", () => {
  assert.equal(slope(10, 1, 100, 100), 2);
  const mk = (n: number, ns: number) => ({ workload: { ...TINY, id: `s${n}`, size: n }, figures: { Portcullis: { ns } } });
  const lines: string[] = [];
  const r = scalingTable("tiny", "by n", [10, 100, 1000], [mk(10, 1e3), mk(100, 1e4), mk(1000, 1e6)], ["Portcullis"], (l) => lines.push(l));
  assert.ok(Math.abs((r.Portcullis.slope ?? 0) - 1.5) < 1e-9);
  assert.match(lines[2], /^Portcullis +1\.000 +10\.00 +1000 +1\.50 +2\.00$/);
});

test("the OPA peer agrees on the tiny workload (when bench/peers/opa is built)", async (t) => {
  const bin = cachedPeer("opa");
  if (!bin) return t.skip("the OPA peer is not built (npm run bench builds it into ~/.cache/portcullis-bench)");
  const opa = new PeerRunner("OPA", bin);
  try {
    const r = await opa.run(TINY, 2);
    assert.equal(agree(r.result, OPA_ANSWER), "same");
    assert.ok(r.ns > 0);
  } finally {
    await opa.close();
  }
});

// BENCH_SRC=1: the sources through tsx, so that the test neither needs nor rebuilds dist/.
test("npm run bench, quick, one family, no peers, on the sources: tables and JSON figures", () => {
  const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-test-")), "out.json");
  const r = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts"], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, BENCH_SRC: "1", BENCH_QUICK: "1", BENCH_PEERS: "none", BENCH_FAMILIES: "rbac", BENCH_SCALING: "0", BENCH_ROUNDS: "1", BENCH_BATCH_MS: "1", BENCH_WARM_MS: "1", BENCH_JSON: json },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Portcullis bench: CPU time per evaluation/);
  assert.match(r.stdout, /\nengines: Portcullis \(TypeScript sources through tsx, BENCH_SRC=1;/);
  assert.doesNotMatch(r.stderr, /building dist/);
  assert.match(r.stdout, /\nrbac \(3 workloads\)\n/);
  assert.match(r.stdout, /\nfamily geomeans/);
  const doc = JSON.parse(fs.readFileSync(json, "utf8"));
  assert.deepEqual(doc.peers, []);
  assert.equal(doc.tables.rbac.length, 3);
  for (const row of doc.tables.rbac) {
    assert.ok(row.figures.Portcullis.ns > 0, row.name);
    assert.ok(row.figures["JSON.parse"].ns > 0, row.name);
  }
  assert.ok(doc.summaries[0].parse > 0);
});
