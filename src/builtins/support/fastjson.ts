// The JSON reading of github.com/valyala/fastjson, which OPA's JWT signing (through jwx's jwsbb)
// uses to read the "alg" and "typ" of a raw header: its error texts, its leniency (numbers are
// not checked: `e` or `1e` is a number; `NaN` and `inf` are accepted) and its lookup (the first
// member with the key, raw keys before unescaped ones).

type FValue =
  | { t: "object"; kvs: [string, FValue][] }
  | { t: "array"; a: FValue[] }
  | { t: "rawstring"; s: string }
  | { t: "number" | "true" | "false" | "null" };

const MAX_DEPTH = 300;

class FastjsonError extends Error {
  constructor(
    message: string,
    readonly tail: string,
  ) {
    super(message);
  }
}

function skipWS(s: string): string {
  let i = 0;
  while (i < s.length && (s[i] === " " || s[i] === "\n" || s[i] === "\t" || s[i] === "\r")) i++;
  return s.slice(i);
}

/** Go's %q of a string (enough for the tails fastjson quotes). */
function goQ(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

function startEnd(s: string): string {
  return s.length <= 80 ? s : s.slice(0, 40) + "..." + s.slice(-40);
}

function parseRawString(s: string): [string, string] {
  let n = s.indexOf('"');
  if (n < 0) throw new FastjsonError(`missing closing '"'`, "");
  if (n === 0 || s[n - 1] !== "\\") return [s.slice(0, n), s.slice(n + 1)];
  const whole = s;
  for (;;) {
    let i = n - 1;
    while (i > 0 && s[i - 1] === "\\") i--;
    if ((n - i) % 2 === 0) return [whole.slice(0, whole.length - s.length + n), s.slice(n + 1)];
    s = s.slice(n + 1);
    n = s.indexOf('"');
    if (n < 0) throw new FastjsonError(`missing closing '"'`, "");
    if (n === 0 || s[n - 1] !== "\\") return [whole.slice(0, whole.length - s.length + n), s.slice(n + 1)];
  }
}

function parseRawKey(s: string): [string, string] {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"') return [s.slice(0, i), s.slice(i + 1)];
    if (s[i] === "\\") return parseRawString(s);
  }
  throw new FastjsonError(`missing closing '"'`, "");
}

function parseRawNumber(s: string): [string, string] {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if ((ch >= "0" && ch <= "9") || ch === "." || ch === "-" || ch === "e" || ch === "E" || ch === "+") continue;
    if (i === 0 || (i === 1 && (s[0] === "-" || s[0] === "+"))) {
      const xs = s.slice(i, i + 3).toLowerCase();
      if (xs.length === 3 && (xs === "inf" || xs === "nan")) return [s.slice(0, i + 3), s.slice(i + 3)];
      throw new FastjsonError(`unexpected char: ${goQ(s.slice(0, 1))}`, s);
    }
    return [s.slice(0, i), s.slice(i)];
  }
  return [s, ""];
}

/** Wrap an inner error's message as fastjson does, keeping its tail. */
function wrap<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FastjsonError) throw new FastjsonError(prefix + e.message, e.tail);
    throw e;
  }
}

function parseValue(s: string, depth: number): [FValue, string] {
  if (s.length === 0) throw new FastjsonError("cannot parse empty string", s);
  depth++;
  if (depth > MAX_DEPTH) throw new FastjsonError(`too big depth for the nested JSON; it exceeds ${MAX_DEPTH}`, s);
  const c = s[0];
  if (c === "{") return wrap("cannot parse object: ", () => parseObject(s.slice(1), depth));
  if (c === "[") return wrap("cannot parse array: ", () => parseArray(s.slice(1), depth));
  if (c === '"') {
    const [str, tail] = wrap("cannot parse string: ", () => parseRawString(s.slice(1)));
    return [{ t: "rawstring", s: str }, tail];
  }
  for (const lit of ["true", "false", "null"] as const) {
    if (c === lit[0]) {
      if (s.startsWith(lit)) return [{ t: lit }, s.slice(lit.length)];
      if (lit === "null" && s.length >= 3 && s.slice(0, 3).toLowerCase() === "nan") return [{ t: "number" }, s.slice(3)];
      throw new FastjsonError(`unexpected value found: ${goQ(s)}`, s);
    }
  }
  const [, tail] = wrap("cannot parse number: ", () => parseRawNumber(s));
  return [{ t: "number" }, tail];
}

function parseArray(s: string, depth: number): [FValue, string] {
  s = skipWS(s);
  if (s.length === 0) throw new FastjsonError("missing ']'", s);
  if (s[0] === "]") return [{ t: "array", a: [] }, s.slice(1)];
  const a: FValue[] = [];
  for (;;) {
    s = skipWS(s);
    let v: FValue;
    [v, s] = wrap("cannot parse array value: ", () => parseValue(s, depth));
    a.push(v);
    s = skipWS(s);
    if (s.length === 0) throw new FastjsonError("unexpected end of array", s);
    if (s[0] === ",") {
      s = s.slice(1);
      continue;
    }
    if (s[0] === "]") return [{ t: "array", a }, s.slice(1)];
    throw new FastjsonError("missing ',' after array value", s);
  }
}

function parseObject(s: string, depth: number): [FValue, string] {
  s = skipWS(s);
  if (s.length === 0) throw new FastjsonError("missing '}'", s);
  if (s[0] === "}") return [{ t: "object", kvs: [] }, s.slice(1)];
  const kvs: [string, FValue][] = [];
  for (;;) {
    s = skipWS(s);
    if (s.length === 0 || s[0] !== '"') throw new FastjsonError(`cannot find opening '"" for object key`, s);
    let k: string;
    [k, s] = wrap("cannot parse object key: ", () => parseRawKey(s.slice(1)));
    s = skipWS(s);
    if (s.length === 0 || s[0] !== ":") throw new FastjsonError("missing ':' after object key", s);
    s = skipWS(s.slice(1));
    let v: FValue;
    [v, s] = wrap("cannot parse object value: ", () => parseValue(s, depth));
    kvs.push([k, v]);
    s = skipWS(s);
    if (s.length === 0) throw new FastjsonError("unexpected end of object", s);
    if (s[0] === ",") {
      s = s.slice(1);
      continue;
    }
    if (s[0] === "}") return [{ t: "object", kvs }, s.slice(1)];
    throw new FastjsonError("missing ',' after object value", s);
  }
}

/** fastjson's best-effort unescaping of keys and strings. */
function unescape(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\(u[0-9A-Fa-f]{4}(?:\\u[0-9A-Fa-f]{4})?|.)/gs, (m, esc: string) => {
    switch (esc[0]) {
      case '"':
      case "\\":
      case "/":
        return esc[0];
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "u": {
        const x = parseInt(esc.slice(1, 5), 16);
        if (x < 0xd800 || x > 0xdfff) return String.fromCharCode(x) + esc.slice(5);
        if (esc.length < 11) return "\\u" + esc.slice(1);
        const x1 = parseInt(esc.slice(7, 11), 16);
        if (x < 0xdc00 && x1 >= 0xdc00 && x1 <= 0xdfff) return String.fromCharCode(x, x1);
        return "\uFFFD";
      }
      default:
        return m;
    }
  });
}

function parse(text: string): FValue {
  const s = skipWS(text);
  let v: FValue;
  let tail: string;
  try {
    [v, tail] = parseValue(s, 0);
  } catch (e) {
    if (e instanceof FastjsonError) throw new Error(`cannot parse JSON: ${e.message}; unparsed tail: ${goQ(startEnd(e.tail))}`);
    throw e;
  }
  tail = skipWS(tail);
  if (tail.length > 0) throw new Error(`unexpected tail: ${goQ(startEnd(tail))}`);
  return v;
}

/**
 * jwsbb.HeaderGetString(HeaderParse(text), key): the string, or the error text OPA wraps
 * (a parse error, `jwsbb: header "KEY" not found`, or the member's type when not a string).
 */
export function headerGetString(text: string, key: string): { value: string } | { error: string } {
  let v: FValue;
  try {
    v = parse(text);
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (v.t !== "object") return { error: `jwsbb: header ${JSON.stringify(key)} not found` };
  let found = v.kvs.find(([k]) => k === key)?.[1];
  if (found === undefined) found = v.kvs.find(([k]) => unescape(k) === key)?.[1];
  if (found === undefined) return { error: `jwsbb: header ${JSON.stringify(key)} not found` };
  if (found.t !== "rawstring") return { error: `value doesn't contain string; it contains ${found.t}` };
  return { value: unescape(found.s) };
}
