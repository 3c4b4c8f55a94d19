// IP addresses and CIDR prefixes for Kubernetes' CEL ip/cidr libraries, parsed as Go's
// net/netip does (no leading zeros in IPv4 octets), with Kubernetes' extra refusals: no IPv6
// zone, no IPv4-mapped IPv6 address.

export interface IP {
  v4: boolean;
  /** 4 or 16 bytes. */
  bytes: number[];
}

export interface CIDR {
  ip: IP;
  bits: number;
}

function parseV4(s: string): number[] | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === "0")) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

function parseV6(s: string): number[] | null {
  let tail: number[] = [];
  let str = s;
  const lastColon = str.lastIndexOf(":");
  if (str.includes(".")) {
    const v4 = parseV4(str.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    str = str.slice(0, lastColon + 1) + "0:0";
  }
  const dbl = str.indexOf("::");
  if (dbl >= 0 && str.indexOf("::", dbl + 1) >= 0) return null;
  const groupsOf = (x: string): number[] | null => {
    if (x === "") return [];
    const out: number[] = [];
    for (const g of x.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const a = groupsOf(str.slice(0, dbl));
    const b = groupsOf(str.slice(dbl + 2));
    if (!a || !b || a.length + b.length > 7) return null;
    groups = [...a, ...new Array(8 - a.length - b.length).fill(0), ...b];
  } else {
    const g = groupsOf(str);
    if (!g || g.length !== 8) return null;
    groups = g;
  }
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

const isMapped = (b: number[]) => b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** An address, or the error text. */
export function parseIP(s: string): IP | string {
  const err = (why: string) => `IP Address ${JSON.stringify(s)} parse error during conversion from string: ${why}`;
  if (s.includes("%")) return err("IP address with zone value is not allowed");
  if (s.length > 64) return err(`ParseAddr(${JSON.stringify(s)}): unable to parse IP`);
  if (!s.includes(":")) {
    const b = parseV4(s);
    return b ? { v4: true, bytes: b } : err(`ParseAddr(${JSON.stringify(s)}): unable to parse IP`);
  }
  const b = parseV6(s);
  if (!b) return err(`ParseAddr(${JSON.stringify(s)}): unable to parse IP`);
  if (isMapped(b)) return err("IPv4-mapped IPv6 address is not allowed");
  return { v4: false, bytes: b };
}

/** A prefix, or the error text. */
export function parseCIDR(s: string): CIDR | string {
  const err = (why: string) => `network address parse error during conversion from string: ${why}`;
  const slash = s.lastIndexOf("/");
  if (slash < 0) return err(`netip.ParsePrefix(${JSON.stringify(s)}): no '/'`);
  const ip = parseIP(s.slice(0, slash));
  if (typeof ip === "string") return err(`netip.ParsePrefix(${JSON.stringify(s)}): ${ip}`);
  const bitsStr = s.slice(slash + 1);
  const max = ip.v4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bitsStr) || (bitsStr.length > 1 && bitsStr[0] === "0") || Number(bitsStr) > max) return err(`netip.ParsePrefix(${JSON.stringify(s)}): bad bits after slash: ${JSON.stringify(bitsStr)}`);
  return { ip, bits: Number(bitsStr) };
}

export function ipToString(ip: IP): string {
  if (ip.v4) return ip.bytes.join(".");
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((ip.bytes[i] << 8) | ip.bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
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
