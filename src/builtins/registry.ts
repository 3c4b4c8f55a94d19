// Helpers for builtin implementations (argument checks with OPA's messages, declaration
// builders). The builtin contract itself (Builtin, BuiltinContext, the error classes) is in the
// core, src/rego/builtin.ts, and re-exported here so category files import one place.

import type { Value } from "../rego/value.ts";
import { typeName } from "../rego/value.ts";
import { BuiltinTypeError, type TypeDecl, type FunctionDecl } from "../rego/builtin.ts";

export * from "../rego/builtin.ts";

// ---- Helpers for argument checks, with OPA's messages ---------------------------------------

/** `name: operand N must be T but got U` as OPA words it. */
export function operandError(name: string, pos: number, want: string, got: Value): BuiltinTypeError {
  return new BuiltinTypeError(`${name}: operand ${pos} must be ${want} but got ${typeName(got)}`);
}

export function expectString(name: string, pos: number, v: Value): string {
  if (typeof v !== "string") throw operandError(name, pos, "string", v);
  return v;
}

export function expectBoolean(name: string, pos: number, v: Value): boolean {
  if (typeof v !== "boolean") throw operandError(name, pos, "boolean", v);
  return v;
}

export function expectArray(name: string, pos: number, v: Value): Value[] {
  if (!Array.isArray(v)) throw operandError(name, pos, "array", v);
  return v;
}

// ---- Small declaration builders (keep category files short) ---------------------------------

export const T = {
  any: { type: "any" } as TypeDecl,
  anyOf: (...of: TypeDecl[]): TypeDecl => ({ type: "any", of }),
  null: { type: "null" } as TypeDecl,
  boolean: { type: "boolean" } as TypeDecl,
  number: { type: "number" } as TypeDecl,
  string: { type: "string" } as TypeDecl,
  arrayOf: (t: TypeDecl): TypeDecl => ({ type: "array", dynamic: t }),
  tuple: (...ts: TypeDecl[]): TypeDecl => ({ type: "array", static: ts }),
  setOf: (t: TypeDecl): TypeDecl => ({ type: "set", of: t }),
  objectOf: (key: TypeDecl, value: TypeDecl): TypeDecl => ({ type: "object", dynamic: { key, value } }),
  fn: (args: TypeDecl[], result?: TypeDecl): FunctionDecl => (result ? { type: "function", args, result } : { type: "function", args }),
};
