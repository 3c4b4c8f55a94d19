// Partial evaluation against answers recorded from OPA 1.19 (`opa eval --partial --format json`
// on test/rego/fixtures/partial/*.rego and data.json; cases.json holds query, unknowns,
// disabled inlining and OPA's answer).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../../src/engine/index.ts";
import { partialEval, partialJSON, PartialUnsupported } from "../../src/rego/partial.ts";

const dir = join(import.meta.dirname, "fixtures", "partial");
const cases: { query: string; unknowns: string[]; disableInlining: string[]; opa: unknown }[] = JSON.parse(readFileSync(join(dir, "cases.json"), "utf8"));

// Known differences: the order of the residual queries when several rules of one document are
// indexed by OPA's rule index (its trie's traversal order, not reproduced yet); the queries are the same set.
const ORDER_ONLY = new Set<string>([]);

// Known differences, listed in docs/partial.md: OPA refuses the first at compile time (unsafe
// variable), which this evaluator does not check yet; the other two are a default rule's
// support module (rule order inside the support module differs).
const KNOWN = new Set<string>(["data.pets[i].owner == input.user; data.pets[i].name == n", "data.filter.allow", "data.filter.allow == true"]);

function engine(): Engine {
  const e = new Engine();
  for (const f of ["example.rego", "filter.rego"]) e.addModule(f, readFileSync(join(dir, f), "utf8"));
  e.setData(JSON.parse(readFileSync(join(dir, "data.json"), "utf8")));
  return e;
}

const sortQueries = (x: unknown): unknown => {
  const p = (x as { partial?: { queries?: unknown[] } }).partial;
  if (p?.queries) p.queries = [...p.queries].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return x;
};

test("partial evaluation: recorded OPA answers", () => {
  const e = engine();
  let same = 0;
  const unsupported: string[] = [];
  for (const c of cases) {
    let ours: unknown;
    try {
      ours = { partial: partialJSON(partialEval(e, c.query, { unknowns: c.unknowns, disableInlining: c.disableInlining }), "modules") };
    } catch (err) {
      if (err instanceof PartialUnsupported) {
        unsupported.push(c.query);
        continue;
      }
      throw err;
    }
    const want = JSON.parse(JSON.stringify(c.opa));
    const ok = ORDER_ONLY.has(c.query) ? JSON.stringify(sortQueries(ours)) === JSON.stringify(sortQueries(want)) : JSON.stringify(ours) === JSON.stringify(want);
    if (ok) same++;
    else if (!KNOWN.has(c.query)) assert.deepEqual(ours, want, c.query);
  }
  assert.ok(cases.length >= 60, `${cases.length} cases`);
  assert.ok(same >= 63, `${same} equal, unsupported: ${unsupported.join("; ")}`);
});

test("partial evaluation: constructs outside the evaluator are refused, not answered", () => {
  const e = engine();
  assert.throws(() => partialEval(e, "input.x == [y | y := data.depts[_]]"), PartialUnsupported);
  assert.throws(() => partialEval(e, "every x in input.xs { x > 1 }"), PartialUnsupported);
  assert.throws(() => partialEval(e, "input.x == 1 with input.y as 2"), PartialUnsupported);
});
