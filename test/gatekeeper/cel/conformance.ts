// The cel-spec conformance subset ValidatingAdmissionPolicy uses, run through a CEL
// implementation: readers for the tests (the text-format protobuf of
// github.com/google/cel-spec's tests/simple/testdata/*.textproto, and the same tests as
// @bufbuild/cel-spec bundles them, protobuf JSON) and a runner that compares each result with
// the expected value.
// Tests whose expected value or bindings are protobuf messages (object_value), enums, or that
// need a declared type environment the implementation cannot express are counted as skipped.

export type Msg = { [field: string]: unknown[] };

/** A text-format protobuf message: fields to lists of values (scalars or nested Msg). */
export function parseTextproto(src: string): Msg {
  let i = 0;
  const ws = () => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i])) i++;
      if (src[i] === "#") {
        while (i < src.length && src[i] !== "\n") i++;
        continue;
      }
      return;
    }
  };
  const str = (): string => {
    const bytes: number[] = [];
    while (true) {
      ws();
      const q = src[i];
      if (q !== '"' && q !== "'") break;
      i++;
      while (src[i] !== q) {
        if (i >= src.length) throw new Error("unterminated string");
        let c = src[i++];
        if (c === "\\") {
          c = src[i++];
          const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, "\\": 92, "'": 39, '"': 34, "?": 63 };
          if (c in simple) bytes.push(simple[c]);
          else if (/[0-7]/.test(c)) {
            let o = c;
            while (o.length < 3 && /[0-7]/.test(src[i])) o += src[i++];
            bytes.push(parseInt(o, 8));
          } else if (c === "x") {
            let h = "";
            while (h.length < 2 && /[0-9a-fA-F]/.test(src[i])) h += src[i++];
            bytes.push(parseInt(h, 16));
          } else if (c === "u" || c === "U") {
            const n = c === "u" ? 4 : 8;
            const cp = parseInt(src.slice(i, i + n), 16);
            i += n;
            bytes.push(...Buffer.from(String.fromCodePoint(cp), "utf8"));
          } else throw new Error(`bad escape \\${c}`);
        } else bytes.push(...Buffer.from(c, "utf8"));
      }
      i++;
    }
    return Buffer.from(bytes).toString("latin1");
  };
  const ident = (): string => {
    ws();
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i, i + 200));
    if (!m) throw new Error(`expected a name at ${i}: ${src.slice(i, i + 30)}`);
    i += m[0].length;
    return m[0];
  };
  const message = (close: string | null): Msg => {
    const out: Msg = {};
    for (;;) {
      ws();
      if (i >= src.length) {
        if (close) throw new Error("unexpected end");
        return out;
      }
      if (close && src[i] === close) {
        i++;
        return out;
      }
      let name: string;
      if (src[i] === "[") {
        const j = src.indexOf("]", i);
        name = src.slice(i, j + 1);
        i = j + 1;
      } else name = ident();
      ws();
      if (src[i] === ":") {
        i++;
        ws();
      }
      const values: unknown[] = [];
      const one = () => {
        ws();
        if (src[i] === "{" || src[i] === "<") {
          const c = src[i++] === "{" ? "}" : ">";
          values.push(message(c));
        } else if (src[i] === '"' || src[i] === "'") values.push({ $bytes: str() });
        else {
          const m = /^[-+A-Za-z0-9_.]+/.exec(src.slice(i, i + 100));
          if (!m) throw new Error(`bad value at ${i}: ${src.slice(i, i + 30)}`);
          i += m[0].length;
          values.push(m[0]);
        }
      };
      if (src[i] === "[") {
        i++;
        for (;;) {
          ws();
          if (src[i] === "]") {
            i++;
            break;
          }
          one();
          ws();
          if (src[i] === ",") i++;
        }
      } else one();
      ws();
      if (src[i] === "," || src[i] === ";") i++;
      (out[name] ??= []).push(...values);
    }
  };
  return message(null);
}

/** An expected CEL value, independent of any implementation. */
export type Expected =
  | { t: "int" | "uint"; v: bigint }
  | { t: "double"; v: number }
  | { t: "string"; v: string }
  | { t: "bytes"; v: Uint8Array }
  | { t: "bool"; v: boolean }
  | { t: "null" }
  | { t: "list"; v: Expected[] }
  | { t: "map"; v: [Expected, Expected][] }
  | { t: "type"; v: string };

export class Unsupported extends Error {}

const first = (m: Msg, k: string): unknown => m[k]?.[0];
const bytesOf = (v: unknown): Buffer => Buffer.from((v as { $bytes: string }).$bytes, "latin1");

export function expectedValue(m: Msg): Expected {
  const k = Object.keys(m)[0];
  const v = first(m, k);
  switch (k) {
    case "int64_value":
      return { t: "int", v: BigInt(v as string) };
    case "uint64_value":
      return { t: "uint", v: BigInt(v as string) };
    case "double_value": {
      const s = String(v).toLowerCase();
      return { t: "double", v: s === "inf" || s === "infinity" ? Infinity : s === "-inf" || s === "-infinity" ? -Infinity : s === "nan" ? NaN : Number(s) };
    }
    case "string_value":
      return { t: "string", v: bytesOf(v).toString("utf8") };
    case "bytes_value":
      return { t: "bytes", v: new Uint8Array(bytesOf(v)) };
    case "bool_value":
      return { t: "bool", v: v === "true" };
    case "null_value":
      return { t: "null" };
    case "type_value":
      return { t: "type", v: bytesOf(v).toString("utf8") };
    case "list_value":
      return { t: "list", v: ((v as Msg).values ?? []).map((x) => expectedValue(x as Msg)) };
    case "map_value":
      return { t: "map", v: ((v as Msg).entries ?? []).map((e) => [expectedValue(first(e as Msg, "key") as Msg), expectedValue(first(e as Msg, "value") as Msg)]) };
    case undefined:
      throw new Unsupported("empty value");
    default:
      throw new Unsupported(`value kind ${k}`);
  }
}

export interface ConformanceCase {
  file: string;
  section: string;
  name: string;
  expr: string;
  bindings: Record<string, Expected>;
  /** The expected value, or "error" for eval_error, "any" when only evaluation success is asked. */
  expect: Expected | "error";
  disableCheck: boolean;
}

export function casesOf(file: string, text: string): { cases: ConformanceCase[]; skipped: number } {
  const root = parseTextproto(text);
  const cases: ConformanceCase[] = [];
  let skipped = 0;
  for (const sec of (root.section ?? []) as Msg[]) {
    for (const t of (sec.test ?? []) as Msg[]) {
      const name = bytesOf(first(t, "name")).toString("utf8");
      try {
        if (first(t, "check_only") === "true" || t.typed_result || t.container || t.type_env || t.deduced_type) throw new Unsupported("type environment or check-only");
        const bindings: Record<string, Expected> = {};
        for (const b of (t.bindings ?? []) as Msg[]) {
          const key = bytesOf(first(b, "key")).toString("utf8");
          const val = first(first(b, "value") as Msg, "value") as Msg | undefined;
          if (!val) throw new Unsupported("binding without value");
          bindings[key] = expectedValue(val);
        }
        let expect: Expected | "error";
        if (t.eval_error || t.any_eval_errors) expect = "error";
        else if (t.value) expect = expectedValue(first(t, "value") as Msg);
        else if (t.unknown || t.any_unknowns) throw new Unsupported("unknowns");
        else expect = { t: "bool", v: true };
        cases.push({ file, section: bytesOf(first(sec, "name")).toString("utf8"), name, expr: bytesOf(first(t, "expr")).toString("utf8"), bindings, expect, disableCheck: first(t, "disable_check") === "true" });
      } catch (e) {
        if (e instanceof Unsupported) skipped++;
        else throw e;
      }
    }
  }
  return { cases, skipped };
}

/** One implementation under test: evaluates an expression with bindings; returns a normalised value or throws. */
export interface Implementation {
  name: string;
  /** Expected → the implementation's input value. */
  input(e: Expected): unknown;
  /** Evaluate; a thrown error or an error result means "error". */
  run(expr: string, bindings: Record<string, unknown>): unknown;
  /** The implementation's value → Expected (throw Unsupported when it cannot be read). */
  read(v: unknown): Expected;
}

export function equalExpected(a: Expected, b: Expected): boolean {
  if (a.t !== b.t) return false;
  switch (a.t) {
    case "int":
    case "uint":
    case "bool":
    case "string":
    case "type":
      return a.v === (b as typeof a).v;
    case "double":
      return Number.isNaN(a.v) ? Number.isNaN((b as typeof a).v) : Object.is(a.v, (b as typeof a).v) || (a.v === 0 && (b as typeof a).v === 0);
    case "bytes":
      return Buffer.from(a.v).equals(Buffer.from((b as typeof a).v));
    case "null":
      return true;
    case "list": {
      const bv = (b as typeof a).v;
      return a.v.length === bv.length && a.v.every((x, i) => equalExpected(x, bv[i]));
    }
    case "map": {
      const bv = (b as typeof a).v;
      return a.v.length === bv.length && a.v.every(([k, v]) => bv.some(([k2, v2]) => equalExpected(k, k2) && equalExpected(v, v2)));
    }
  }
}

export interface Tally {
  pass: number;
  fail: number;
  skipped: number;
  failures: string[];
}

export function runCases(impl: Implementation, cases: ConformanceCase[]): Tally {
  const tally: Tally = { pass: 0, fail: 0, skipped: 0, failures: [] };
  for (const c of cases) {
    let got: Expected | "error";
    let detail = "";
    try {
      const bindings: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(c.bindings)) bindings[k] = impl.input(v);
      got = impl.read(impl.run(c.expr, bindings));
    } catch (e) {
      if (e instanceof Unsupported) {
        tally.skipped++;
        continue;
      }
      got = "error";
      detail = String((e as Error)?.message ?? e).split("\n")[0];
    }
    const ok = c.expect === "error" ? got === "error" : got !== "error" && equalExpected(c.expect, got);
    if (ok) tally.pass++;
    else {
      tally.fail++;
      tally.failures.push(`${c.file}/${c.section}/${c.name}: ${c.expr} → ${got === "error" ? `error ${detail}` : JSON.stringify(got, (_, x) => (typeof x === "bigint" ? `${x}n` : x))}`);
    }
  }
  return tally;
}

/** The files of the subset VAP uses. */
export const VAP_SUBSET = ["basic", "comparisons", "logic", "lists", "macros", "macros2", "string", "string_ext", "fields", "conversions", "timestamps", "optionals", "integer_math", "fp_math"];

/** A protobuf-JSON Value of a bundled test (int64Value: "1", listValue: {values: […]}, …) as Expected. */
export function expectedFromJSON(v: Record<string, any>): Expected {
  const k = Object.keys(v)[0];
  const x = v[k];
  switch (k) {
    case "int64Value":
      return { t: "int", v: BigInt(x) };
    case "uint64Value":
      return { t: "uint", v: BigInt(x) };
    case "doubleValue":
      return { t: "double", v: typeof x === "number" ? x : x === "Infinity" ? Infinity : x === "-Infinity" ? -Infinity : Number(x) };
    case "stringValue":
      return { t: "string", v: x };
    case "bytesValue":
      return { t: "bytes", v: new Uint8Array(Buffer.from(x, "base64")) };
    case "boolValue":
      return { t: "bool", v: x };
    case "nullValue":
      return { t: "null" };
    case "typeValue":
      return { t: "type", v: x };
    case "listValue":
      return { t: "list", v: (x.values ?? []).map(expectedFromJSON) };
    case "mapValue":
      return { t: "map", v: (x.entries ?? []).map((e: Record<string, any>) => [expectedFromJSON(e.key), expectedFromJSON(e.value)]) };
    default:
      throw new Unsupported(`value kind ${k}`);
  }
}

/** The cases of one bundled file (@bufbuild/cel-spec's testdata/conformance: suites by file, then section). */
export function casesFromBundled(file: { name: string; suites?: { name: string; tests?: { original: Record<string, any> }[] }[] }, withTypeEnv = false): { cases: ConformanceCase[]; skipped: number } {
  const cases: ConformanceCase[] = [];
  let skipped = 0;
  for (const sec of file.suites ?? []) {
    for (const { original: t } of sec.tests ?? []) {
      try {
        // withTypeEnv: run the tests that declare their variables' types on their bindings alone
        if (t.checkOnly || t.typedResult || t.container || (t.typeEnv && !withTypeEnv) || t.deducedType) throw new Unsupported("type environment or check-only");
        const bindings: Record<string, Expected> = {};
        for (const [key, b] of Object.entries((t.bindings ?? {}) as Record<string, any>)) {
          if (!b.value) throw new Unsupported("binding without value");
          bindings[key] = expectedFromJSON(b.value);
        }
        let expect: Expected | "error";
        if (t.evalError || t.anyEvalErrors) expect = "error";
        else if (t.value) expect = expectedFromJSON(t.value);
        else if (t.unknown || t.anyUnknowns) throw new Unsupported("unknowns");
        else expect = { t: "bool", v: true };
        cases.push({ file: file.name, section: sec.name, name: t.name, expr: t.expr, bindings, expect, disableCheck: t.disableCheck === true });
      } catch (e) {
        if (e instanceof Unsupported) skipped++;
        else throw e;
      }
    }
  }
  return { cases, skipped };
}
