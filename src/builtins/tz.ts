// Time zones and calendar arithmetic with the semantics of Go's `time` package, which OPA's time
// builtins inherit: zone data is read from the system's compiled tz database (TZif files, with
// their POSIX TZ footer for times past the last transition), falling back to the ICU data of
// Intl.DateTimeFormat where no file exists. Written from RFC 8536, POSIX TZ rules and the
// observable behaviour of Go (`opa eval` as the oracle).

import { readZoneFile } from "./support/zonefile.ts";

// ---- Calendar ----------------------------------------------------------------------------------

export const SECONDS_PER_DAY = 86400;

export function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}
export function floorMod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}

export function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in month m (1–12) of year y. */
export function daysIn(m: number, y: number): number {
  return m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m - 1];
}

/** Days before the first of month m (1–13) in a non-leap year. */
export function daysBefore(m: number): number {
  let n = 0;
  for (let i = 1; i < m; i++) n += MONTH_DAYS[i - 1];
  return n;
}

/** Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m in 1–12). */
export function daysFromCivil(y: number, m: number, d: number): number {
  // Count from March so the leap day ends the year; 400-year eras of 146097 days.
  const yy = m <= 2 ? y - 1 : y;
  const era = floorDiv(yy, 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12; // March = 0
  const doy = floorDiv(153 * mp + 2, 5) + d - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil date of a day count since 1970-01-01. */
export function civilFromDays(z: number): { year: number; month: number; day: number } {
  const zz = z + 719468;
  const era = floorDiv(zz, 146097);
  const doe = zz - era * 146097;
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const day = doy - floorDiv(153 * mp + 2, 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

// ---- Locations ---------------------------------------------------------------------------------

export interface ZoneLookup {
  name: string;
  offset: number; // seconds east of UTC
  start: number; // unix seconds, inclusive (−Infinity: since always)
  end: number; // unix seconds, exclusive (Infinity: forever)
  isDST: boolean;
}

export interface Location {
  readonly name: string;
  lookup(sec: number): ZoneLookup;
  /** The offset of a zone abbreviation in effect around `sec`, as Go's parse uses for Local. */
  lookupName(abbr: string, sec: number): number | undefined;
}

export class FixedLocation implements Location {
  constructor(
    readonly name: string,
    readonly abbr: string,
    readonly offset: number,
  ) {}
  lookup(): ZoneLookup {
    return { name: this.abbr, offset: this.offset, start: -Infinity, end: Infinity, isDST: false };
  }
  lookupName(abbr: string): number | undefined {
    return abbr === this.abbr ? this.offset : undefined;
  }
}

export const UTC: Location = new FixedLocation("UTC", "UTC", 0);

interface Zone {
  name: string;
  offset: number;
  isDST: boolean;
}

class TzifLocation implements Location {
  constructor(
    readonly name: string,
    readonly zones: Zone[],
    readonly tx: { when: number; index: number }[],
    readonly extend: string,
  ) {}

  private firstZone(): number {
    // Before the first transition: zone 0 unless transitions use it, else the standard-time
    // zone nearest before the first transition's zone, else the first standard-time zone.
    if (!this.tx.some((t) => t.index === 0)) return 0;
    if (this.tx.length > 0 && this.zones[this.tx[0].index].isDST) {
      for (let zi = this.tx[0].index - 1; zi >= 0; zi--) if (!this.zones[zi].isDST) return zi;
    }
    for (let zi = 0; zi < this.zones.length; zi++) if (!this.zones[zi].isDST) return zi;
    return 0;
  }

  lookup(sec: number): ZoneLookup {
    const tx = this.tx;
    if (tx.length === 0 || sec < tx[0].when) {
      const z = this.zones[this.firstZone()];
      return { name: z.name, offset: z.offset, start: -Infinity, end: tx.length > 0 ? tx[0].when : Infinity, isDST: z.isDST };
    }
    let lo = 0;
    let hi = tx.length;
    let end = Infinity;
    while (hi - lo > 1) {
      const m = (lo + hi) >>> 1;
      if (sec < tx[m].when) {
        end = tx[m].when;
        hi = m;
      } else lo = m;
    }
    const z = this.zones[tx[lo].index];
    const res: ZoneLookup = { name: z.name, offset: z.offset, start: tx[lo].when, end, isDST: z.isDST };
    if (lo === tx.length - 1 && this.extend !== "") {
      const r = tzRule(this.extend, res.start, sec);
      if (r !== undefined) return r;
    }
    return res;
  }

  lookupName(abbr: string, sec: number): number | undefined {
    for (const z of this.zones) {
      if (z.name === abbr && this.lookup(sec - z.offset).name === z.name) return this.lookup(sec - z.offset).offset;
    }
    for (const z of this.zones) if (z.name === abbr) return z.offset;
    return undefined;
  }
}

/** A zone known only to ICU: offsets from Intl.DateTimeFormat. */
export class IntlLocation implements Location {
  private fmt: Intl.DateTimeFormat;
  private abbrFmt: Intl.DateTimeFormat;
  constructor(readonly name: string) {
    this.fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short",
    });
    this.abbrFmt = new Intl.DateTimeFormat("en-US", { timeZone: name, timeZoneName: "short" });
  }
  private offsetAt(sec: number): number {
    const ms = Math.max(-8.64e15, Math.min(8.64e15, sec * 1000));
    const parts: Record<string, string> = {};
    for (const p of this.fmt.formatToParts(new Date(ms))) parts[p.type] = p.value;
    let year = Number(parts.year);
    if (parts.era === "BC" || parts.era === "B") year = 1 - year;
    const local =
      daysFromCivil(year, Number(parts.month), Number(parts.day)) * SECONDS_PER_DAY +
      Number(parts.hour) * 3600 +
      Number(parts.minute) * 60 +
      Number(parts.second);
    return local - Math.floor(ms / 1000);
  }
  lookup(sec: number): ZoneLookup {
    const offset = this.offsetAt(sec);
    const ms = Math.max(-8.64e15, Math.min(8.64e15, sec * 1000));
    const tzn = this.abbrFmt.formatToParts(new Date(ms)).find((p) => p.type === "timeZoneName")?.value ?? "";
    let name = tzn;
    if (!/^[A-Za-z]{3,5}$/.test(tzn) || tzn === "GMT" && offset !== 0) name = numericAbbr(offset);
    return { name, offset, start: sec, end: sec + 1, isDST: false };
  }
  lookupName(): number | undefined {
    return undefined;
  }
}

/** "+09", "+0530", "-03" as the tz database names zones without a letter abbreviation. */
function numericAbbr(offset: number): string {
  const sign = offset < 0 ? "-" : "+";
  const a = Math.abs(offset);
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  return sign + String(h).padStart(2, "0") + (m !== 0 ? String(m).padStart(2, "0") : "");
}

// ---- TZif files --------------------------------------------------------------------------------

export class TzError extends Error {}

const BAD_DATA = "malformed time zone information";

function parseTzif(name: string, buf: Buffer): Location {
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new TzError(BAD_DATA);
  };
  need(20);
  if (buf.toString("latin1", 0, 4) !== "TZif") throw new TzError(BAD_DATA);
  const ver = buf[4];
  if (ver !== 0 && ver !== 0x32 && ver !== 0x33) throw new TzError(BAD_DATA);
  pos = 20;
  const counts = (): number[] => {
    need(24);
    const n: number[] = [];
    for (let i = 0; i < 6; i++) n.push(buf.readUInt32BE(pos + 4 * i));
    pos += 24;
    return n;
  };
  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  let n = counts();
  let size = 4;
  if (ver !== 0) {
    pos += n[3] * 4 + n[3] + n[4] * 6 + n[5] + n[2] * 8 + n[1] + n[0];
    need(20);
    pos += 20;
    n = counts();
    size = 8;
  }
  const [isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt] = n;
  need(timecnt * size + timecnt + typecnt * 6 + charcnt + leapcnt * (size + 4) + isstdcnt + isutcnt);
  const times: number[] = [];
  for (let i = 0; i < timecnt; i++) {
    times.push(size === 8 ? Number(buf.readBigInt64BE(pos)) : buf.readInt32BE(pos));
    pos += size;
  }
  const idx: number[] = [];
  for (let i = 0; i < timecnt; i++) idx.push(buf[pos++]);
  const typeStart = pos;
  pos += typecnt * 6;
  const abbrev = buf.subarray(pos, pos + charcnt);
  pos += charcnt;
  pos += leapcnt * (size + 4) + isstdcnt + isutcnt;
  const rest = buf.subarray(pos);
  let extend = "";
  if (rest.length > 2 && rest[0] === 0x0a && rest[rest.length - 1] === 0x0a) extend = rest.toString("latin1", 1, rest.length - 1);
  if (typecnt === 0) throw new TzError(BAD_DATA);
  const zones: Zone[] = [];
  for (let i = 0; i < typecnt; i++) {
    const p = typeStart + i * 6;
    const off = buf.readInt32BE(p);
    const ai = buf[p + 5];
    if (ai >= abbrev.length) throw new TzError(BAD_DATA);
    let e = abbrev.indexOf(0, ai);
    if (e < 0) e = abbrev.length;
    zones.push({ offset: off, isDST: buf[p + 4] !== 0, name: abbrev.toString("latin1", ai, e) });
  }
  const tx: { when: number; index: number }[] = [];
  for (let i = 0; i < timecnt; i++) {
    if (idx[i] >= zones.length) throw new TzError(BAD_DATA);
    tx.push({ when: times[i], index: idx[i] });
  }
  if (tx.length === 0) tx.push({ when: -Infinity, index: 0 });
  return new TzifLocation(name, zones, tx, extend);
}

const ZONE_DIRS = ["/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/", "/etc/zoneinfo/"];

const ERRNO_TEXT: Record<string, string> = {
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  EACCES: "permission denied",
  ENAMETOOLONG: "file name too long",
  ELOOP: "too many levels of symbolic links",
  EINVAL: "invalid argument",
};

/** Read `name` from the first of `dirs` that has it; undefined when none does. */
function loadFromDirs(name: string, dirs: string[]): Location | undefined {
  let firstErr: Error | undefined;
  for (const dir of dirs) {
    let data: Buffer;
    try {
      data = readZoneFile(dir + name);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "";
      if (code !== "ENOENT" && firstErr === undefined) firstErr = new TzError(ERRNO_TEXT[code] ?? (e as Error).message);
      continue;
    }
    try {
      return parseTzif(name, data);
    } catch (e) {
      if (firstErr === undefined) firstErr = e as Error;
    }
  }
  if (firstErr !== undefined) throw firstErr;
  return undefined;
}

let intlZones: Set<string> | undefined;
function intlKnows(name: string): boolean {
  if (intlZones === undefined) {
    try {
      intlZones = new Set((Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf("timeZone"));
    } catch {
      intlZones = new Set();
    }
  }
  if (intlZones.has(name)) return true;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone === name;
  } catch {
    return false;
  }
}

const locationCache = new Map<string, Location>();
let localLocation: Location | undefined;

/** The machine's local zone, as Go derives it from $TZ and /etc/localtime. */
export function localZone(): Location {
  if (localLocation !== undefined) return localLocation;
  let loc: Location | undefined;
  const tz = typeof process === "undefined" ? undefined : process.env.TZ;
  try {
    if (tz === undefined) {
      loc = loadFromDirs("localtime", ["/etc/"]);
      if (loc === undefined) {
        const sys = new Intl.DateTimeFormat().resolvedOptions().timeZone;
        if (sys && sys !== "UTC" && sys !== "Etc/UTC") loc = loadLocation(sys);
      }
    } else if (tz !== "") {
      const t = tz.startsWith(":") ? tz.slice(1) : tz;
      if (t.startsWith("/")) loc = loadFromDirs(t, [""]);
      else if (t !== "" && t !== "UTC") loc = loadFromDirs(t, ZONE_DIRS);
    }
  } catch {
    loc = undefined;
  }
  localLocation = loc ?? UTC;
  return localLocation;
}

/** Go's time.LoadLocation: throws TzError with Go's message when the zone cannot be loaded. */
export function loadLocation(name: string): Location {
  if (name === "" || name === "UTC") return UTC;
  if (name === "Local") return localZone();
  const cached = locationCache.get(name);
  if (cached !== undefined) return cached;
  if (name.includes("..") || name[0] === "/" || name[0] === "\\") throw new TzError("time: invalid location name");
  const dirs = process.env.ZONEINFO ? [process.env.ZONEINFO.replace(/\/?$/, "/"), ...ZONE_DIRS] : ZONE_DIRS;
  let loc = loadFromDirs(name, dirs);
  if (loc === undefined && !name.includes("\u0000") && intlKnows(name)) loc = new IntlLocation(name);
  if (loc === undefined) throw new TzError("unknown time zone " + name);
  locationCache.set(name, loc);
  return loc;
}

// ---- POSIX TZ rules (the TZif footer) ----------------------------------------------------------

interface Rule {
  kind: "J" | "D" | "M";
  day: number;
  week: number;
  mon: number;
  time: number;
}

function tzNum(s: string, min: number, max: number): [number, string] | undefined {
  if (s.length === 0) return undefined;
  let num = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) {
      if (i === 0 || num < min) return undefined;
      return [num, s.slice(i)];
    }
    num = num * 10 + (c - 48);
    if (num > max) return undefined;
  }
  if (num < min) return undefined;
  return [num, ""];
}

function tzName(s: string): [string, string] | undefined {
  if (s.length === 0) return undefined;
  if (s[0] === "<") {
    const i = s.indexOf(">");
    return i < 0 ? undefined : [s.slice(1, i), s.slice(i + 1)];
  }
  for (let i = 0; i < s.length; i++) {
    if ("0123456789,-+".includes(s[i])) return i < 3 ? undefined : [s.slice(0, i), s.slice(i)];
  }
  return s.length < 3 ? undefined : [s, ""];
}

function tzOffset(s: string): [number, string] | undefined {
  if (s.length === 0) return undefined;
  let neg = false;
  if (s[0] === "+") s = s.slice(1);
  else if (s[0] === "-") {
    s = s.slice(1);
    neg = true;
  }
  let r = tzNum(s, 0, 24 * 7);
  if (r === undefined) return undefined;
  let off = r[0] * 3600;
  s = r[1];
  if (s[0] === ":") {
    r = tzNum(s.slice(1), 0, 59);
    if (r === undefined) return undefined;
    off += r[0] * 60;
    s = r[1];
    if (s[0] === ":") {
      r = tzNum(s.slice(1), 0, 59);
      if (r === undefined) return undefined;
      off += r[0];
      s = r[1];
    }
  }
  return [neg ? -off : off, s];
}

function tzRuleSpec(s: string): [Rule, string] | undefined {
  if (s.length === 0) return undefined;
  const r: Rule = { kind: "D", day: 0, week: 0, mon: 0, time: 7200 };
  if (s[0] === "J") {
    const n = tzNum(s.slice(1), 1, 365);
    if (n === undefined) return undefined;
    r.kind = "J";
    r.day = n[0];
    s = n[1];
  } else if (s[0] === "M") {
    const m = tzNum(s.slice(1), 1, 12);
    if (m === undefined || m[1][0] !== ".") return undefined;
    const w = tzNum(m[1].slice(1), 1, 5);
    if (w === undefined || w[1][0] !== ".") return undefined;
    const d = tzNum(w[1].slice(1), 0, 6);
    if (d === undefined) return undefined;
    r.kind = "M";
    r.mon = m[0];
    r.week = w[0];
    r.day = d[0];
    s = d[1];
  } else {
    const n = tzNum(s, 0, 365);
    if (n === undefined) return undefined;
    r.day = n[0];
    s = n[1];
  }
  if (s[0] !== "/") return [r, s];
  const o = tzOffset(s.slice(1));
  if (o === undefined) return undefined;
  r.time = o[0];
  return [r, o[1]];
}

/** Seconds from the start of `year` (local standard time `off`) at which the rule fires. */
function ruleTime(year: number, r: Rule, off: number): number {
  let s = 0;
  if (r.kind === "J") {
    s = (r.day - 1) * SECONDS_PER_DAY;
    if (isLeap(year) && r.day >= 60) s += SECONDS_PER_DAY;
  } else if (r.kind === "D") {
    s = r.day * SECONDS_PER_DAY;
  } else {
    // Weekday of the first of the month, then the `week`th such weekday (5 = the last).
    const dow1 = floorMod(daysFromCivil(year, r.mon, 1) + 4, 7);
    let d = r.day - dow1;
    if (d < 0) d += 7;
    for (let i = 1; i < r.week; i++) {
      if (d + 7 >= daysIn(r.mon, year)) break;
      d += 7;
    }
    d += daysBefore(r.mon);
    if (isLeap(year) && r.mon > 2) d++;
    s = d * SECONDS_PER_DAY;
  }
  return s + r.time - off;
}

function tzRule(spec: string, lastTx: number, sec: number): ZoneLookup | undefined {
  let s = spec;
  const sn = tzName(s);
  if (sn === undefined) return undefined;
  let stdName = sn[0];
  const so = tzOffset(sn[1]);
  if (so === undefined) return undefined;
  let stdOffset = 0 - so[0];
  s = so[1];
  if (s.length === 0 || s[0] === ",") return { name: stdName, offset: stdOffset, start: lastTx, end: Infinity, isDST: false };
  const dn = tzName(s);
  if (dn === undefined) return undefined;
  let dstName = dn[0];
  s = dn[1];
  let dstOffset: number;
  if (s.length === 0 || s[0] === ",") dstOffset = stdOffset + 3600;
  else {
    const d = tzOffset(s);
    if (d === undefined) return undefined;
    dstOffset = 0 - d[0];
    s = d[1];
  }
  if (s.length === 0) s = ",M3.2.0,M11.1.0";
  if (s[0] !== "," && s[0] !== ";") return undefined;
  const r1 = tzRuleSpec(s.slice(1));
  if (r1 === undefined || r1[1][0] !== ",") return undefined;
  const r2 = tzRuleSpec(r1[1].slice(1));
  if (r2 === undefined || r2[1].length > 0) return undefined;

  const days = floorDiv(sec, SECONDS_PER_DAY);
  const { year } = civilFromDays(days);
  const yday = days - daysFromCivil(year, 1, 1) + 1;
  // Go computes the second of the year with a truncating remainder.
  const ysec = (yday - 1) * SECONDS_PER_DAY + (sec % SECONDS_PER_DAY);
  const ystart = sec - ysec;
  let startSec = ruleTime(year, r1[0], stdOffset);
  let endSec = ruleTime(year, r2[0], dstOffset);
  let dstIsDST = true;
  let stdIsDST = false;
  if (endSec < startSec) {
    [startSec, endSec] = [endSec, startSec];
    [stdName, dstName] = [dstName, stdName];
    [stdOffset, dstOffset] = [dstOffset, stdOffset];
    [stdIsDST, dstIsDST] = [dstIsDST, stdIsDST];
  }
  if (ysec < startSec) return { name: stdName, offset: stdOffset, start: ystart, end: startSec + ystart, isDST: stdIsDST };
  if (ysec >= endSec) return { name: stdName, offset: stdOffset, start: endSec + ystart, end: ystart + 365 * SECONDS_PER_DAY, isDST: stdIsDST };
  return { name: dstName, offset: dstOffset, start: startSec + ystart, end: endSec + ystart, isDST: dstIsDST };
}

// ---- Instants ----------------------------------------------------------------------------------

/** An instant (unix seconds + nanoseconds) seen in a location. */
export interface GoTime {
  sec: number;
  nsec: number; // 0 ≤ nsec < 1e9
  loc: Location;
}

export interface Civil {
  year: number;
  month: number;
  day: number;
  yday: number; // 1-based
  weekday: number; // 0 = Sunday
  hour: number;
  min: number;
  sec: number;
  nsec: number;
  zoneName: string;
  offset: number;
}

export function civil(t: GoTime): Civil {
  const z = t.loc.lookup(t.sec);
  const local = t.sec + z.offset;
  const days = floorDiv(local, SECONDS_PER_DAY);
  const sod = local - days * SECONDS_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  return {
    year,
    month,
    day,
    yday: days - daysFromCivil(year, 1, 1) + 1,
    weekday: floorMod(days + 4, 7),
    hour: Math.floor(sod / 3600),
    min: Math.floor((sod % 3600) / 60),
    sec: sod % 60,
    nsec: t.nsec,
    zoneName: z.name,
    offset: z.offset,
  };
}

/** Go's time.Date: fields may overflow and are normalised; the result is in `loc`. */
export function makeDate(
  year: number,
  month: number,
  day: number,
  hour: number,
  min: number,
  sec: number,
  nsec: number,
  loc: Location,
): GoTime {
  const m0 = month - 1;
  const y = year + floorDiv(m0, 12);
  const m = floorMod(m0, 12) + 1;
  sec += floorDiv(nsec, 1e9);
  nsec = floorMod(nsec, 1e9);
  let unix = (daysFromCivil(y, m, 1) + day - 1) * SECONDS_PER_DAY + hour * 3600 + min * 60 + sec;
  const z = loc.lookup(unix);
  let offset = z.offset;
  if (offset !== 0) {
    const utc = unix - offset;
    if (utc < z.start || utc >= z.end) offset = loc.lookup(utc).offset;
    unix -= offset;
  }
  return { sec: unix, nsec, loc };
}

const NS = 1_000_000_000n;
export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

export function unixNano(t: GoTime): bigint {
  return BigInt(t.sec) * NS + BigInt(t.nsec);
}

export function fromUnixNano(ns: bigint, loc: Location): GoTime {
  let s = ns / NS;
  let r = ns % NS;
  if (r < 0n) {
    r += NS;
    s -= 1n;
  }
  return { sec: Number(s), nsec: Number(r), loc };
}
