// Go's reference-time layouts ("2006-01-02T15:04:05Z07:00"): formatting and parsing with the
// behaviour and error messages of Go's time.Format / time.Parse, and Go's duration syntax
// (time.ParseDuration). Written from Go's documentation and its observable behaviour.
//
// Go works on UTF-8 bytes, so layouts and values are handled here as "byte strings": JS strings
// whose code units are the bytes of the UTF-8 text (see toBytes/fromBytes).

import {
  type GoTime,
  type Location,
  UTC,
  FixedLocation,
  civil,
  makeDate,
  daysIn,
  daysBefore,
  isLeap,
  localZone,
} from "./tz.ts";

export function toBytes(s: string): string {
  return Buffer.from(s, "utf8").toString("latin1");
}
export function fromBytes(b: string): string {
  return Buffer.from(b, "latin1").toString("utf8");
}

/** Go's time-package quoting of a byte string: non-ASCII and control bytes as \xNN. */
export function timeQuote(b: string): string {
  // Runs of plain characters are copied as slices and escapes come from a table: a 1,000,000-NUL
  // value (the fuzzer's) was quoted a character at a time into a rope, most of 1.5 s in GC.
  const parts: string[] = ['"'];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c >= 0x80) esc = c < 0x100 ? BYTE_ESCAPES[c] : "\\x" + c.toString(16);
    else if (c === 0x22 || c === 0x5c) esc = c === 0x22 ? '\\"' : "\\\\";
    if (esc === undefined) continue;
    if (i > start) parts.push(b.slice(start, i));
    parts.push(esc);
    start = i + 1;
  }
  if (start < b.length) parts.push(start === 0 ? b : b.slice(start));
  parts.push('"');
  return parts.join("");
}

/** `\xNN` for each byte value (only those below 0x20 and from 0x80 are used). */
const BYTE_ESCAPES: readonly string[] = Array.from({ length: 256 }, (_, c) => "\\x" + c.toString(16).padStart(2, "0"));

// ---- Layout elements ---------------------------------------------------------------------------

type Std =
  | "LongMonth"
  | "Month"
  | "NumMonth"
  | "ZeroMonth"
  | "LongWeekDay"
  | "WeekDay"
  | "Day"
  | "UnderDay"
  | "ZeroDay"
  | "UnderYearDay"
  | "ZeroYearDay"
  | "Hour"
  | "Hour12"
  | "ZeroHour12"
  | "Minute"
  | "ZeroMinute"
  | "Second"
  | "ZeroSecond"
  | "LongYear"
  | "Year"
  | "PM"
  | "pm"
  | "TZ"
  | "ISO8601TZ"
  | "ISO8601SecondsTZ"
  | "ISO8601ShortTZ"
  | "ISO8601ColonTZ"
  | "ISO8601ColonSecondsTZ"
  | "NumTZ"
  | "NumSecondsTz"
  | "NumShortTZ"
  | "NumColonTZ"
  | "NumColonSecondsTZ"
  | "Frac0"
  | "Frac9";

interface Chunk {
  prefix: string;
  std: Std | null;
  digits: number; // fractional seconds: number of digits
  sep: string; // fractional seconds: "." or ","
  suffix: string;
}

const ZERO_X: Std[] = ["ZeroMonth", "ZeroDay", "ZeroHour12", "ZeroMinute", "ZeroSecond", "Year"];

function isDigitAt(s: string, i: number): boolean {
  if (i >= s.length) return false;
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

function startsLower(s: string): boolean {
  if (s.length === 0) return false;
  const c = s.charCodeAt(0);
  return c >= 97 && c <= 122;
}

/** The first layout element of `layout`, with the literal text before it and the rest after. */
function nextChunk(layout: string): Chunk {
  const mk = (i: number, std: Std, len: number, prefixEnd = i): Chunk => ({
    prefix: layout.slice(0, prefixEnd),
    std,
    digits: 0,
    sep: "",
    suffix: layout.slice(i + len),
  });
  const at = (i: number, s: string) => layout.startsWith(s, i);
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i];
    switch (c) {
      case "J":
        if (at(i, "Jan")) {
          if (at(i, "January")) return mk(i, "LongMonth", 7);
          if (!startsLower(layout.slice(i + 3))) return mk(i, "Month", 3);
        }
        break;
      case "M":
        if (at(i, "Mon")) {
          if (at(i, "Monday")) return mk(i, "LongWeekDay", 6);
          if (!startsLower(layout.slice(i + 3))) return mk(i, "WeekDay", 3);
        }
        if (at(i, "MST")) return mk(i, "TZ", 3);
        break;
      case "0":
        if (i + 1 < layout.length && layout[i + 1] >= "1" && layout[i + 1] <= "6")
          return mk(i, ZERO_X[layout.charCodeAt(i + 1) - 49], 2);
        if (at(i, "002")) return mk(i, "ZeroYearDay", 3);
        break;
      case "1":
        if (at(i, "15")) return mk(i, "Hour", 2);
        return mk(i, "NumMonth", 1);
      case "2":
        if (at(i, "2006")) return mk(i, "LongYear", 4);
        return mk(i, "Day", 1);
      case "_":
        if (at(i, "_2")) {
          // "_2006" is a literal underscore followed by the year
          if (at(i, "_2006")) return mk(i + 1, "LongYear", 4, i + 1);
          return mk(i, "UnderDay", 2);
        }
        if (at(i, "__2")) return mk(i, "UnderYearDay", 3);
        break;
      case "3":
        return mk(i, "Hour12", 1);
      case "4":
        return mk(i, "Minute", 1);
      case "5":
        return mk(i, "Second", 1);
      case "P":
        if (at(i, "PM")) return mk(i, "PM", 2);
        break;
      case "p":
        if (at(i, "pm")) return mk(i, "pm", 2);
        break;
      case "-":
        if (at(i, "-070000")) return mk(i, "NumSecondsTz", 7);
        if (at(i, "-07:00:00")) return mk(i, "NumColonSecondsTZ", 9);
        if (at(i, "-0700")) return mk(i, "NumTZ", 5);
        if (at(i, "-07:00")) return mk(i, "NumColonTZ", 6);
        if (at(i, "-07")) return mk(i, "NumShortTZ", 3);
        break;
      case "Z":
        if (at(i, "Z070000")) return mk(i, "ISO8601SecondsTZ", 7);
        if (at(i, "Z07:00:00")) return mk(i, "ISO8601ColonSecondsTZ", 9);
        if (at(i, "Z0700")) return mk(i, "ISO8601TZ", 5);
        if (at(i, "Z07:00")) return mk(i, "ISO8601ColonTZ", 6);
        if (at(i, "Z07")) return mk(i, "ISO8601ShortTZ", 3);
        break;
      case ".":
      case ",":
        if (i + 1 < layout.length && (layout[i + 1] === "0" || layout[i + 1] === "9")) {
          const ch = layout[i + 1];
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            return {
              prefix: layout.slice(0, i),
              std: ch === "0" ? "Frac0" : "Frac9",
              digits: j - (i + 1),
              sep: c,
              suffix: layout.slice(j),
            };
          }
        }
        break;
    }
  }
  return { prefix: layout, std: null, digits: 0, sep: "", suffix: "" };
}

const LONG_MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const SHORT_MONTHS = LONG_MONTHS.map((m) => m.slice(0, 3));
export const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const SHORT_DAYS = LONG_DAYS.map((d) => d.slice(0, 3));

// ---- Formatting --------------------------------------------------------------------------------

function pad(n: number, width: number): string {
  if (n < 0) return "-" + pad(-n, width);
  return String(n).padStart(width, "0");
}

/** Go's Time.Format. `layout` is a byte string; so is the result. */
export function formatTime(t: GoTime, layout: string): string {
  const c = civil(t);
  let out = "";
  while (layout !== "") {
    const ch = nextChunk(layout);
    out += ch.prefix;
    if (ch.std === null) break;
    layout = ch.suffix;
    switch (ch.std) {
      case "Year":
        out += pad(((c.year % 100) + 100) % 100, 2);
        break;
      case "LongYear":
        out += pad(c.year, 4);
        break;
      case "Month":
        out += SHORT_MONTHS[c.month - 1];
        break;
      case "LongMonth":
        out += LONG_MONTHS[c.month - 1];
        break;
      case "NumMonth":
        out += String(c.month);
        break;
      case "ZeroMonth":
        out += pad(c.month, 2);
        break;
      case "WeekDay":
        out += SHORT_DAYS[c.weekday];
        break;
      case "LongWeekDay":
        out += LONG_DAYS[c.weekday];
        break;
      case "Day":
        out += String(c.day);
        break;
      case "UnderDay":
        out += (c.day < 10 ? " " : "") + String(c.day);
        break;
      case "ZeroDay":
        out += pad(c.day, 2);
        break;
      case "UnderYearDay":
        out += (c.yday < 100 ? (c.yday < 10 ? "  " : " ") : "") + String(c.yday);
        break;
      case "ZeroYearDay":
        out += pad(c.yday, 3);
        break;
      case "Hour":
        out += pad(c.hour, 2);
        break;
      case "Hour12":
        out += String(c.hour % 12 === 0 ? 12 : c.hour % 12);
        break;
      case "ZeroHour12":
        out += pad(c.hour % 12 === 0 ? 12 : c.hour % 12, 2);
        break;
      case "Minute":
        out += String(c.min);
        break;
      case "ZeroMinute":
        out += pad(c.min, 2);
        break;
      case "Second":
        out += String(c.sec);
        break;
      case "ZeroSecond":
        out += pad(c.sec, 2);
        break;
      case "PM":
        out += c.hour >= 12 ? "PM" : "AM";
        break;
      case "pm":
        out += c.hour >= 12 ? "pm" : "am";
        break;
      case "ISO8601TZ":
      case "ISO8601ColonTZ":
      case "ISO8601SecondsTZ":
      case "ISO8601ShortTZ":
      case "ISO8601ColonSecondsTZ":
      case "NumTZ":
      case "NumColonTZ":
      case "NumSecondsTz":
      case "NumShortTZ":
      case "NumColonSecondsTZ": {
        const std = ch.std;
        if (c.offset === 0 && std.startsWith("ISO8601")) {
          out += "Z";
          break;
        }
        let zone = Math.trunc(c.offset / 60);
        let abs = c.offset;
        if (zone < 0) {
          out += "-";
          zone = -zone;
          abs = -abs;
        } else out += "+";
        out += pad(Math.floor(zone / 60), 2);
        const colon = std === "ISO8601ColonTZ" || std === "NumColonTZ" || std === "ISO8601ColonSecondsTZ" || std === "NumColonSecondsTZ";
        if (colon) out += ":";
        if (std !== "NumShortTZ" && std !== "ISO8601ShortTZ") out += pad(zone % 60, 2);
        if (std === "ISO8601SecondsTZ" || std === "NumSecondsTz" || std === "NumColonSecondsTZ" || std === "ISO8601ColonSecondsTZ") {
          if (std === "NumColonSecondsTZ" || std === "ISO8601ColonSecondsTZ") out += ":";
          out += pad(abs % 60, 2);
        }
        break;
      }
      case "TZ": {
        if (c.zoneName !== "") {
          out += c.zoneName;
          break;
        }
        let zone = Math.trunc(c.offset / 60);
        if (zone < 0) {
          out += "-";
          zone = -zone;
        } else out += "+";
        out += pad(Math.floor(zone / 60), 2) + pad(zone % 60, 2);
        break;
      }
      case "Frac0":
      case "Frac9": {
        const trim = ch.std === "Frac9";
        if (trim && (ch.digits === 0 || c.nsec === 0)) break;
        let digits = pad(c.nsec, 9);
        if (ch.digits < 9) digits = digits.slice(0, ch.digits);
        if (trim) digits = digits.replace(/0+$/, "");
        if (digits !== "" || !trim) out += ch.sep + digits;
        break;
      }
    }
  }
  return out;
}

// ---- Parsing -----------------------------------------------------------------------------------

export class ParseError extends Error {}

/** Go's leadingInt: the leading decimal digits (as a bigint), or undefined on overflow past 2^63. */
function leadingInt(s: string): [bigint, string] | undefined {
  let x = 0n;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    if (x > (1n << 63n) / 10n) return undefined;
    x = x * 10n + BigInt(c - 48);
    if (x > 1n << 63n) return undefined;
  }
  return [x, s.slice(i)];
}

/** Go's time-package atoi: optional sign, digits, nothing else (the empty string is 0). */
function atoi(s: string): number | undefined {
  let neg = false;
  if (s.length > 0 && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  const r = leadingInt(s);
  if (r === undefined || r[1] !== "") return undefined;
  const x = Number(BigInt.asIntN(64, r[0]));
  return neg ? -x : x;
}

/** One or two digits (exactly two when `fixed`). */
function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigitAt(s, 0)) return undefined;
  if (!isDigitAt(s, 1)) {
    if (fixed) return undefined;
    return [s.charCodeAt(0) - 48, s.slice(1)];
  }
  return [(s.charCodeAt(0) - 48) * 10 + (s.charCodeAt(1) - 48), s.slice(2)];
}

function getnum3(s: string, fixed: boolean): [number, string] | undefined {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + (s.charCodeAt(i) - 48);
  if (i === 0 || (fixed && i !== 3)) return undefined;
  return [n, s.slice(i)];
}

/**
 * Skip the literal `prefix` in `value`; a run of spaces matches any run of spaces. Returns the
 * rest of value and whether it matched (on failure, what was left when matching stopped).
 */
function skip(value: string, prefix: string): [string, boolean] {
  while (prefix.length > 0) {
    if (prefix[0] === " ") {
      if (value.length > 0 && value[0] !== " ") return [value, false];
      prefix = prefix.replace(/^ +/, "");
      value = value.replace(/^ +/, "");
      continue;
    }
    if (value.length === 0 || value[0] !== prefix[0]) return [value, false];
    prefix = prefix.slice(1);
    value = value.slice(1);
  }
  return [value, true];
}

/** ASCII case-insensitive prefix match against a name table. */
function lookupName(tab: string[], val: string): [number, string] | undefined {
  for (let i = 0; i < tab.length; i++) {
    const v = tab[i];
    if (val.length >= v.length && val.slice(0, v.length).toLowerCase() === v.toLowerCase()) {
      // The tables hold ASCII letters only, and no other byte lowercases to one of them.
      return [i, val.slice(v.length)];
    }
  }
  return undefined;
}

function commaOrPeriod(c: string | undefined): boolean {
  return c === "." || c === ",";
}

/** Fractional seconds: value starts with the separator; nbytes counts it and the digits. */
function parseNanos(value: string, nbytes: number): { ns: number; range: string; ok: boolean } {
  if (!commaOrPeriod(value[0])) return { ns: 0, range: "", ok: false };
  if (nbytes > 10) {
    value = value.slice(0, 10);
    nbytes = 10;
  }
  const n = atoi(value.slice(1, nbytes));
  if (n === undefined) return { ns: 0, range: "", ok: false };
  if (n < 0) return { ns: 0, range: "fractional second", ok: true };
  let ns = n;
  for (let i = 0; i < 10 - nbytes; i++) ns *= 10;
  return { ns, range: "", ok: true };
}

function signedOffsetLen(value: string): number {
  const sign = value[0];
  if (sign !== "-" && sign !== "+") return 0;
  const r = leadingInt(value.slice(1));
  if (r === undefined || r[1] === value.slice(1)) return 0;
  if (r[0] > 23n) return 0;
  return value.length - r[1].length;
}

/** Length of a time zone abbreviation at the start of value, or 0 when there is none. */
function timeZoneLen(value: string): number {
  if (value.length < 3) return 0;
  if (value.startsWith("ChST") || value.startsWith("MeST")) return 4;
  if (value.startsWith("GMT")) {
    const rest = value.slice(3);
    if (rest.length === 0) return 3;
    return 3 + signedOffsetLen(rest);
  }
  if (value[0] === "+" || value[0] === "-") return signedOffsetLen(value);
  let nUpper = 0;
  for (; nUpper < 6; nUpper++) {
    if (nUpper >= value.length) break;
    const c = value.charCodeAt(nUpper);
    if (c < 65 || c > 90) break;
  }
  switch (nUpper) {
    case 3:
      return 3;
    case 4:
      return value[3] === "T" || value.startsWith("WITA") ? 4 : 0;
    case 5:
      return value[4] === "T" ? 5 : 0;
  }
  return 0;
}

/** Go's time.Parse(layout, value) (byte strings), in UTC by default. Throws ParseError. */
export function parseTime(layout: string, value: string): GoTime {
  const alayout = layout;
  const avalue = value;
  const cannot = (valueElem: string, layoutElem: string) =>
    new ParseError(
      `parsing time ${timeQuote(avalue)} as ${timeQuote(alayout)}: cannot parse ${timeQuote(valueElem)} as ${timeQuote(layoutElem)}`,
    );
  const withMsg = (msg: string) => new ParseError(`parsing time ${timeQuote(avalue)}${msg}`);

  let amSet = false;
  let pmSet = false;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let z: Location | null = null;
  let zoneOffset = -1;
  let zoneName = "";

  for (;;) {
    const ch = nextChunk(layout);
    const stdstr = layout.slice(ch.prefix.length, layout.length - ch.suffix.length);
    const [rest, matched] = skip(value, ch.prefix);
    if (!matched) throw cannot(rest, ch.prefix);
    value = rest;
    if (ch.std === null) {
      if (value.length !== 0) throw withMsg(": extra text: " + timeQuote(value));
      break;
    }
    layout = ch.suffix;
    const hold = value;
    let bad = false;
    let range = "";
    const num = (r: [number, string] | undefined): number => {
      if (r === undefined) {
        bad = true;
        return 0;
      }
      value = r[1];
      return r[0];
    };
    switch (ch.std) {
      case "Year": {
        if (value.length < 2) {
          bad = true;
          break;
        }
        const y = atoi(value.slice(0, 2));
        if (y === undefined) {
          bad = true;
          break;
        }
        value = value.slice(2);
        year = y >= 69 ? y + 1900 : y + 2000;
        break;
      }
      case "LongYear": {
        if (value.length < 4 || !isDigitAt(value, 0)) {
          bad = true;
          break;
        }
        const y = atoi(value.slice(0, 4));
        value = value.slice(4);
        if (y === undefined) bad = true;
        else year = y;
        break;
      }
      case "Month":
        month = num(lookupName(SHORT_MONTHS, value)) + 1;
        break;
      case "LongMonth":
        month = num(lookupName(LONG_MONTHS, value)) + 1;
        break;
      case "NumMonth":
      case "ZeroMonth":
        month = num(getnum(value, ch.std === "ZeroMonth"));
        if (!bad && (month <= 0 || month > 12)) range = "month";
        break;
      case "WeekDay":
        num(lookupName(SHORT_DAYS, value));
        break;
      case "LongWeekDay":
        num(lookupName(LONG_DAYS, value));
        break;
      case "Day":
      case "UnderDay":
      case "ZeroDay":
        if (ch.std === "UnderDay" && value[0] === " ") value = value.slice(1);
        day = num(getnum(value, ch.std === "ZeroDay"));
        break;
      case "UnderYearDay":
      case "ZeroYearDay":
        if (ch.std === "UnderYearDay") {
          if (value[0] === " ") value = value.slice(1);
          if (value[0] === " ") value = value.slice(1);
        }
        yday = num(getnum3(value, ch.std === "ZeroYearDay"));
        break;
      case "Hour":
        hour = num(getnum(value, false));
        if (hour < 0 || hour >= 24) range = "hour";
        break;
      case "Hour12":
      case "ZeroHour12":
        hour = num(getnum(value, ch.std === "ZeroHour12"));
        if (hour < 0 || hour > 12) range = "hour";
        break;
      case "Minute":
      case "ZeroMinute":
        min = num(getnum(value, ch.std === "ZeroMinute"));
        if (min < 0 || min >= 60) range = "minute";
        break;
      case "Second":
      case "ZeroSecond": {
        sec = num(getnum(value, ch.std === "ZeroSecond"));
        if (bad) break;
        if (sec < 0 || sec >= 60) {
          range = "second";
          break;
        }
        // A fractional second in the value that the layout does not spell out.
        if (value.length >= 2 && commaOrPeriod(value[0]) && isDigitAt(value, 1)) {
          const next = nextChunk(layout).std;
          if (next === "Frac0" || next === "Frac9") break;
          let n = 2;
          while (n < value.length && isDigitAt(value, n)) n++;
          const r = parseNanos(value, n);
          nsec = r.ns;
          range = r.range;
          bad = !r.ok;
          value = value.slice(n);
        }
        break;
      }
      case "PM":
      case "pm": {
        if (value.length < 2) {
          bad = true;
          break;
        }
        const p = value.slice(0, 2);
        value = value.slice(2);
        const [pm, am] = ch.std === "PM" ? ["PM", "AM"] : ["pm", "am"];
        if (p === pm) pmSet = true;
        else if (p === am) amSet = true;
        else bad = true;
        break;
      }
      case "ISO8601TZ":
      case "ISO8601ShortTZ":
      case "ISO8601ColonTZ":
      case "ISO8601SecondsTZ":
      case "ISO8601ColonSecondsTZ":
      case "NumTZ":
      case "NumShortTZ":
      case "NumColonTZ":
      case "NumSecondsTz":
      case "NumColonSecondsTZ": {
        const std = ch.std;
        if (std.startsWith("ISO8601") && value[0] === "Z") {
          value = value.slice(1);
          z = UTC;
          break;
        }
        let sign: string, hh: string, mm: string, ss: string;
        if (std === "ISO8601ColonTZ" || std === "NumColonTZ") {
          if (value.length < 6 || value[3] !== ":") {
            bad = true;
            break;
          }
          [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(4, 6), "00", value.slice(6)];
        } else if (std === "NumShortTZ" || std === "ISO8601ShortTZ") {
          if (value.length < 3) {
            bad = true;
            break;
          }
          [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), "00", "00", value.slice(3)];
        } else if (std === "ISO8601ColonSecondsTZ" || std === "NumColonSecondsTZ") {
          if (value.length < 9 || value[3] !== ":" || value[6] !== ":") {
            bad = true;
            break;
          }
          [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(4, 6), value.slice(7, 9), value.slice(9)];
        } else if (std === "ISO8601SecondsTZ" || std === "NumSecondsTz") {
          if (value.length < 7) {
            bad = true;
            break;
          }
          [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(3, 5), value.slice(5, 7), value.slice(7)];
        } else {
          if (value.length < 5) {
            bad = true;
            break;
          }
          [sign, hh, mm, ss, value] = [value.slice(0, 1), value.slice(1, 3), value.slice(3, 5), "00", value.slice(5)];
        }
        let hr = 0;
        let mi = 0;
        let se = 0;
        const a = getnum(hh, true);
        if (a === undefined) bad = true;
        else {
          hr = a[0];
          const b = getnum(mm, true);
          if (b === undefined) bad = true;
          else {
            mi = b[0];
            const c = getnum(ss, true);
            if (c === undefined) bad = true;
            else se = c[0];
          }
        }
        if (hr > 24) range = "time zone offset hour";
        if (mi > 60) range = "time zone offset minute";
        if (se > 60) range = "time zone offset second";
        zoneOffset = (hr * 60 + mi) * 60 + se;
        if (sign === "-") zoneOffset = -zoneOffset;
        else if (sign !== "+") bad = true;
        break;
      }
      case "TZ": {
        if (value.startsWith("UTC")) {
          z = UTC;
          value = value.slice(3);
          break;
        }
        const n = timeZoneLen(value);
        if (n === 0) {
          bad = true;
          break;
        }
        zoneName = value.slice(0, n);
        value = value.slice(n);
        break;
      }
      case "Frac0": {
        const ndigit = 1 + ch.digits;
        if (value.length < ndigit) {
          bad = true;
          break;
        }
        const r = parseNanos(value, ndigit);
        nsec = r.ns;
        range = r.range;
        bad = !r.ok;
        value = value.slice(ndigit);
        break;
      }
      case "Frac9": {
        if (value.length < 2 || !commaOrPeriod(value[0]) || !isDigitAt(value, 1)) break;
        let i = 0;
        while (i + 1 < value.length && isDigitAt(value, i + 1)) i++;
        const r = parseNanos(value, 1 + i);
        nsec = r.ns;
        range = r.range;
        bad = !r.ok;
        value = value.slice(1 + i);
        break;
      }
    }
    if (range !== "") throw withMsg(": " + range + " out of range");
    if (bad) throw cannot(hold, stdstr);
  }

  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;

  if (yday >= 0) {
    let d = 0;
    let m = 0;
    if (isLeap(year)) {
      if (yday === 31 + 29) {
        m = 2;
        d = 29;
      } else if (yday > 31 + 29) yday--;
    }
    if (yday < 1 || yday > 365) throw withMsg(": day-of-year out of range");
    if (m === 0) {
      m = Math.floor((yday - 1) / 31) + 1;
      if (daysBefore(m + 1) < yday) m++;
      d = yday - daysBefore(m);
    }
    if (month >= 0 && month !== m) throw withMsg(": day-of-year does not match month");
    month = m;
    if (day >= 0 && day !== d) throw withMsg(": day-of-year does not match day");
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) throw withMsg(": day out of range");

  if (z !== null) return makeDate(year, month, day, hour, min, sec, nsec, z);
  if (zoneOffset !== -1) {
    const t = makeDate(year, month, day, hour, min, sec, nsec, UTC);
    t.sec -= zoneOffset;
    const local = localZone();
    const l = local.lookup(t.sec);
    if (l.offset === zoneOffset && (zoneName === "" || l.name === zoneName)) return { ...t, loc: local };
    return { ...t, loc: new FixedLocation("", zoneName, zoneOffset) };
  }
  if (zoneName !== "") {
    const t = makeDate(year, month, day, hour, min, sec, nsec, UTC);
    const local = localZone();
    const off = local.lookupName(zoneName, t.sec);
    if (off !== undefined) {
      t.sec -= off;
      return { ...t, loc: local };
    }
    // An unknown abbreviation: the clock reading is kept as if it were UTC.
    let offset = 0;
    if (zoneName.length > 3 && zoneName.startsWith("GMT")) offset = (atoi(zoneName.slice(3)) ?? 0) * 3600;
    return { ...t, loc: new FixedLocation("", zoneName, offset) };
  }
  return makeDate(year, month, day, hour, min, sec, nsec, UTC);
}

// ---- Durations ---------------------------------------------------------------------------------

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  "\u00c2\u00b5s": 1000n, // U+00B5 MICRO SIGN, as UTF-8 bytes
  "\u00ce\u00bcs": 1000n, // U+03BC GREEK SMALL LETTER MU, as UTF-8 bytes
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

export class DurationError extends Error {}

/** Go's time.ParseDuration on a byte string; nanoseconds as a bigint. Throws DurationError. */
export function parseGoDuration(orig: string): bigint {
  const invalid = () => new DurationError("time: invalid duration " + timeQuote(orig));
  let s = orig;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  const LIMIT = 1n << 63n;
  let d = 0n;
  while (s !== "") {
    if (!(s[0] === "." || isDigitAt(s, 0))) throw invalid();
    const pl = s.length;
    const li = leadingInt(s);
    if (li === undefined) throw invalid();
    let v = li[0];
    s = li[1];
    const pre = pl !== s.length;
    let post = false;
    let f = 0n;
    let scale = 1;
    if (s[0] === ".") {
      s = s.slice(1);
      const pl2 = s.length;
      let i = 0;
      let overflow = false;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) break;
        if (overflow) continue;
        if (f > (LIMIT - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(c - 48);
        if (y > LIMIT) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      s = s.slice(i);
      post = pl2 !== s.length;
    }
    if (!pre && !post) throw invalid();
    let i = 0;
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === "." || isDigitAt(s, i)) break;
    }
    if (i === 0) throw new DurationError("time: missing unit in duration " + timeQuote(orig));
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = Object.hasOwn(UNITS, u) ? UNITS[u] : undefined;
    if (unit === undefined) throw new DurationError("time: unknown unit " + timeQuote(u) + " in duration " + timeQuote(orig));
    if (v > LIMIT / unit) throw invalid();
    v *= unit;
    if (f > 0n) {
      // Go adds the fraction through float64 arithmetic, truncated.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > LIMIT) throw invalid();
    }
    d += v;
    if (d > LIMIT) throw invalid();
  }
  if (neg) return -d;
  if (d > LIMIT - 1n) throw invalid();
  return d;
}
