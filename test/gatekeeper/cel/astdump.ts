// A canonical dump of a parsed CEL expression, in the shape of the cel-go oracle's dump
// (celgo-parser/main.go, run by record-parser.ts): node ids, code point offsets, constants as
// text; and the answers (tree hash or error text) the parser tests compare.
import { createHash } from "node:crypto";
import { formatFloat } from "../../../src/gotext/fmt.ts";
import { parseCel, CelParseError, displayError, type Expr, type ParsedExpr } from "../../../src/gatekeeper/cel/parser.ts";

export function dumpParsed(p: ParsedExpr, source: string): unknown {
  // cel-go's offsets count code points; ours count UTF-16 code units.
  const cpOffset = (o: number) => Array.from(source.slice(0, o)).length;
  const off = (id: bigint) => cpOffset(p.sourceInfo.positions[String(id)] ?? 0);
  const dump = (e: Expr): Record<string, unknown> => {
    const m: Record<string, unknown> = { id: Number(e.id), off: off(e.id) };
    const k = e.exprKind;
    switch (k.case) {
      case "constExpr": {
        const c = k.value.constantKind;
        switch (c.case) {
          case "int64Value":
            m.const = `int64:${c.value}`;
            break;
          case "uint64Value":
            m.const = `uint64:${c.value}`;
            break;
          case "doubleValue":
            m.const = `double:${formatFloat(c.value, "g", -1)}`;
            break;
          case "stringValue":
            m.const = `string:${c.value}`;
            break;
          case "bytesValue":
            m.const = `bytes:${Buffer.from(c.value).toString("hex")}`;
            break;
          case "boolValue":
            m.const = `bool:${c.value}`;
            break;
          case "nullValue":
            m.const = "null";
            break;
        }
        break;
      }
      case "identExpr":
        m.ident = k.value.name;
        break;
      case "selectExpr":
        m.select = k.value.field;
        m.test = k.value.testOnly;
        m.operand = dump(k.value.operand);
        break;
      case "callExpr":
        m.call = k.value.function;
        if (k.value.target) m.target = dump(k.value.target);
        m.args = k.value.args.map(dump);
        break;
      case "listExpr":
        m.list = k.value.elements.map(dump);
        m.opt = k.value.optionalIndices;
        break;
      case "structExpr":
        if (k.value.messageName === "") {
          m.map = k.value.entries.map((en) => ({ id: Number(en.id), off: off(en.id), key: dump(en.keyKind.value as Expr), value: dump(en.value), opt: en.optionalEntry }));
        } else {
          m.struct = k.value.messageName;
          m.fields = k.value.entries.map((en) => ({ id: Number(en.id), off: off(en.id), field: en.keyKind.value, value: dump(en.value), opt: en.optionalEntry }));
        }
        break;
      case "comprehensionExpr": {
        const c = k.value;
        Object.assign(m, { iterVar: c.iterVar, iterVar2: c.iterVar2, accuVar: c.accuVar, range: dump(c.iterRange), init: dump(c.accuInit), cond: dump(c.loopCondition), step: dump(c.loopStep), result: dump(c.result) });
        break;
      }
    }
    return m;
  };
  return dump(p.expr);
}

/** Deep equality of two dumps with object keys in any order. */
export function sameDump(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => sameDump(x, (b as unknown[])[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).filter((k) => (a as any)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as any)[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameDump((a as any)[k], (b as any)[k]));
  }
  return false;
}

/** JSON with object keys sorted (the oracle's Go maps print sorted; ours must compare equal). */
export function canonical(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === "object") {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) if ((x as Record<string, unknown>)[k] !== undefined) o[k] = sort((x as Record<string, unknown>)[k]);
      return o;
    }
    return x;
  };
  return JSON.stringify(sort(v));
}

/** A short hash (16 hex digits of SHA-256) naming an expression or a tree in the recording. */
export function shortHash(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 16);
}

/** A parse's answer: the hash of its tree's dump, or its error text (cel-go's display form). */
export type ParseAnswer = { tree: string } | { error: string };

/** Portcullis's answer for an expression (the first error only: cel-go goes on and may list more). */
export function ourAnswer(expr: string, identEscape: boolean): ParseAnswer {
  try {
    return { tree: shortHash(canonical(dumpParsed(parseCel(expr, { identEscape }), expr))) };
  } catch (e) {
    if (e instanceof CelParseError) return { error: e.issues.map((i) => displayError(expr, i.offset, i.message)).join("\n") };
    throw e;
  }
}

/** Whether our answer is cel-go's: the same tree, or the same first error. */
export function sameAnswer(ours: ParseAnswer, celGo: ParseAnswer): boolean {
  if ("tree" in ours || "tree" in celGo) return "tree" in ours && "tree" in celGo && ours.tree === celGo.tree;
  const first = ours.error.split("\n").slice(0, 3).join("\n");
  return celGo.error === ours.error || celGo.error.startsWith(`${first}\nERROR: `) || (!first.includes("\n") && celGo.error.startsWith(`${first}\n`));
}
