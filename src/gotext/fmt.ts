// A formatter that follows Go's fmt package (Printf verbs, flags, width, precision, argument
// indexes and its %!verb(...) error notation), for `sprintf` and the `printf` of
// strings.render_template. Written from the documented behaviour of Go's fmt and strconv.
//
// Go values are modelled as:
//   string                   Go string
//   number (integral)        int64           number (fractional)   float64
//   bigint                   int64 when it fits, else *big.Int
//   boolean                  bool            null                  nil
//   GoNumber                 json.Number (a string type holding a number's text)
//   GoFloat                  float64 that happens to be integral
//   GoVal[]                  []interface {}  GoMap                 map[string]interface {}

export class GoNumber {
  constructor(readonly text: string) {}
}
export class GoFloat {
  constructor(readonly v: number) {}
}
/** A Go `int` (template constants). */
export class GoInt {
  constructor(readonly v: number) {}
}
export class GoMap {
  /** Entries sorted by key. */
  constructor(readonly entries: [string, GoVal][]) {}
}
export type GoVal = string | number | bigint | boolean | null | GoNumber | GoFloat | GoInt | GoVal[] | GoMap;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Go's `%T` name of a value. */
export function goTypeName(v: GoVal): string {
  switch (typeof v) {
    case "string":
      return "string";
    case "number":
      return Number.isInteger(v) ? "int64" : "float64";
    case "bigint":
      return v >= INT64_MIN && v <= INT64_MAX ? "int64" : "*big.Int";
    case "boolean":
      return "bool";
  }
  if (v === null) return "<nil>";
  if (v instanceof GoNumber) return "json.Number";
  if (v instanceof GoFloat) return "float64";
  if (v instanceof GoInt) return "int";
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]interface {}";
}

// ---- Unicode helpers -------------------------------------------------------------------------

// Made on first use: a regular expression of Unicode classes costs ~0.7 ms to create (start-up).
let printRE: RegExp | undefined;
const printCache = new Map<number, boolean>();

// Characters the JS engine's Unicode knows as assigned but Go's (Unicode 15.0) does not: Go
// treats them as unprintable (and %q escapes them). Hex ranges.
let newerThanGoRanges: number[] | undefined;
const newerThanGoTable = (): number[] => (newerThanGoRanges ??= (
  "88f 897 c5c cdc 1acf-1add 1ae0-1aeb 1b4e-1b4f 1b7f 1c89-1c8a 20c1 2427-2429 2b96 2ffc-2fff 31e4-31e5 31ef " +
  "a7cb-a7cf a7d2 a7d4 a7da-a7dc a7f1 fbc3-fbd2 fd90-fd91 fdc8-fdce 105c0-105f3 10940-10959 10d40-10d65 " +
  "10d69-10d85 10d8e-10d8f 10ec2-10ec7 10ed0-10ed8 10efa-10efc 11380-11389 1138b 1138e 11390-113b5 " +
  "113b7-113c0 113c2 113c5 113c7-113ca 113cc-113d5 113d7-113d8 113e1-113e2 116d0-116e3 11b60-11b67 " +
  "11bc0-11be1 11bf0-11bf9 11db0-11ddb 11de0-11de9 11f5a 13460-143fa 16100-16139 16d40-16d79 16ea0-16eb8 " +
  "16ebb-16ed3 16ff2-16ff6 187f8-187ff 18cff 18d09-18d1e 18d80-18df2 1cc00-1ccfc 1cd00-1ceb3 1ceba-1ced0 " +
  "1cee0-1cef0 1e5d0-1e5fa 1e5ff 1e6c0-1e6de 1e6e0-1e6f5 1e6fe-1e6ff 1f6d8 1f777-1f77a 1f8b2-1f8bb " +
  "1f8c0-1f8c1 1f8d0-1f8d8 1fa54-1fa57 1fa89-1fa8a 1fa8e-1fa8f 1fabe 1fac6 1fac8 1facd 1fadc 1fadf " +
  "1fae9-1faea 1faef 1fbcb-1fbef 1fbfa 2b73a-2b73f 2cea2-2cead 2ebf0-2ee5d"
)
  .split(" ")
  .flatMap((r) => {
    const [a, b] = r.split("-");
    return [parseInt(a, 16), parseInt(b ?? a, 16)];
  }));

function newerThanGo(cp: number): boolean {
  const NEWER_THAN_GO = newerThanGoTable();
  for (let i = 0; i < NEWER_THAN_GO.length; i += 2) {
    if (cp < NEWER_THAN_GO[i]) return false;
    if (cp <= NEWER_THAN_GO[i + 1]) return true;
  }
  return false;
}

/** Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  let r = printCache.get(cp);
  if (r === undefined) {
    r = cp >= 0xd800 && cp <= 0xdfff ? false : (printRE ??= /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u).test(String.fromCodePoint(cp)) && !newerThanGo(cp);
    if (printCache.size < 4096) printCache.set(cp, r);
  }
  return r;
}

/** Number of code points in a string. */
export function runeCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** The first `n` code points of s. */
function truncateRunes(s: string, n: number): string {
  let i = 0;
  while (n > 0 && i < s.length) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
    n--;
  }
  return i >= s.length ? s : s.slice(0, i);
}

const HEX = "0123456789abcdef";

function escapeRune(cp: number, quote: number, ascii: boolean, out: string[]): void {
  if (cp === quote || cp === 0x5c) {
    out.push("\\" + String.fromCharCode(cp));
    return;
  }
  if (ascii ? cp < 0x80 && isPrint(cp) : isPrint(cp)) {
    out.push(String.fromCodePoint(cp));
    return;
  }
  switch (cp) {
    case 7:
      out.push("\\a");
      return;
    case 8:
      out.push("\\b");
      return;
    case 12:
      out.push("\\f");
      return;
    case 10:
      out.push("\\n");
      return;
    case 13:
      out.push("\\r");
      return;
    case 9:
      out.push("\\t");
      return;
    case 11:
      out.push("\\v");
      return;
  }
  if (cp < 0x20 || cp === 0x7f) out.push("\\x" + HEX[cp >> 4] + HEX[cp & 15]);
  else if (cp < 0x10000) out.push("\\u" + cp.toString(16).padStart(4, "0"));
  else out.push("\\U" + cp.toString(16).padStart(8, "0"));
}

/** Go's strconv.Quote (or QuoteToASCII). */
export function goQuote(s: string, ascii = false): string {
  let simple = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) {
      simple = false;
      break;
    }
  }
  if (simple) return '"' + s + '"';
  const out: string[] = ['"'];
  for (const ch of s) {
    let cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    escapeRune(cp, 0x22, ascii, out);
  }
  out.push('"');
  return out.join("");
}

/** Go's strconv.QuoteRune (or QuoteRuneToASCII). */
function goQuoteRune(cp: number, ascii: boolean): string {
  if (cp > 0x10ffff || cp < 0 || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  const out: string[] = ["'"];
  escapeRune(cp, 0x27, ascii, out);
  out.push("'");
  return out.join("");
}

/** Go's strconv.CanBackquote. */
function canBackquote(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x60 || c === 0xfeff) return false;
    if (c < 0x20 && c !== 9) return false;
    if (c === 0x7f) return false;
  }
  return true;
}

const utf8Encoder = new TextEncoder();

// ---- Floats (strconv.FormatFloat) -------------------------------------------------------------

interface Digits {
  d: string; // significant digits, no trailing zeros ("" for zero)
  dp: number; // decimal point position: value = 0.d × 10^dp
}

const f64 = new DataView(new ArrayBuffer(8));

function floatBits(x: number): { mant: bigint; exp: number } {
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const lo = f64.getUint32(4);
  let exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  return { mant, exp: exp - 1023 };
}

/** The exact decimal expansion of a positive finite double. */
function exactDigits(x: number): Digits {
  const { mant, exp } = floatBits(x);
  const e2 = exp - 52;
  let d: string;
  let dp: number;
  if (e2 >= 0) {
    d = (mant << BigInt(e2)).toString();
    dp = d.length;
  } else {
    d = (mant * 5n ** BigInt(-e2)).toString();
    dp = d.length + e2;
  }
  return trimDigits(d, dp);
}

function trimDigits(d: string, dp: number): Digits {
  let n = d.length;
  while (n > 0 && d.charCodeAt(n - 1) === 48) n--;
  if (n === 0) return { d: "", dp: 0 };
  return { d: n === d.length ? d : d.slice(0, n), dp };
}

/** Shortest digits that read back as x (x > 0). */
function shortestDigits(x: number): Digits {
  const s = x.toExponential();
  const e = s.indexOf("e");
  const mant = s.slice(0, e).replace(".", "");
  return trimDigits(mant, Number(s.slice(e + 1)) + 1);
}

/** Round to nd significant digits, halves to even (the digits are exact). */
function roundDigits(v: Digits, nd: number): Digits {
  const { d, dp } = v;
  if (nd < 0 || nd >= d.length) return v;
  const c = d.charCodeAt(nd);
  let up: boolean;
  if (c > 53) up = true;
  else if (c < 53) up = false;
  else if (nd + 1 < d.length) up = true; // more non-zero digits follow (d has no trailing zeros)
  else up = nd > 0 && (d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trimDigits(d.slice(0, nd), dp);
  let i = nd - 1;
  while (i >= 0 && d.charCodeAt(i) === 57) i--;
  if (i < 0) return { d: "1", dp: dp + 1 };
  return { d: d.slice(0, i) + String.fromCharCode(d.charCodeAt(i) + 1), dp };
}

function fmtE(neg: boolean, v: Digits, prec: number, ch: string): string {
  let s = neg ? "-" : "";
  s += v.d.length === 0 ? "0" : v.d[0];
  if (prec > 0) {
    s += ".";
    let frac = v.d.slice(1, 1 + prec);
    if (frac.length < prec) frac += "0".repeat(prec - frac.length);
    s += frac;
  }
  let exp = v.d.length === 0 ? 0 : v.dp - 1;
  s += ch;
  if (exp < 0) {
    s += "-";
    exp = -exp;
  } else s += "+";
  s += exp < 10 ? "0" + exp : String(exp);
  return s;
}

function fmtF(neg: boolean, v: Digits, prec: number): string {
  let s = neg ? "-" : "";
  const { d, dp } = v;
  if (dp > 0) {
    s += dp <= d.length ? d.slice(0, dp) : d + "0".repeat(dp - d.length);
  } else s += "0";
  if (prec > 0) {
    s += ".";
    for (let i = 1; i <= prec; i++) {
      const j = dp + i - 1;
      s += j >= 0 && j < d.length ? d[j] : "0";
    }
  }
  return s;
}

function fmtB(neg: boolean, x: number): string {
  const { mant, exp } = floatBits(x);
  const e = x === 0 ? -1074 : exp - 52;
  return (neg ? "-" : "") + (x === 0 ? "0" : mant.toString()) + "p" + (e >= 0 ? "+" : "-") + Math.abs(e);
}

function fmtX(neg: boolean, x: number, prec: number, ch: string): string {
  let { mant, exp } = floatBits(x);
  if (x === 0) {
    mant = 0n;
    exp = 0;
  }
  const ONE = 1n << 60n;
  mant <<= 8n;
  while (mant !== 0n && (mant & ONE) === 0n) {
    mant <<= 1n;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & (ONE - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const hex = ch === "X" ? "0123456789ABCDEF" : HEX;
  let s = (neg ? "-" : "") + "0" + ch + ((mant >> 60n) & 1n).toString();
  mant = (mant << 4n) & ((1n << 64n) - 1n);
  if (prec < 0 && mant !== 0n) {
    s += ".";
    while (mant !== 0n) {
      s += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & ((1n << 64n) - 1n);
    }
  } else if (prec > 0) {
    s += ".";
    for (let i = 0; i < prec; i++) {
      s += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & ((1n << 64n) - 1n);
    }
  }
  s += ch === "X" ? "P" : "p";
  s += exp < 0 ? "-" : "+";
  const ae = Math.abs(exp);
  s += ae < 10 ? "0" + ae : String(ae);
  return s;
}

/** strconv.FormatFloat(x, fmt, prec, 64). */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+Inf";
  if (x === -Infinity) return "-Inf";
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  if (fmt === "b") return fmtB(neg, ax);
  if (fmt === "x" || fmt === "X") return fmtX(neg, ax, prec, fmt);
  const shortest = prec < 0;
  let v: Digits;
  if (ax === 0) v = { d: "", dp: 0 };
  else if (shortest) v = shortestDigits(ax);
  else if (fmt === "f" && prec <= 20) {
    // toFixed is exactly rounded, halves up; Go rounds exact halves to even. Use it unless the
    // scaled value is (or rounds to) an exact half.
    const scaled = ax * 10 ** prec;
    if (scaled < 2 ** 51 && scaled - Math.floor(scaled) !== 0.5) return (neg ? "-" : "") + ax.toFixed(prec);
    const ex = exactDigits(ax);
    v = roundDigits(ex, ex.dp + prec);
  } else {
    v = exactDigits(ax);
    switch (fmt) {
      case "e":
      case "E":
        v = roundDigits(v, prec + 1);
        break;
      case "f":
        v = roundDigits(v, v.dp + prec);
        break;
      default:
        v = roundDigits(v, prec === 0 ? 1 : prec);
    }
  }
  switch (fmt) {
    case "e":
    case "E":
      return fmtE(neg, v, shortest ? Math.max(v.d.length - 1, 0) : prec, fmt);
    case "f":
      return fmtF(neg, v, shortest ? Math.max(v.d.length - v.dp, 0) : prec);
    default: {
      // g, G
      let p = shortest ? v.d.length : prec === 0 ? 1 : prec;
      let eprec = p;
      if (eprec > v.d.length && v.d.length >= v.dp) eprec = v.d.length;
      if (shortest) eprec = 6;
      const exp = v.dp - 1;
      if (v.d.length !== 0 && (exp < -4 || exp >= eprec)) {
        if (p > v.d.length) p = v.d.length;
        return fmtE(neg, v, p - 1, fmt === "G" ? "E" : "e");
      }
      if (p > v.dp) p = v.d.length;
      return fmtF(neg, v, Math.max(p - v.dp, 0));
    }
  }
}

// ---- The printer -----------------------------------------------------------------------------

class Printer {
  buf = "";
  // flags
  plus = false;
  minus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  wid = 0;
  widPresent = false;
  prec = 0;
  precPresent = false;

  clearFlags(): void {
    this.plus = this.minus = this.sharp = this.space = this.zero = false;
    this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
    this.widPresent = this.precPresent = false;
  }

  private padding(n: number): string {
    return n <= 0 ? "" : (this.zero ? "0" : " ").repeat(n);
  }

  /** Pad s (width counted in runes). */
  pad(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.buf += s;
      return;
    }
    const n = this.wid - (s.length < this.wid ? runeCount(s) : s.length);
    if (n <= 0) {
      // s.length >= wid: rune count may still be smaller
      const rc = runeCount(s);
      if (rc >= this.wid) {
        this.buf += s;
        return;
      }
      this.padN(s, this.wid - rc);
      return;
    }
    this.padN(s, n);
  }

  private padN(s: string, n: number): void {
    if (this.minus) this.buf += s + " ".repeat(n);
    else this.buf += this.padding(n) + s;
  }

  /** Pad without zeros (numbers handle their own zero padding). */
  private padNoZero(s: string): void {
    const z = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = z;
  }

  // -- integers --

  fmtInteger(v: number | bigint, base: number, verb: string, upper: boolean): void {
    const negative = v < 0;
    let digits: string;
    if (typeof v === "number") digits = Math.abs(v).toString(base);
    else digits = (negative ? -v : v).toString(base);
    if (upper) digits = digits.toUpperCase();
    let prec = 0;
    let havePrec = false;
    if (this.precPresent) {
      prec = this.prec;
      havePrec = true;
      if (prec === 0 && (v === 0 || v === 0n)) {
        const z = this.zero;
        this.zero = false;
        if (this.widPresent) this.buf += " ".repeat(this.wid);
        this.zero = z;
        return;
      }
    } else if (this.zero && !this.minus && this.widPresent) {
      prec = this.wid;
      havePrec = true;
      if (negative || this.plus || this.space) prec--;
    }
    if (havePrec && digits.length < prec) digits = "0".repeat(prec - digits.length) + digits;
    if (this.sharp) {
      if (base === 2) digits = "0b" + digits;
      else if (base === 8) {
        if (digits[0] !== "0") digits = "0" + digits;
      } else if (base === 16) digits = (upper ? "0X" : "0x") + digits;
    }
    if (verb === "O") digits = "0o" + digits;
    if (negative) digits = "-" + digits;
    else if (this.plus) digits = "+" + digits;
    else if (this.space) digits = " " + digits;
    this.padNoZero(digits);
  }

  fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.precPresent && this.prec > 4) prec = this.prec;
    let s = u.toString(16).toUpperCase();
    if (s.length < prec) s = "0".repeat(prec - s.length) + s;
    s = "U+" + s;
    if (this.sharp && u <= 0x10ffffn && isPrint(Number(u))) s += " '" + String.fromCodePoint(Number(u)) + "'";
    this.padNoZero(s);
  }

  printInt(v: number | bigint, verb: string, orig?: GoVal): void {
    switch (verb) {
      case "v":
      case "d":
        this.fmtInteger(v, 10, verb, false);
        return;
      case "b":
        this.fmtInteger(v, 2, verb, false);
        return;
      case "o":
      case "O":
        this.fmtInteger(v, 8, verb, false);
        return;
      case "x":
        this.fmtInteger(v, 16, verb, false);
        return;
      case "X":
        this.fmtInteger(v, 16, verb, true);
        return;
      case "c":
      case "q": {
        const u = BigInt.asUintN(64, BigInt(v));
        let cp = u > 0x10ffffn ? 0xfffd : Number(u);
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
        if (verb === "c") this.pad(String.fromCodePoint(cp));
        else this.pad(goQuoteRune(cp, this.plus));
        return;
      }
      case "U":
        this.fmtUnicode(BigInt.asUintN(64, BigInt(v)));
        return;
    }
    this.badVerb(verb, orig ?? v);
  }

  /** *big.Int's own Format method. */
  printBigInt(x: bigint, verb: string): void {
    let base: number;
    switch (verb) {
      case "b":
        base = 2;
        break;
      case "o":
      case "O":
        base = 8;
        break;
      case "d":
      case "s":
      case "v":
        base = 10;
        break;
      case "x":
      case "X":
        base = 16;
        break;
      default:
        this.buf += "%!" + verb + "(big.Int=" + x.toString() + ")";
        return;
    }
    const plus = this.plus || this.plusV;
    const sharp = this.sharp || this.sharpV;
    let sign = "";
    if (x < 0n) sign = "-";
    else if (plus) sign = "+";
    else if (this.space) sign = " ";
    let prefix = "";
    if (sharp) {
      if (verb === "b") prefix = "0b";
      else if (verb === "o") prefix = "0";
      else if (verb === "x") prefix = "0x";
      else if (verb === "X") prefix = "0X";
    }
    if (verb === "O") prefix = "0o";
    let digits = (x < 0n ? -x : x).toString(base);
    if (verb === "X") digits = digits.toUpperCase();
    let left = 0;
    let zeros = 0;
    let right = 0;
    if (this.precPresent) {
      if (digits.length < this.prec) zeros = this.prec - digits.length;
      else if (digits === "0" && this.prec === 0) return;
    }
    const length = sign.length + prefix.length + zeros + digits.length;
    if (this.widPresent && length < this.wid) {
      const d = this.wid - length;
      if (this.minus) right = d;
      else if (this.zero && !this.precPresent) zeros = d;
      else left = d;
    }
    this.buf += " ".repeat(left) + sign + prefix + "0".repeat(zeros) + digits + " ".repeat(right);
  }

  // -- floats --

  fmtFloat(v: number, verb: string, prec: number): void {
    if (this.precPresent) prec = this.prec;
    let num = formatFloat(v, verb, prec);
    if (num[0] !== "-" && num[0] !== "+") num = "+" + num;
    if (this.space && num[0] === "+" && !this.plus) num = " " + num.slice(1);
    if (num[1] === "I" || num[1] === "N") {
      const z = this.zero;
      this.zero = false;
      if (num[1] === "N" && !this.space && !this.plus) num = num.slice(1);
      this.pad(num);
      this.zero = z;
      return;
    }
    if (this.sharp && verb !== "b") {
      let digits = 0;
      if (verb === "v" || verb === "g" || verb === "G" || verb === "x") {
        digits = prec;
        if (digits === -1) digits = 6;
      }
      let tail = "";
      let body = num;
      let hasDot = false;
      let sawNonzero = false;
      for (let i = 1; i < body.length; i++) {
        const c = body[i];
        if (c === ".") {
          hasDot = true;
          continue;
        }
        if (c === "p" || c === "P") {
          tail = body.slice(i);
          body = body.slice(0, i);
          break;
        }
        if ((c === "e" || c === "E") && verb !== "x" && verb !== "X") {
          tail = body.slice(i);
          body = body.slice(0, i);
          break;
        }
        if (c !== "0") sawNonzero = true;
        if (sawNonzero) digits--;
      }
      if (!hasDot) {
        if (body.length === 2 && body[1] === "0") digits--;
        body += ".";
      }
      if (digits > 0) body += "0".repeat(digits);
      num = body + tail;
    }
    if (this.plus || num[0] !== "+") {
      if (this.zero && !this.minus && this.widPresent && this.wid > num.length) {
        this.buf += num[0] + "0".repeat(this.wid - num.length) + num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  printFloat(v: number, verb: string): void {
    switch (verb) {
      case "v":
        this.fmtFloat(v, "g", -1);
        return;
      case "b":
      case "g":
      case "G":
      case "x":
      case "X":
        this.fmtFloat(v, verb, -1);
        return;
      case "f":
      case "e":
      case "E":
        this.fmtFloat(v, verb, 6);
        return;
      case "F":
        this.fmtFloat(v, "f", 6);
        return;
    }
    this.badVerb(verb, new GoFloat(v));
  }

  // -- strings --

  fmtS(s: string): void {
    if (this.precPresent) s = truncateRunes(s, this.prec);
    this.pad(s);
  }

  fmtQ(s: string): void {
    if (this.precPresent) s = truncateRunes(s, this.prec);
    if (this.sharp && canBackquote(s)) this.pad("`" + s + "`");
    else this.pad(goQuote(s, this.plus));
  }

  fmtSx(s: string, upper: boolean): void {
    const digits = upper ? "0123456789ABCDEF" : HEX;
    const x = upper ? "X" : "x";
    const b = utf8Encoder.encode(s);
    let length = b.length;
    if (this.precPresent && this.prec < length) length = this.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) width += 2;
    } else {
      if (this.widPresent) this.buf += this.padding(this.wid);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.buf += this.padding(this.wid - width);
    let out = "";
    if (this.sharp) out += "0" + x;
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) {
        out += " ";
        if (this.sharp) out += "0" + x;
      }
      out += digits[b[i] >> 4] + digits[b[i] & 15];
    }
    this.buf += out;
    if (this.widPresent && this.wid > width && this.minus) this.buf += this.padding(this.wid - width);
  }

  printString(s: string, verb: string, typeName: string | null): void {
    switch (verb) {
      case "v":
        if (this.sharpV) this.fmtQ(s);
        else this.fmtS(s);
        return;
      case "s":
        this.fmtS(s);
        return;
      case "x":
        this.fmtSx(s, false);
        return;
      case "X":
        this.fmtSx(s, true);
        return;
      case "q":
        this.fmtQ(s);
        return;
    }
    this.badVerb(verb, typeName === null ? s : new GoNumber(s));
  }

  // -- composites (templates) --

  printValue(v: GoVal, verb: string, depth: number): void {
    if (Array.isArray(v)) {
      if (this.sharpV) {
        this.buf += "[]interface {}{";
        for (let i = 0; i < v.length; i++) {
          if (i > 0) this.buf += ", ";
          this.printArg(v[i], verb, depth + 1);
        }
        this.buf += "}";
        return;
      }
      this.buf += "[";
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.buf += " ";
        this.printArg(v[i], verb, depth + 1);
      }
      this.buf += "]";
      return;
    }
    if (v instanceof GoMap) {
      if (this.sharpV) {
        this.buf += "map[string]interface {}{";
        v.entries.forEach(([k, x], i) => {
          if (i > 0) this.buf += ", ";
          this.printArg(k, verb, depth + 1);
          this.buf += ":";
          this.printArg(x, verb, depth + 1);
        });
        this.buf += "}";
        return;
      }
      this.buf += "map[";
      v.entries.forEach(([k, x], i) => {
        if (i > 0) this.buf += " ";
        this.printArg(k, verb, depth + 1);
        this.buf += ":";
        this.printArg(x, verb, depth + 1);
      });
      this.buf += "]";
    }
  }

  printArg(arg: GoVal, verb: string, depth = 0): void {
    if (arg === null) {
      if (depth > 0) {
        // a nil element inside a composite prints as <nil>
        if (verb === "v") {
          this.pad("<nil>");
          return;
        }
      }
      if (verb === "T" || verb === "v") this.pad("<nil>");
      else this.badVerb(verb, null);
      return;
    }
    if (verb === "T") {
      this.fmtS(goTypeName(arg));
      return;
    }
    if (verb === "p") {
      this.badVerb(verb, arg);
      return;
    }
    switch (typeof arg) {
      case "string":
        this.printString(arg, verb, null);
        return;
      case "number":
        if (Number.isInteger(arg)) this.printInt(arg, verb);
        else this.printFloat(arg, verb);
        return;
      case "bigint":
        if (arg >= INT64_MIN && arg <= INT64_MAX) this.printInt(arg, verb);
        else this.printBigInt(arg, verb);
        return;
      case "boolean":
        if (verb === "t" || verb === "v") this.pad(arg ? "true" : "false");
        else this.badVerb(verb, arg);
        return;
    }
    if (arg instanceof GoFloat) {
      this.printFloat(arg.v, verb);
      return;
    }
    if (arg instanceof GoInt) {
      this.printInt(arg.v, verb, arg);
      return;
    }
    if (arg instanceof GoNumber) {
      this.printString(arg.text, verb, "json.Number");
      return;
    }
    this.printValue(arg, verb, depth);
  }

  badVerb(verb: string, arg: GoVal): void {
    this.buf += "%!" + verb + "(";
    if (arg === null) this.buf += "<nil>";
    else {
      this.buf += goTypeName(arg) + "=";
      this.printArg(arg, "v");
    }
    this.buf += ")";
  }
}

function parseNum(s: string, i: number, end: number): [number, boolean, number] {
  if (i >= end) return [0, false, end];
  let num = 0;
  let isnum = false;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    if (num > 1e6 || num < -1e6) return [0, false, end];
    num = num * 10 + (c - 48);
    isnum = true;
  }
  return [num, isnum, i];
}

function intFromArg(a: GoVal[], argNum: number): [number, boolean, number] {
  let num = 0;
  let isInt = false;
  let newArgNum = argNum;
  if (argNum < a.length) {
    const v = a[argNum];
    if (typeof v === "number" && Number.isInteger(v)) {
      num = v;
      isInt = true;
    } else if (typeof v === "bigint" && v >= INT64_MIN && v <= INT64_MAX) {
      num = Number(v);
      isInt = true;
    } else if (v instanceof GoInt) {
      num = v.v;
      isInt = true;
    }
    newArgNum = argNum + 1;
    if (num > 1e6 || num < -1e6) {
      num = 0;
      isInt = false;
    }
  }
  return [num, isInt, newArgNum];
}

/** State of one Sprintf call beyond the printer's flags. */
class Formatter {
  argNum = 0;
  reordered = false;
  goodArgNum = true;
  constructor(
    readonly p: Printer,
    readonly format: string,
    readonly a: GoVal[],
  ) {}

  /** Go's argNumber: an explicit [n] index at i. Returns [argNum, i, found]. */
  argNumber(i: number): [number, number, boolean] {
    const format = this.format;
    const end = format.length;
    if (i >= end || format.charCodeAt(i) !== 0x5b) return [this.argNum, i, false];
    this.reordered = true;
    let index = 0;
    let wid = 1;
    let ok = false;
    if (end - i >= 3) {
      for (let j = i + 1; j < end; j++) {
        if (format.charCodeAt(j) === 0x5d) {
          const [n, isnum, newi] = parseNum(format, i + 1, j);
          wid = j - i + 1;
          if (isnum && newi === j) {
            index = n - 1;
            ok = true;
          }
          break;
        }
      }
    }
    if (ok && index >= 0 && index < this.a.length) return [index, i + wid, true];
    this.goodArgNum = false;
    return [this.argNum, i + wid, ok];
  }

  /** One directive; i is just after its %. Returns the index after it, or -1 at a missing verb. */
  directive(i: number): number {
    const { p, format, a } = this;
    const end = format.length;
    this.goodArgNum = true;
    p.clearFlags();
    simple: for (; i < end; i++) {
      const c = format.charCodeAt(i);
      switch (c) {
        case 0x23: // #
          p.sharp = true;
          break;
        case 0x30: // 0
          p.zero = !p.minus;
          break;
        case 0x2b: // +
          p.plus = true;
          break;
        case 0x2d: // -
          p.minus = true;
          p.zero = false;
          break;
        case 0x20:
          p.space = true;
          break;
        default:
          if (c >= 0x61 && c <= 0x7a && this.argNum < a.length) {
            if (c === 0x76) {
              p.sharpV = p.sharp;
              p.sharp = false;
              p.plusV = p.plus;
              p.plus = false;
            }
            p.printArg(a[this.argNum], format[i]);
            this.argNum++;
            return i + 1;
          }
          break simple;
      }
    }
    let afterIndex: boolean;
    [this.argNum, i, afterIndex] = this.argNumber(i);
    if (i < end && format.charCodeAt(i) === 0x2a) {
      i++;
      [p.wid, p.widPresent, this.argNum] = intFromArg(a, this.argNum);
      if (!p.widPresent) p.buf += "%!(BADWIDTH)";
      if (p.wid < 0) {
        p.wid = -p.wid;
        p.minus = true;
        p.zero = false;
      }
      afterIndex = false;
    } else {
      [p.wid, p.widPresent, i] = parseNum(format, i, end);
      if (afterIndex && p.widPresent) this.goodArgNum = false;
    }
    if (i + 1 < end && format.charCodeAt(i) === 0x2e) {
      i++;
      if (afterIndex) this.goodArgNum = false;
      [this.argNum, i, afterIndex] = this.argNumber(i);
      if (i < end && format.charCodeAt(i) === 0x2a) {
        i++;
        [p.prec, p.precPresent, this.argNum] = intFromArg(a, this.argNum);
        if (p.prec < 0) {
          p.prec = 0;
          p.precPresent = false;
        }
        if (!p.precPresent) p.buf += "%!(BADPREC)";
        afterIndex = false;
      } else {
        [p.prec, p.precPresent, i] = parseNum(format, i, end);
        if (!p.precPresent) {
          p.prec = 0;
          p.precPresent = true;
        }
      }
    }
    if (!afterIndex) [this.argNum, i, afterIndex] = this.argNumber(i);
    if (i >= end) {
      p.buf += "%!(NOVERB)";
      return -1;
    }
    const cp = format.codePointAt(i)!;
    const verb = String.fromCodePoint(cp);
    i += verb.length;
    if (verb === "%") p.buf += "%";
    else if (!this.goodArgNum) p.buf += "%!" + verb + "(BADINDEX)";
    else if (this.argNum >= a.length) p.buf += "%!" + verb + "(MISSING)";
    else {
      if (verb === "v") {
        p.sharpV = p.sharp;
        p.sharp = false;
        p.plusV = p.plus;
        p.plus = false;
      }
      p.printArg(a[this.argNum], verb);
      this.argNum++;
    }
    return i;
  }
}

/** Go's fmt.Sprintf. */
export function goSprintf(format: string, a: GoVal[]): string {
  const end = format.length;
  let out = "";
  let i = 0;
  let argNum = 0;
  let f: Formatter | null = null;
  while (i < end) {
    const j = format.indexOf("%", i);
    if (j < 0) {
      out += i === 0 ? format : format.slice(i);
      break;
    }
    if (j > i) out += format.slice(i, j);
    // Fast path: %s %v %d with a plain string or integer argument and no flags.
    if (f === null && argNum < a.length) {
      const c = format.charCodeAt(j + 1);
      const arg = a[argNum];
      if ((c === 0x73 || c === 0x76) && typeof arg === "string") {
        out += arg;
        argNum++;
        i = j + 2;
        continue;
      }
      if ((c === 0x64 || c === 0x76) && typeof arg === "number" && Number.isSafeInteger(arg)) {
        out += arg === 0 ? "0" : String(arg);
        argNum++;
        i = j + 2;
        continue;
      }
    }
    if (f === null) {
      f = new Formatter(new Printer(), format, a);
      f.argNum = argNum;
    }
    f.p.buf = "";
    const next = f.directive(j + 1);
    out += f.p.buf;
    argNum = f.argNum;
    if (next < 0) break;
    i = next;
  }
  if (argNum < a.length && !(f !== null && f.reordered)) {
    const p = new Printer();
    p.buf = "%!(EXTRA ";
    for (let k = argNum; k < a.length; k++) {
      if (k > argNum) p.buf += ", ";
      const arg = a[k];
      if (arg === null) p.buf += "<nil>";
      else {
        p.buf += goTypeName(arg) + "=";
        p.printArg(arg, "v");
      }
    }
    out += p.buf + ")";
  }
  return out;
}

/** Go's fmt.Sprint of one value (as text/template prints values). */
export function goSprint(v: GoVal): string {
  const p = new Printer();
  p.printArg(v, "v");
  return p.buf;
}
