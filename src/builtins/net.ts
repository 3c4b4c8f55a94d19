// net.* builtins: CIDR arithmetic over IPv4 and IPv6 with exact 128-bit integers (bigint), and
// DNS lookups. Address syntax and semantics follow Go's net package as OPA uses it: strict
// dotted quads (no leading zeros), RFC 4291 IPv6 text without zones, IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) treated as IPv4 when testing containment, classful masks for bare IPv4
// addresses in net.cidr_merge.

import type { Builtin, BuiltinContext } from "./registry.ts";
import { BuiltinError, BuiltinTypeError, T, operandError } from "./registry.ts";
import type { PlainObject, Value } from "../rego/value.ts";
import { RSet, isObject, objectEntries, typeName } from "../rego/value.ts";

// ---- Addresses ---------------------------------------------------------------------------------

/** An address as Go holds it: 4 bytes (IPv4) or 16 bytes (IPv6, possibly IPv4-mapped). */
interface Addr {
  v4: boolean;
  n: bigint; // 32-bit value when v4, else 128-bit
}

const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0
const MASK32 = (1n << 32n) - 1n;

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === "0")) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = (n << 8n) | BigInt(v);
  }
  return n;
}

function parseGroups(part: string, allowV4Tail: boolean): number[] | undefined {
  if (part === "") return [];
  const fields = part.split(":");
  const out: number[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (allowV4Tail && i === fields.length - 1 && f.includes(".")) {
      const v4 = parseIPv4(f);
      if (v4 === undefined) return undefined;
      out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      continue;
    }
    if (!/^[0-9A-Fa-f]{1,4}$/.test(f)) return undefined;
    out.push(parseInt(f, 16));
  }
  return out;
}

function parseIPv6(s: string): bigint | undefined {
  const dc = s.indexOf("::");
  let groups: number[];
  if (dc < 0) {
    const g = parseGroups(s, true);
    if (g === undefined || g.length !== 8) return undefined;
    groups = g;
  } else {
    if (s.indexOf("::", dc + 1) >= 0) return undefined;
    const head = parseGroups(s.slice(0, dc), false);
    const tail = parseGroups(s.slice(dc + 2), true);
    if (head === undefined || tail === undefined) return undefined;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  }
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(g);
  return n;
}

/** Go's net.ParseIP (zones rejected): IPv4 text gives a v4 address, IPv6 text a 16-byte one. */
export function parseIP(s: string): Addr | undefined {
  for (const c of s) {
    if (c === ".") {
      const n = parseIPv4(s);
      return n === undefined ? undefined : { v4: true, n };
    }
    if (c === ":") {
      const n = parseIPv6(s);
      return n === undefined ? undefined : { v4: false, n };
    }
    if (c === "%") return undefined;
  }
  return undefined;
}

function isMapped(n: bigint): boolean {
  return n >> 32n === 0xffffn;
}

/** Go's IP.To4 view: IPv4 and IPv4-mapped addresses as 32-bit, others unchanged. */
function to4(a: Addr): Addr {
  if (!a.v4 && isMapped(a.n)) return { v4: true, n: a.n & MASK32 };
  return a;
}

function formatIPv4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((sh) => String((n >> sh) & 0xffn)).join(".");
}

/** Go's IP.String: dotted quad for IPv4 and IPv4-mapped, RFC 5952 for the rest. */
export function formatIP(a: Addr): string {
  const x = to4(a);
  if (x.v4) return formatIPv4(x.n);
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((a.n >> BigInt(i * 16)) & 0xffffn));
  return formatIPv6Groups(g);
}

/** Eight 16-bit groups as RFC 5952 text (Go's IPv6 String): the longest run of two or more zero groups, the first if tied, becomes `::`. */
export function formatIPv6Groups(g: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i >= 2 && j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((v) => v.toString(16)).join(":");
  if (bestStart < 0) return hex(g);
  return hex(g.slice(0, bestStart)) + "::" + hex(g.slice(bestStart + bestLen));
}

// ---- Networks ----------------------------------------------------------------------------------

/** A parsed CIDR: network address (masked) and prefix length in its own family. */
interface Net {
  v4: boolean;
  n: bigint;
  prefix: number;
}

const bitsOf = (v4: boolean) => (v4 ? 32 : 128);

function hostMask(v4: boolean, prefix: number): bigint {
  return (1n << BigInt(bitsOf(v4) - prefix)) - 1n;
}

/** Go's net.ParseCIDR; undefined when invalid. */
export function parseCIDR(s: string): Net | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const m = s.slice(slash + 1);
  if (ip === undefined || !/^\d+$/.test(m)) return undefined;
  const prefix = Number(m);
  if (prefix > bitsOf(ip.v4)) return undefined;
  return { v4: ip.v4, n: ip.n & ~hostMask(ip.v4, prefix), prefix };
}

/**
 * The network as Go's IPNet.Contains sees it: an IPv6 network whose address is IPv4-mapped
 * behaves as an IPv4 network with the last 32 bits of its mask.
 */
function effective(net: Net): Net {
  if (!net.v4 && isMapped(net.n)) return { v4: true, n: net.n & MASK32, prefix: Math.max(0, net.prefix - 96) };
  return net;
}

function contains(net: Net, ip: Addr): boolean {
  const e = effective(net);
  const a = to4(ip);
  if (e.v4 !== a.v4) return false;
  const shift = BigInt(bitsOf(e.v4) - e.prefix);
  return e.n >> shift === a.n >> shift;
}

function lastAddr(net: Net): Addr {
  return { v4: net.v4, n: net.n | hostMask(net.v4, net.prefix) };
}

// ---- Errors ------------------------------------------------------------------------------------

/** An error without the builtin's name: the builtin that reports it adds its own. */
class NetError extends Error {
  constructor(
    message: string,
    readonly type = false,
  ) {
    super(message);
  }
}

function operand1String(v: Value): string {
  if (typeof v !== "string") throw new NetError(`operand 1 must be string but got ${typeName(v)}`, true);
  return v;
}

function cidrOperand(v: Value): Net {
  const s = operand1String(v);
  const net = parseCIDR(s);
  if (net === undefined) throw new NetError(`invalid CIDR address: ${s}`);
  return net;
}

function withName<A extends unknown[], R>(name: string, f: (...args: A) => R): (...args: A) => R {
  return (...args: A) => {
    try {
      return f(...args);
    } catch (e) {
      if (e instanceof NetError) throw e.type ? new BuiltinTypeError(`${name}: ${e.message}`) : new BuiltinError(`${name}: ${e.message}`);
      throw e;
    }
  };
}

// ---- Builtins ----------------------------------------------------------------------------------

/** net.cidr_contains: b is an address or a CIDR; errors name operand 1 for either, as OPA does. */
function cidrContains(a: Value, b: Value): boolean {
  const net = cidrOperand(a);
  const bs = operand1String(b);
  const ip = parseIP(bs);
  if (ip !== undefined) return contains(net, ip);
  const inner = parseCIDR(bs);
  if (inner === undefined) throw new NetError(`not a valid textual representation of an IP address or CIDR: ${bs}`);
  return contains(net, { v4: inner.v4, n: inner.n }) && contains(net, lastAddr(inner));
}

function cidrIntersects(a: Value, b: Value): boolean {
  const x = cidrOperand(a);
  const y = cidrOperand(b);
  return contains(x, { v4: y.v4, n: y.n }) || contains(y, { v4: x.v4, n: x.n });
}

/** The (cidr, index) pairs of a cidr_contains_matches operand, produced lazily in OPA's order. */
function* matchItems(pos: number, v: Value): Generator<[Value, Value]> {
  const cidrOf = (x: Value): Value => {
    if (typeof x === "string") return x;
    if (Array.isArray(x) && x.length > 0) return x[0];
    throw new NetError(`operand ${pos}: element must be string or non-empty array`);
  };
  if (typeof v === "string") yield [v, v];
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield [cidrOf(v[i]), i];
  else if (v instanceof RSet) for (const x of v.sorted()) yield [cidrOf(x), x];
  else if (isObject(v)) for (const [k, x] of objectEntries(v)) yield [cidrOf(x), k];
}

function cidrContainsMatches(a: Value, b: Value): RSet {
  const out = new RSet();
  for (const [c1, i1] of matchItems(1, a)) {
    for (const [c2, i2] of matchItems(2, b)) {
      if (cidrContains(c1, c2)) out.add([i1, i2]);
    }
  }
  return out;
}

const EXPAND_LIMIT = 1 << 20;

function cidrExpand(a: Value, ctx: BuiltinContext): RSet {
  const net = cidrOperand(a);
  const count = 1n << BigInt(bitsOf(net.v4) - net.prefix);
  if (count > BigInt(EXPAND_LIMIT)) throw new NetError(`CIDR ${a as string} is too large to expand (more than ${EXPAND_LIMIT} addresses)`);
  const out = new RSet();
  const n = Number(count);
  // (A million addresses: the deadline is read as they are made, every 4,096.)
  if (net.v4 && net.n + count - 1n <= 0xffffffffn) {
    // IPv4 in number arithmetic (BigInt per address took 2 s for a /12).
    const base = Number(net.n);
    for (let i = 0; i < n; i++) {
      const x = base + i;
      out.add(`${Math.floor(x / 16777216) & 255}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`);
      if ((i & 4095) === 4095) ctx.checkCancel();
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    out.add(formatIP({ v4: net.v4, n: net.n + BigInt(i) }));
    if ((i & 4095) === 4095) ctx.checkCancel();
  }
  return out;
}

// cidr_merge works on 128-bit ranges; IPv4 lives at ::ffff:0:0/96 as in Go's 16-byte form.

interface Range {
  first: bigint;
  last: bigint;
  net: string | null; // the original network's text when the range was not merged
}

function netString(v4: boolean, n: bigint, prefix: number): string {
  // IPNet.String: an IPv6 network with an IPv4-mapped address prints as IPv4.
  if (!v4 && isMapped(n) && prefix >= 96) return `${formatIPv4(n & MASK32)}/${prefix - 96}`;
  return `${formatIP({ v4, n })}/${prefix}`;
}

function to128(v4: boolean, n: bigint): bigint {
  return v4 ? MAPPED_PREFIX | n : n;
}

function mergeElement(x: Value): Range {
  if (typeof x !== "string") throw new NetError("element must be string");
  const ip = parseIP(x);
  if (ip !== undefined) {
    const a = to4(ip);
    if (!a.v4) throw new NetError("IPv6 invalid: needs prefix length");
    // A bare IPv4 address takes its classful mask; Go keeps the unmasked address in the text.
    const top = Number(a.n >> 24n);
    const prefix = top < 0x80 ? 8 : top < 0xc0 ? 16 : 24;
    const first = a.n & ~hostMask(true, prefix);
    return { first: to128(true, first), last: to128(true, first | hostMask(true, prefix)), net: `${formatIPv4(a.n)}/${prefix}` };
  }
  const net = parseCIDR(x);
  if (net === undefined) throw new NetError(`invalid CIDR address: ${x}`);
  const first = to128(net.v4, net.n);
  return { first, last: first | hostMask(net.v4, net.prefix), net: netString(net.v4, net.n, net.prefix) };
}

/** The aligned blocks that exactly cover [first, last]. */
function rangeToCIDRs(first: bigint, last: bigint): string[] {
  const out: string[] = [];
  let cur = first;
  while (cur <= last) {
    let size = 0;
    while (size < 128 && (cur & ((1n << BigInt(size + 1)) - 1n)) === 0n && cur + (1n << BigInt(size + 1)) - 1n <= last) size++;
    const prefix = 128 - size;
    if (isMapped(cur) && prefix >= 96) out.push(`${formatIPv4(cur & MASK32)}/${prefix - 96}`);
    else out.push(`${formatIP({ v4: false, n: cur })}/${prefix}`);
    cur += 1n << BigInt(size);
  }
  return out;
}

function cidrMerge(a: Value): RSet {
  let elems: Value[];
  if (Array.isArray(a)) elems = a;
  else if (a instanceof RSet) elems = a.sorted();
  else throw new NetError("operand must be an array");
  const ranges = elems.map(mergeElement);
  ranges.sort((x, y) => (x.last < y.last ? -1 : x.last > y.last ? 1 : x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
  for (let i = ranges.length - 1; i > 0; i--) {
    const f = ranges[i].first;
    // The address before the range (none before 0.0.0.0 and ::).
    const prev = f === 0n || f === MAPPED_PREFIX ? f : f - 1n;
    if (prev <= ranges[i - 1].last) {
      const first = ranges[i - 1].first < f ? ranges[i - 1].first : f;
      ranges[i - 1] = { first, last: ranges[i].last, net: null };
      ranges.splice(i, 1);
    }
  }
  const out = new RSet();
  for (const r of ranges) {
    if (r.net !== null) out.add(r.net);
    else for (const c of rangeToCIDRs(r.first, r.last)) out.add(c);
  }
  return out;
}

// ---- Table -------------------------------------------------------------------------------------

const cidrOrIp = T.anyOf(T.string, T.arrayOf(T.any));
const matchArg = T.anyOf(T.string, T.arrayOf(cidrOrIp), T.objectOf(T.string, cidrOrIp), T.setOf(cidrOrIp));

export const builtins: Builtin[] = [
  {
    name: "net.cidr_contains",
    decl: T.fn([T.string, T.string], T.boolean),
    impl: ([a, b]) => withName("net.cidr_contains", cidrContains)(a, b),
  },
  {
    name: "net.cidr_overlap",
    decl: T.fn([T.string, T.string], T.boolean),
    deprecated: true,
    impl: ([a, b]) => withName("net.cidr_overlap", cidrContains)(a, b),
  },
  {
    name: "net.cidr_intersects",
    decl: T.fn([T.string, T.string], T.boolean),
    impl: ([a, b]) => withName("net.cidr_intersects", cidrIntersects)(a, b),
  },
  {
    name: "net.cidr_contains_matches",
    decl: T.fn([matchArg, matchArg], T.setOf(T.tuple(T.any, T.any))),
    impl: ([a, b]) => withName("net.cidr_contains_matches", cidrContainsMatches)(a, b),
  },
  {
    name: "net.cidr_expand",
    decl: T.fn([T.string], T.setOf(T.string)),
    impl: ([a], ctx) => withName("net.cidr_expand", cidrExpand)(a, ctx),
  },
  {
    name: "net.cidr_merge",
    decl: T.fn([T.anyOf(T.arrayOf(T.anyOf(T.string)), T.setOf(T.string))], T.setOf(T.string)),
    impl: ([a]) => withName("net.cidr_merge", cidrMerge)(a),
  },
  {
    name: "net.cidr_is_valid",
    decl: T.fn([T.string], T.boolean),
    impl: ([a]) => typeof a === "string" && parseCIDR(a) !== undefined,
  },
];
