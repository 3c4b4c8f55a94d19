// time.* builtins: nanosecond timestamps (int64, as bigint when beyond 2^53), Go layouts and
// durations, IANA time zones. Behaviour and messages follow OPA 1.19 (checked with `opa eval`).

import type { Builtin, BuiltinContext } from "./registry.ts";
import { BuiltinError, BuiltinTypeError, T, operandError } from "./registry.ts";
import type { Value } from "../rego/value.ts";
import { BigDec, TextNumber, fromBigInt, isNumber } from "../rego/value.ts";
import {
  type GoTime,
  type Location,
  UTC,
  TzError,
  civil,
  daysIn,
  fromUnixNano,
  loadLocation,
  localZone,
  makeDate,
  unixNano,
  INT64_MAX,
  INT64_MIN,
} from "./tz.ts";
import {
  DurationError,
  LONG_DAYS,
  ParseError,
  formatTime,
  fromBytes,
  parseGoDuration,
  parseTime,
  toBytes,
} from "./golayout.ts";
import { goQuote } from "../gotext/fmt.ts";

// ---- Helpers -----------------------------------------------------------------------------------

const RFC3339 = "2006-01-02T15:04:05Z07:00";
const RFC3339_NANO = "2006-01-02T15:04:05.999999999Z07:00";

/** The layout names OPA accepts in place of a layout. */
const NAMED_LAYOUTS: Record<string, string> = {
  ANSIC: "Mon Jan _2 15:04:05 2006",
  UnixDate: "Mon Jan _2 15:04:05 MST 2006",
  RubyDate: "Mon Jan 02 15:04:05 -0700 2006",
  RFC822: "02 Jan 06 15:04 MST",
  RFC822Z: "02 Jan 06 15:04 -0700",
  RFC850: "Monday, 02-Jan-06 15:04:05 MST",
  RFC1123: "Mon, 02 Jan 2006 15:04:05 MST",
  RFC1123Z: "Mon, 02 Jan 2006 15:04:05 -0700",
  RFC3339,
  RFC3339Nano: RFC3339_NANO,
};

function namedLayout(s: string): string {
  return Object.hasOwn(NAMED_LAYOUTS, s) ? NAMED_LAYOUTS[s] : s;
}

/** An integral number within int64 as a bigint, else undefined. */
function toInt64(v: number | bigint | BigDec): bigint | undefined {
  let b: bigint;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) return undefined;
    if (v >= 2 ** 63 || v < -(2 ** 63)) return undefined;
    b = BigInt(v);
  } else if (typeof v === "bigint") b = v;
  else {
    if (!v.d.isInteger()) return undefined;
    b = BigInt(v.d.toFixed(0));
  }
  return b >= INT64_MIN && b <= INT64_MAX ? b : undefined;
}

const TZ_ARG = "either number (ns) or [number (ns), string (tz)]";

function zone(name: string, tz: string): Location {
  if (tz === "" || tz === "UTC") return UTC;
  if (tz === "Local") return localZone();
  try {
    return loadLocation(tz);
  } catch (e) {
    if (e instanceof TzError) throw new BuiltinError(`${name}: ${e.message}`);
    throw e;
  }
}

/** A timestamp argument: ns, [ns, tz] or [ns, tz, layout]. */
function tzTime(name: string, a: Value): { t: GoTime; layout: string } {
  let nVal: Value;
  let loc = UTC;
  let layout = "";
  if (Array.isArray(a)) {
    if (a.length === 0) throw operandError(name, 1, TZ_ARG, a);
    nVal = a[0];
    if (!isNumber(nVal)) throw operandError(name, 1, "number", nVal);
    if (a.length > 1) {
      const tz = a[1];
      if (typeof tz !== "string") throw operandError(name, 1, "string", tz);
      loc = zone(name, tz);
    }
    if (a.length > 2) {
      const l = a[2];
      if (typeof l !== "string") throw operandError(name, 1, "string", l);
      layout = l;
    }
  } else if (isNumber(a)) nVal = a;
  else throw operandError(name, 1, TZ_ARG, a);
  const ns = toInt64(nVal as number | bigint | BigDec);
  if (ns === undefined) throw new BuiltinError(`${name}: timestamp too big`);
  return { t: fromUnixNano(ns, loc), layout };
}

function safeNanos(name: string, t: GoTime): number | bigint {
  const ns = unixNano(t);
  if (ns < INT64_MIN || ns > INT64_MAX) throw new BuiltinError(`${name}: time outside of valid range`);
  return fromBigInt(ns);
}

function str(name: string, pos: number, v: Value): string {
  if (typeof v !== "string") throw operandError(name, pos, "string", v);
  return v;
}

/** OPA's IntOperand: an integral number within Go's int. */
function intOperand(name: string, pos: number, v: Value): number {
  if (!isNumber(v)) throw operandError(name, pos, "number", v);
  // OPA's IntOperand reads the number's text: `1.0` or `1e3` is not an integer there.
  const b = v instanceof TextNumber && !/^-?\d+$/.test(v.text) ? undefined : toInt64(v);
  if (b === undefined) throw new BuiltinTypeError(`${name}: operand ${pos} must be integer number but got floating-point number`);
  return Number(b);
}

function parseWith(name: string, layout: string, value: string): number | bigint {
  let t: GoTime;
  try {
    t = parseTime(toBytes(layout), toBytes(value));
  } catch (e) {
    if (e instanceof ParseError) throw new BuiltinError(`${name}: ${fromBytes(e.message)}`);
    throw e;
  }
  return safeNanos(name, t);
}

// ---- Durations with OPA's extra units (d, w, y) ------------------------------------------------

const EXTENDED_HOURS: Record<string, number> = { d: 24, w: 7 * 24, y: 365 * 24 };

/** A float as Go's strconv.FormatFloat(x, 'f', -1, 64): shortest digits, never an exponent. */
function formatFloatF(x: number): string {
  const s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const digits = m[2] + (m[3] ?? "");
  const exp = Number(m[4]);
  if (exp >= 0) {
    const intLen = exp + 1;
    if (digits.length <= intLen) return m[1] + digits + "0".repeat(intLen - digits.length);
    return m[1] + digits.slice(0, intLen) + "." + digits.slice(intLen);
  }
  return m[1] + "0." + "0".repeat(-exp - 1) + digits;
}

/** Go's strconv.ParseFloat for the digit-and-dot strings the duration grammar admits. */
function parseDecimal(s: string): number | undefined {
  if (!/^(\d+\.?\d*|\.\d+)$/.test(s)) return undefined;
  return Number(s);
}

function parseDuration(s: string): bigint {
  const invalid = () => new DurationError("time: invalid duration " + goQuote(s));
  if (s === "") throw invalid();
  if (!/[dwy]/.test(s)) return parseGoDuration(toBytes(s));
  // sign? (digits unit)+ with unit one of ms us µs ns or a single lowercase letter
  const m = /^[-+]?/.exec(s)!;
  let rest = s.slice(m[0].length);
  let rewritten = m[0];
  if (rest === "") throw invalid();
  while (rest !== "") {
    const seg = /^([0-9.]+)(ms|us|\u00b5s|ns|[a-z])/.exec(rest);
    if (seg === null) throw invalid();
    const [all, digits, unit] = seg;
    rest = rest.slice(all.length);
    if (Object.hasOwn(EXTENDED_HOURS, unit)) {
      const v = parseDecimal(digits);
      if (v === undefined) throw invalid();
      rewritten += formatFloatF(v * EXTENDED_HOURS[unit]) + "h";
    } else rewritten += digits + unit;
  }
  try {
    return parseGoDuration(toBytes(rewritten));
  } catch (e) {
    if (!(e instanceof DurationError)) throw e;
    const msg = fromBytes(e.message);
    const i = msg.lastIndexOf(" ");
    throw new DurationError((i >= 0 ? msg.slice(0, i) : msg) + " " + goQuote(s));
  }
}

// ---- Builtins ----------------------------------------------------------------------------------

const tzArg = T.anyOf(T.number, T.tuple(T.number, T.string));

function nowNs(_args: Value[], ctx: BuiltinContext): Value {
  return fromBigInt(ctx.nowNs);
}

export const builtins: Builtin[] = [
  {
    name: "time.now_ns",
    decl: { type: "function", result: T.number },
    nondeterministic: true,
    impl: nowNs,
  },
  {
    name: "time.parse_ns",
    decl: T.fn([T.string, T.string], T.number),
    impl: ([layout, value]) => {
      const l = str("time.parse_ns", 1, layout);
      const v = str("time.parse_ns", 2, value);
      return parseWith("time.parse_ns", namedLayout(l), v);
    },
  },
  {
    name: "time.parse_rfc3339_ns",
    decl: T.fn([T.string], T.number),
    impl: ([value]) => parseWith("time.parse_rfc3339_ns", RFC3339, str("time.parse_rfc3339_ns", 1, value)),
  },
  {
    name: "time.parse_duration_ns",
    decl: T.fn([T.string], T.number),
    impl: ([value]) => {
      const s = str("time.parse_duration_ns", 1, value);
      try {
        return fromBigInt(parseDuration(s));
      } catch (e) {
        if (e instanceof DurationError) throw new BuiltinError(`time.parse_duration_ns: ${e.message}`);
        throw e;
      }
    },
  },
  {
    name: "time.date",
    decl: T.fn([tzArg], T.tuple(T.number, T.number, T.number)),
    impl: ([x]) => {
      const c = civil(tzTime("time.date", x).t);
      return [c.year, c.month, c.day];
    },
  },
  {
    name: "time.clock",
    decl: T.fn([tzArg], T.tuple(T.number, T.number, T.number)),
    impl: ([x]) => {
      const c = civil(tzTime("time.clock", x).t);
      return [c.hour, c.min, c.sec];
    },
  },
  {
    name: "time.weekday",
    decl: T.fn([tzArg], T.string),
    impl: ([x]) => LONG_DAYS[civil(tzTime("time.weekday", x).t).weekday],
  },
  {
    name: "time.add_date",
    decl: T.fn([T.number, T.number, T.number, T.number], T.number),
    impl: ([x, y, m, d]) => {
      const name = "time.add_date";
      const { t } = tzTime(name, x);
      const years = intOperand(name, 2, y);
      const months = intOperand(name, 3, m);
      const days = intOperand(name, 4, d);
      // Anything this far out is beyond int64 nanoseconds whatever the other fields are.
      if (Math.abs(years) > 1e9 || Math.abs(months) > 1e10 || Math.abs(days) > 1e12)
        throw new BuiltinError(`${name}: time outside of valid range`);
      const c = civil(t);
      return safeNanos(name, makeDate(c.year + years, c.month + months, c.day + days, c.hour, c.min, c.sec, c.nsec, t.loc));
    },
  },
  {
    name: "time.diff",
    decl: T.fn([tzArg, tzArg], T.tuple(T.number, T.number, T.number, T.number, T.number, T.number)),
    impl: ([a, b]) => {
      let t1 = tzTime("time.diff", a).t;
      let t2 = tzTime("time.diff", b).t;
      t2 = { ...t2, loc: t1.loc };
      if (t1.sec > t2.sec || (t1.sec === t2.sec && t1.nsec > t2.nsec)) [t1, t2] = [t2, t1];
      const c1 = civil(t1);
      const c2 = civil(t2);
      let year = c2.year - c1.year;
      let month = c2.month - c1.month;
      let day = c2.day - c1.day;
      let hour = c2.hour - c1.hour;
      let min = c2.min - c1.min;
      let sec = c2.sec - c1.sec;
      // Borrow from the next larger unit; a day borrows the length of the earlier month.
      if (sec < 0) {
        sec += 60;
        min--;
      }
      if (min < 0) {
        min += 60;
        hour--;
      }
      if (hour < 0) {
        hour += 24;
        day--;
      }
      if (day < 0) {
        day += daysIn(c1.month, c1.year);
        month--;
      }
      if (month < 0) {
        month += 12;
        year--;
      }
      return [year, month, day, hour, min, sec];
    },
  },
  {
    name: "time.format",
    decl: T.fn([T.anyOf(T.number, T.tuple(T.number, T.string), T.tuple(T.number, T.string, T.string))], T.string),
    impl: ([x]) => {
      const { t, layout } = tzTime("time.format", x);
      const l = layout === "" ? RFC3339_NANO : namedLayout(layout);
      return fromBytes(formatTime(t, toBytes(l)));
    },
  },
];
