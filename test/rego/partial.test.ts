// Partial evaluation (src/rego/partial.ts) against answers recorded from OPA 1.19:
// `opa eval --partial --format json` and `--format pretty` on test/rego/fixtures/partial/*.rego
// and data.json (cases.json: query, unknowns, --disable-inlining, OPA's JSON and table).
// Residual queries are also checked for equivalence: for sample inputs, the original query is
// defined exactly when one of the residual queries (with the support modules) is.
// With OPA installed (~/go/bin/opa or OPA_BIN), a sample of the cases is compared live too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync, writeFileSync, mkdtempSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { homedir, tmpdir } from "node:os";
import { Engine, type RawResult } from "../../src/engine/index.ts";
import { partialEval, partialJSON, queryText, supportModuleText, PartialUnsupported } from "../../src/rego/partial.ts";
import { formatPartial } from "../../src/output/partialresults.ts";
import { RegoError } from "../../src/rego/errors.ts";

const dir = join(import.meta.dirname, "fixtures", "partial");
const FILES = ["example.rego", "filter.rego", "sets.rego", "blog.rego"];
interface Case {
  query: string;
  unknowns: string[];
  disableInlining: string[];
  opa: { partial?: unknown; errors?: { code: string; message: string }[] };
  pretty: string | null;
  /** The known input (absent: none). */
  input?: unknown;
}
const cases: Case[] = JSON.parse(readFileSync(join(dir, "cases.json"), "utf8"));
const data = JSON.parse(readFileSync(join(dir, "data.json"), "utf8"));

function engine(extra: { file: string; source: string }[] = []): Engine {
  const e = new Engine();
  for (const f of FILES) e.addModule(f, readFileSync(join(dir, f), "utf8"));
  for (const m of extra) e.addModule(m.file, m.source);
  e.setData(data);
  return e;
}

function ours(e: Engine, c: Case): { json: unknown; pretty: string | null } {
  try {
    const r = partialEval(e, c.query, { unknowns: c.unknowns, disableInlining: c.disableInlining, input: c.input });
    return { json: { partial: partialJSON(r, "modules") }, pretty: formatPartial(r, "pretty") };
  } catch (x) {
    if (x instanceof RegoError && !(x instanceof PartialUnsupported)) return { json: { errors: x.errors.map((d) => ({ code: d.code, message: d.message })) }, pretty: null };
    throw x;
  }
}

function opaShape(c: Case): unknown {
  return c.opa.errors ? { errors: c.opa.errors.map((d) => ({ code: d.code, message: d.message })) } : c.opa;
}

test("partial evaluation: the recorded OPA answers (JSON and pretty table), all of them", () => {
  const e = engine();
  assert.ok(cases.length >= 120, `${cases.length} cases`);
  const diffs: string[] = [];
  for (const c of cases) {
    const got = ours(e, c);
    if (JSON.stringify(got.json) !== JSON.stringify(opaShape(c))) diffs.push(`${c.query} (-u ${c.unknowns}): ${JSON.stringify(got.json).slice(0, 300)}`);
    else if (c.pretty !== null && got.pretty !== null && got.pretty !== c.pretty) diffs.push(`${c.query}: pretty\n${got.pretty}\nwant\n${c.pretty}`);
  }
  assert.equal(diffs.length, 0, diffs.join("\n"));
});

// Inputs for the equivalence check: the fields the fixture policies read, in several combinations.
const INPUTS: unknown[] = [
  {},
  { x: 1, y: 2, z: 3, w: 3, a: 2, b: 2, c: 3, d: "eng", n: 5, m: 2, total: 3, name: "bob", s: "xay" },
  { x: "a", y: "eng", a: [1], xs: [2, 3], m: { k: 1 }, n: -1, dept: "ops", role: "admin", user: "alice", u: "alice", r: "admin" },
  { method: "GET", path: ["salary", "bob"], subject: { user: "bob" }, user: { name: "bob", role: "user", active: true }, resource: { owner: "bob" } },
  { subject: { is_admin: true }, user: { role: "admin" }, amount: 11, tags: ["prod"], employee: { dept: "eng" }, kind: "Pod", bad: true },
  { xs: ["eng", "a"], labels: { xa: 1, yb: 1 }, kind: "Job", bad: false, a: { b: 2, c: 2 }, x: [1, 5] },
  { x: "b", role: "user", user: "bob", d: "ops", n: 1, xs: [], m: { k: 2 }, a: { b: { c: 1 } }, total: 3 },
];

/** A query is true when it has a result none of whose expressions is false (a lone comparison answers `false`). */
function defined(e: Engine, query: string, input: unknown): boolean {
  const rows = e.queryRaw(query, { input }) as RawResult[];
  return rows.some((r) => r.expressions.every((x) => x !== false));
}

test("partial evaluation: residual queries are equivalent to the query on sample inputs", () => {
  const e = engine();
  let checked = 0;
  for (const c of cases) {
    if (c.unknowns.join() !== "input" || c.opa.errors || c.input !== undefined) continue;
    const r = partialEval(e, c.query, { unknowns: c.unknowns, disableInlining: c.disableInlining });
    const support = r.support.map((m, i) => ({ file: `support${i}.rego`, source: supportModuleText(m) }));
    const withSupport = support.length > 0 ? engine(support) : e;
    for (const input of INPUTS) {
      const want = defined(e, c.query, input);
      const got = r.queries.some((q) => defined(withSupport, q.length === 0 ? "true" : queryText(q).replace(/\n/g, "; "), input));
      assert.equal(got, want, `${c.query} on ${JSON.stringify(input)}: residual ${r.queries.map(queryText).join(" | ")}`);
      checked++;
    }
  }
  assert.ok(checked >= 500, `${checked} checks`);
});

test("partial evaluation: constructs outside the evaluator are refused, never answered", () => {
  const e = engine();
  assert.throws(() => partialEval(e, "data.s.ok with input.a as 1"), PartialUnsupported);
  assert.throws(() => partialEval(e, "data.s.m == input.m"), PartialUnsupported);
});

const OPA = process.env.OPA_BIN ?? join(homedir(), "go", "bin", "opa");
test("partial evaluation: a sample compared with a live OPA", { skip: existsSync(OPA) ? false : `no OPA at ${OPA}` }, () => {
  const e = engine();
  const tmp = mkdtempSync(join(tmpdir(), "pc-partial-"));
  for (const c of cases.filter((_, i) => i % 11 === 0 || i >= 110)) {
    const args = ["eval", ...FILES.flatMap((f) => ["-d", join(dir, f)]), "-d", join(dir, "data.json"), "-p", "--format", "json"];
    for (const u of c.unknowns) args.push("-u", u);
    for (const d of c.disableInlining) args.push("--disable-inlining", d);
    if (c.input !== undefined) {
      writeFileSync(join(tmp, "input.json"), JSON.stringify(c.input));
      args.push("--input", join(tmp, "input.json"));
    }
    let text: string;
    try {
      text = execFileSync(OPA, [...args, c.query], { encoding: "utf8" });
    } catch (x) {
      text = (x as { stdout: string }).stdout;
    }
    const live = JSON.parse(text) as Case["opa"];
    assert.equal(JSON.stringify(ours(e, c).json), JSON.stringify(opaShape({ ...c, opa: live })), c.query);
  }
});

test("a query nested past the JavaScript stack is the coded 'nested too deeply' error, not a crash", () => {
  const e = new Engine();
  const n = 20000;
  const deep = `x := ${"[".repeat(n)}input.a${"]".repeat(n)}`;
  assert.throws(
    () => partialEval(e, deep, { unknowns: ["input"] }),
    (err: unknown) => err instanceof RegoError && err.errors[0].code === "eval_cancel_error" && /nested too deeply/.test(err.errors[0].message),
  );
  // a shallow one still answers
  assert.equal(partialEval(e, `x := [[input.a]]`, { unknowns: ["input"] }).queries.length, 1);
});
