// IP addresses and CIDR prefixes for Kubernetes' CEL ip/cidr libraries, parsed as Go's
// net/netip does (no leading zeros in IPv4 octets), with Kubernetes' extra refusals: no IPv6
// zone, no IPv4-mapped IPv6 address.

import { formatIPv6Groups } from "../../builtins/net.ts";

export interface IP {
  v4: boolean;
  /** 4 or 16 bytes. */
  bytes: number[];
}

export interface CIDR {
  ip: IP;
  bits: number;
}

/** Go's netip parse errors: the message and the rest of the text it points at. */
class AddrError {
  constructor(
    readonly msg: string,
    readonly at?: string,
  ) {}
}

function parseV4(s: string): number[] | AddrError {
  const out: number[] = [];
  let val = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c >= "0" && c <= "9") {
      if (digits === 1 && val === 0) return new AddrError("IPv4 field has octet with leading zero");
      val = val * 10 + (c.charCodeAt(0) - 48);
      digits++;
      if (val > 255) return new AddrError("IPv4 field has value >255");
    } else if (c === ".") {
      if (i === 0 || i === s.length - 1 || s[i - 1] === ".") return new AddrError("IPv4 field must have at least one digit", s.slice(i));
      if (out.length === 3) return new AddrError("IPv4 address too long");
      out.push(val);
      val = 0;
      digits = 0;
    } else return new AddrError("unexpected character", s.slice(i));
  }
  if (out.length < 3) return new AddrError("IPv4 address too short");
  out.push(val);
  return out;
}

function parseV6(input: string): number[] | AddrError {
  let s = input;
  const ip = new Array<number>(16).fill(0);
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === "") return ip;
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    while (off < s.length) {
      const d = parseInt(s[off], 16);
      if (Number.isNaN(d)) break;
      if (off > 3) return new AddrError("IPv6 field has value >=2^16", s);
      acc = acc * 16 + d;
      off++;
    }
    if (off === 0) return new AddrError("each colon-separated field must have at least one digit", s);
    if (off < s.length && s[off] === ".") {
      if (ellipsis < 0 && i !== 12) return new AddrError("embedded IPv4 address must replace the final 2 fields of the address", s);
      if (i + 4 > 16) return new AddrError("too many hex fields to fit an embedded IPv4 at the end of the address", s);
      const v4 = parseV4(s);
      if (v4 instanceof AddrError) return v4;
      ip.splice(i, 4, ...v4);
      s = "";
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(off);
    if (s === "") break;
    if (s[0] !== ":") return new AddrError("unexpected character, want colon", s);
    if (s.length === 1) return new AddrError("colon must be followed by more characters", s);
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) return new AddrError("multiple :: in address", s);
      ellipsis = i;
      s = s.slice(1);
      if (s === "") break;
    }
  }
  if (s !== "") return new AddrError("trailing garbage after address", s);
  if (i < 16) {
    if (ellipsis < 0) return new AddrError("address string too short");
    const n = 16 - i;
    const tail = ip.slice(ellipsis, i);
    for (let j = ellipsis; j < 16; j++) ip[j] = 0;
    tail.forEach((b, k) => (ip[ellipsis + n + k] = b));
  } else if (ellipsis >= 0) return new AddrError("the :: must expand to at least one field of zeros");
  return ip;
}

/** netip.ParseAddr's error text. */
function addrError(s: string, e: AddrError): string {
  return `ParseAddr(${JSON.stringify(s)}): ${e.msg}${e.at !== undefined ? ` (at ${JSON.stringify(e.at)})` : ""}`;
}

/** The address of s as netip.ParseAddr reads it, or its error text. */
function parseAddr(s: string): { v4: boolean; bytes: number[]; zone: boolean } | string {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ".") {
      const b = parseV4(s);
      return b instanceof AddrError ? addrError(s, b) : { v4: true, bytes: b, zone: false };
    }
    if (s[i] === ":") {
      const pct = s.indexOf("%");
      const b = parseV6(pct >= 0 ? s.slice(0, pct) : s);
      if (b instanceof AddrError) return addrError(s, b);
      if (pct >= 0 && pct === s.length - 1) return addrError(s, new AddrError("zone must be a non-empty string"));
      return { v4: false, bytes: b, zone: pct >= 0 };
    }
    if (s[i] === "%") return addrError(s, new AddrError("missing IPv6 address"));
  }
  return addrError(s, new AddrError("unable to parse IP"));
}

const isMapped = (b: number[]) => b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** An address, or the error text. */
export function parseIP(s: string): IP | string {
  const err = (why: string) => `IP Address ${JSON.stringify(s)} parse error during conversion from string: ${why}`;
  if (s.length > 256) return err(`ParseAddr(${JSON.stringify(s.slice(0, 64))}…): address longer than 256 characters`);
  const a = parseAddr(s);
  if (typeof a === "string") return err(a);
  if (a.zone) return err("IP address with zone value is not allowed");
  if (isMapped(a.bytes)) return err("IPv4-mapped IPv6 address is not allowed");
  return { v4: a.v4, bytes: a.bytes };
}

/** A prefix, or the error text (Kubernetes repeats its prefix). */
export function parseCIDR(s: string): CIDR | string {
  const head = "network address parse error during conversion from string: ";
  const err = (why: string) => `${head}${head}netip.ParsePrefix(${JSON.stringify(s)}): ${why}`;
  const slash = s.lastIndexOf("/");
  if (slash < 0) return err("no '/'");
  const a = parseAddr(s.slice(0, slash));
  if (typeof a === "string") return err(a);
  if (a.zone) return err("IPv6 zones cannot be present in a prefix");
  const bitsStr = s.slice(slash + 1);
  const max = a.v4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bitsStr) || (bitsStr.length > 1 && bitsStr[0] === "0")) return err(`bad bits after slash: ${JSON.stringify(bitsStr)}`);
  if (Number(bitsStr) > max) return err("prefix length out of range");
  if (isMapped(a.bytes)) return `${head}IPv4-mapped IPv6 address is not allowed`;
  return { ip: { v4: a.v4, bytes: a.bytes }, bits: Number(bitsStr) };
}

export function ipToString(ip: IP): string {
  if (ip.v4) return ip.bytes.join(".");
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((ip.bytes[i] << 8) | ip.bytes[i + 1]);
  return formatIPv6Groups(g);
}

export function cidrToString(c: CIDR): string {
  return `${ipToString(c.ip)}/${c.bits}`;
}

export function isCanonicalIP(s: string, ip: IP): boolean {
  return s === ipToString(ip);
}

export function ipFamily(ip: IP): number {
  return ip.v4 ? 4 : 6;
}

export function ipIsUnspecified(ip: IP): boolean {
  return ip.bytes.every((b) => b === 0);
}

export function ipIsLoopback(ip: IP): boolean {
  if (ip.v4) return ip.bytes[0] === 127;
  return ip.bytes.slice(0, 15).every((b) => b === 0) && ip.bytes[15] === 1;
}

export function ipIsLinkLocalMulticast(ip: IP): boolean {
  if (ip.v4) return ip.bytes[0] === 224 && ip.bytes[1] === 0 && ip.bytes[2] === 0;
  return ip.bytes[0] === 0xff && (ip.bytes[1] & 0x0f) === 0x02;
}

export function ipIsLinkLocalUnicast(ip: IP): boolean {
  if (ip.v4) return ip.bytes[0] === 169 && ip.bytes[1] === 254;
  return ip.bytes[0] === 0xfe && (ip.bytes[1] & 0xc0) === 0x80;
}

function isMulticast(ip: IP): boolean {
  return ip.v4 ? (ip.bytes[0] & 0xf0) === 0xe0 : ip.bytes[0] === 0xff;
}

export function ipIsGlobalUnicast(ip: IP): boolean {
  if (ip.v4 && ip.bytes.every((b) => b === 255)) return false;
  return !ipIsUnspecified(ip) && !ipIsLoopback(ip) && !isMulticast(ip) && !ipIsLinkLocalUnicast(ip);
}

function prefixMatch(a: number[], b: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((a[byte] & mask) !== (b[byte] & mask)) return false;
  }
  return true;
}

export function cidrContainsIP(c: CIDR, ip: IP): boolean {
  return c.ip.v4 === ip.v4 && prefixMatch(c.ip.bytes, ip.bytes, c.bits);
}

export function cidrContainsCIDR(c: CIDR, o: CIDR): boolean {
  return c.ip.v4 === o.ip.v4 && o.bits >= c.bits && prefixMatch(c.ip.bytes, o.ip.bytes, c.bits);
}

export function cidrMasked(c: CIDR): CIDR {
  const bytes = c.ip.bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, c.bits - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  return { ip: { v4: c.ip.v4, bytes }, bits: c.bits };
}
