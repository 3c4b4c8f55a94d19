/**
 * TOML (`.toml`), read with smol-toml and shaped like conftest's output:
 * dates and times become the strings Go prints for a time.Time
 * (offset date-times keep their offset, `+00:00` prints as `Z`; local
 * date-times, dates and times are taken as UTC: `1979-05-27T07:32:00Z`,
 * `1979-05-27T00:00:00Z`, `0000-01-01T07:32:00Z`). inf/nan cannot be
 * represented in JSON and are errors, as in conftest.
 */
import type { TomlDate } from 'smol-toml';
import { ParseError, type InputParser } from './types.ts';
import { lazyRequire } from '../lazy.ts';

/** smol-toml, loaded with the first TOML input (its CommonJS build, as src/conftest/settings.ts loads it). */
const smolToml = lazyRequire<typeof import('smol-toml')>('smol-toml');
import { DEPTH_REASON, MAX_DEPTH, setOwn } from './limits.ts';
import { mapTree } from '../builtins/support/tree.ts';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function fraction(ms: number): string {
  if (ms === 0) return '';
  return ('.' + pad(ms, 3)).replace(/0+$/, '');
}

/** Go's RFC 3339 (nano) rendering of a TOML date/time. */
export function goTime(d: TomlDate): string {
  const iso = d.toISOString();
  if (d.isTime()) {
    // HH:MM:SS(.fff)
    const ms = d.getUTCMilliseconds();
    return `0000-01-01T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction(ms)}Z`;
  }
  if (d.isDate()) return `${iso.slice(0, 10)}T00:00:00Z`;
  if (d.isLocal()) {
    // local date-time: iso is YYYY-MM-DDTHH:MM:SS.mmm
    return iso.slice(0, 19) + fraction(d.getUTCMilliseconds()) + 'Z';
  }
  // offset date-time: iso is wall time + offset ("Z" or "+hh:mm")
  const m = /^(.{19})(\.\d+)?(Z|z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) return iso;
  const off = m[3]!.toUpperCase() === 'Z' || m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : m[3]!;
  return m[1]! + fraction(d.getUTCMilliseconds()) + off;
}

/**
 * smol-toml keeps milliseconds only; Go keeps nanoseconds. Map each
 * millisecond rendering of a literal with a longer fraction to its full one.
 */
function fineFractions(content: string): Map<string, string> | undefined {
  let map: Map<string, string> | undefined;
  const re = /(?:(\d{4}-\d{2}-\d{2})[Tt ])?(\d{2}:\d{2}:\d{2})\.(\d{4,})(Z|z|[+-]\d{2}:\d{2})?/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(content)) !== null) {
    try {
      const lit = (m[1] ? m[1] + 'T' : '') + m[2] + '.' + m[3] + (m[4] ?? '');
      const d = new (smolToml().TomlDate)(lit);
      if (Number.isNaN(d.getTime())) continue;
      const coarse = goTime(d);
      const frac = m[3]!.slice(0, 9).replace(/0+$/, '');
      const fine = coarse.replace(/(:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, (_a, sec: string, _f: string, off: string) => sec + (frac ? '.' + frac : '') + off);
      (map ??= new Map()).set(coarse, fine);
    } catch {
      // not a date
    }
  }
  return map;
}

function convertLeaf(v: unknown, file: string, fine?: Map<string, string>): unknown {
  if (v instanceof smolToml().TomlDate) {
    const t = goTime(v);
    return fine?.get(t) ?? t;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ParseError(`json: unsupported value: ${v}`, { file, parser: 'toml' });
    return v;
  }
  if (typeof v === 'bigint') {
    // go-toml reads integers as int64 (smol-toml accepts any size)
    if (v > 9223372036854775807n || v < -9223372036854775808n) throw new ParseError(`${v} is out of range for int64`, { file, parser: 'toml' });
    return Number(v);
  }
  return v;
}

/** smol-toml's value as conftest prints it (without recursion: dotted keys can nest deeply). */
function convert(v: unknown, file: string, fine?: Map<string, string>): unknown {
  return mapTree(
    v,
    (src, kids) => {
      if (Array.isArray(src)) return kids;
      const out: Record<string, unknown> = {};
      Object.keys(src).forEach((k, i) => setOwn(out, k, kids[i]));
      return out;
    },
    (x) => convertLeaf(x, file, fine),
  );
}

/** smol-toml rolls impossible dates over (Feb 30 → Mar 1); Go's reader rejects them. */
function checkDates(content: string, file: string): void {
  const re = /([=[,]\s*)(\d{4})-(\d{2})-(\d{2})/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(content)) !== null) {
    const y = Number(m[2]);
    const mo = Number(m[3]);
    const d = Number(m[4]);
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
    if (days !== undefined && d > days) {
      const at = m.index + m[1]!.length;
      const lit = /^[^\s,\]#]+/.exec(content.slice(at))![0];
      const line = content.slice(0, at).split('\n').length;
      throw new ParseError(`invalid datetime: ${JSON.stringify(lit)}`, { file, parser: 'toml', line });
    }
  }
}

function parse(content: string, file: string): unknown {
  checkDates(content, file);
  let doc: unknown;
  try {
    doc = smolToml().parse(content, { integersAsBigInt: 'asNeeded', maxDepth: MAX_DEPTH });
  } catch (e) {
    if (e instanceof smolToml().TomlError) {
      let reason = e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      if (/excessively nested/.test(reason)) reason = DEPTH_REASON;
      throw new ParseError(reason, { file, parser: 'toml', line: e.line, column: e.column, cause: e });
    }
    throw e;
  }
  return convert(doc, file, fineFractions(content));
}

export const tomlParser: InputParser = { name: 'toml', parse };
