// has(variables.<name>) is charged as the interpreter charges it (1 + a tenth of the size of the
// `variables` map and of the field name), whether the map is made (bindings without slots, or
// @bufbuild/cel's interpreter) or its size comes with the bindings (VARIABLE_COUNT: the driver's).
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, CostMeter, PER_CALL_LIMIT, lazyMap, useFastEvaluator, VARIABLE_SLOTS, VARIABLE_COUNT } from "../../../src/gatekeeper/cel/engine.ts";

const names = ["anyObject", "params", "x", "longer_variable_name_here", "x"]; // a redefined name counts twice, as in the driver's map
const slots = new Map([["anyObject", 0], ["params", 1], ["x", 2], ["longer_variable_name_here", 3]]);
const decl = { vars: new Set(["variables"]), fields: new Map([["variables", new Set(slots.keys())]]), slots };
const values = [null, null, 7n, "v"];
const variablesMap = () => lazyMap(names, slots, (n) => values[slots.get(n)!]);

function used(source: string, bindings: Record<string | symbol, unknown>, fast: boolean): { value: unknown; used: number } {
  useFastEvaluator(fast);
  try {
    const p = compile(source, decl);
    const m = new CostMeter(PER_CALL_LIMIT);
    return { value: p.eval(bindings as Record<string, unknown>, m), used: m.used };
  } finally {
    useFastEvaluator(true);
  }
}

test("has(variables.x): the same value and cost with the map made, with its size given, and on @bufbuild/cel", () => {
  for (const source of ["has(variables.x)", "has(variables.longer_variable_name_here) && has(variables.x)", "[1, 2, 3].all(i, has(variables.x))"]) {
    const viaMap = used(source, { variables: variablesMap() }, true);
    const viaInterpreter = used(source, { variables: variablesMap() }, false);
    const viaCount = used(source, { variables: variablesMap(), [VARIABLE_SLOTS]: (s: number) => values[s], [VARIABLE_COUNT]: names.length }, true);
    assert.equal(viaMap.value, true, source);
    assert.deepEqual(viaCount, viaMap, source);
    assert.deepEqual(viaInterpreter, viaMap, source);
  }
});
