// A small DER (ASN.1) reader: enough to walk X.509 certificates, CSRs and keys.

export class DerError extends Error {}

export interface Node {
  /** Full tag byte (class, constructed bit, number for low tag numbers). */
  tag: number;
  cls: number; // 0 universal, 1 application, 2 context, 3 private
  constructed: boolean;
  num: number; // tag number
  /** Offsets into the buffer. */
  start: number; // first byte of the header
  hdrEnd: number; // first byte of the content
  end: number; // one past the content
  buf: Buffer;
}

export function content(n: Node): Buffer {
  return n.buf.subarray(n.hdrEnd, n.end);
}

export function raw(n: Node): Buffer {
  return n.buf.subarray(n.start, n.end);
}

/** Read one element at `pos` (bounded by `limit`). */
export function readNode(buf: Buffer, pos = 0, limit = buf.length): Node {
  if (pos >= limit) throw new DerError("truncated tag or length");
  const start = pos;
  const tag = buf[pos++];
  let num = tag & 0x1f;
  if (num === 0x1f) {
    num = 0;
    for (;;) {
      if (pos >= limit) throw new DerError("truncated tag or length");
      const b = buf[pos++];
      num = num * 128 + (b & 0x7f);
      if (!(b & 0x80)) break;
    }
  }
  if (pos >= limit) throw new DerError("truncated tag or length");
  let len = buf[pos++];
  if (len & 0x80) {
    const nb = len & 0x7f;
    if (pos + nb > limit) throw new DerError("truncated tag or length");
    if (nb === 0 || nb > 4) throw new DerError("indefinite or too long length");
    len = 0;
    for (let i = 0; i < nb; i++) {
      if (pos >= limit) throw new DerError("truncated tag or length");
      len = len * 256 + buf[pos++];
    }
  }
  if (pos + len > limit) throw new DerError("data truncated");
  return { tag, cls: tag >> 6, constructed: (tag & 0x20) !== 0, num, start, hdrEnd: pos, end: pos + len, buf };
}

/** Children of a constructed element. */
export function children(n: Node): Node[] {
  const out: Node[] = [];
  let p = n.hdrEnd;
  while (p < n.end) {
    const c = readNode(n.buf, p, n.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** Parse a complete DER element; trailing bytes are an error unless allowed. */
export function parseDer(buf: Buffer, allowTrailing = false): Node {
  const n = readNode(buf, 0, buf.length);
  if (!allowTrailing && n.end !== buf.length) throw new DerError("trailing data");
  return n;
}

export function expectTag(n: Node | undefined, tag: number): Node {
  if (!n || n.tag !== tag) throw new DerError(`unexpected tag`);
  return n;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8String: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  PrintableString: 0x13,
  T61String: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  BMPString: 0x1e,
  UniversalString: 0x1c,
  NumericString: 0x12,
};

export function oidArcs(n: Node): number[] {
  const c = content(n);
  const arcs: number[] = [];
  let v = 0;
  let first = true;
  for (let i = 0; i < c.length; i++) {
    v = v * 128 + (c[i] & 0x7f);
    if (!(c[i] & 0x80)) {
      if (first) {
        if (v < 40) arcs.push(0, v);
        else if (v < 80) arcs.push(1, v - 40);
        else arcs.push(2, v - 80);
        first = false;
      } else arcs.push(v);
      v = 0;
    }
  }
  return arcs;
}

export function oidString(n: Node): string {
  return oidArcs(n).join(".");
}

export function bigIntOf(n: Node): bigint {
  const c = content(n);
  if (c.length === 0) return 0n;
  let v = BigInt("0x" + c.toString("hex"));
  if (c[0] & 0x80) v -= 1n << BigInt(c.length * 8);
  return v;
}

/** Unsigned big integer from raw bytes. */
export function bigFromBytes(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt("0x" + Buffer.from(b).toString("hex"));
}

export function intOf(n: Node): number {
  return Number(bigIntOf(n));
}

export function boolOf(n: Node): boolean {
  const c = content(n);
  return c.length > 0 && c[0] !== 0;
}

/** BIT STRING content without the unused-bits byte, and the unused-bit count. */
export function bitString(n: Node): { bytes: Buffer; unused: number } {
  const c = content(n);
  if (c.length === 0) throw new DerError("invalid bit string");
  return { bytes: c.subarray(1), unused: c[0] };
}

/** Decode a string-ish value (PrintableString, UTF8String, IA5String, BMPString…). */
export function stringOf(n: Node): string {
  const c = content(n);
  switch (n.tag) {
    case TAG.BMPString: {
      let s = "";
      for (let i = 0; i + 1 < c.length; i += 2) s += String.fromCharCode((c[i] << 8) | c[i + 1]);
      return s;
    }
    case TAG.UniversalString: {
      let s = "";
      for (let i = 0; i + 3 < c.length; i += 4) s += String.fromCodePoint(c.readUInt32BE(i));
      return s;
    }
    case TAG.T61String:
      return c.toString("latin1");
    default:
      return c.toString("utf8");
  }
}

export function isStringTag(tag: number): boolean {
  return [
    TAG.UTF8String,
    TAG.PrintableString,
    TAG.T61String,
    TAG.IA5String,
    TAG.BMPString,
    TAG.UniversalString,
    TAG.NumericString,
  ].includes(tag);
}

/** UTCTime / GeneralizedTime → Date components as an RFC 3339 string (Go's time JSON). */
export function timeOf(n: Node): { iso: string; ms: number } {
  const s = content(n).toString("latin1");
  let m: RegExpExecArray | null;
  let year: number, rest: string;
  if (n.tag === TAG.UTCTime) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(s);
    if (!m) throw new DerError("malformed time");
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    rest = "";
  } else {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?(Z|[+-]\d{4})$/.exec(s);
    if (!m) throw new DerError("malformed time");
    year = Number(m[1]);
    rest = m[7] ?? "";
  }
  const [mon, day, hh, mi] = [m[2], m[3], m[4], m[5]].map(Number);
  const ss = Number(m[6] ?? "0");
  const tz = n.tag === TAG.UTCTime ? m[7] : m[8];
  let ms = Date.UTC(year, mon - 1, day, hh, mi, ss);
  if (year < 100) {
    const d = new Date(ms);
    d.setUTCFullYear(year);
    ms = d.getTime();
  }
  if (tz !== "Z") {
    const sign = tz[0] === "-" ? -1 : 1;
    ms -= sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5))) * 60000;
  }
  const d = new Date(ms);
  const pad = (x: number, w = 2) => String(x).padStart(w, "0");
  let frac = "";
  if (rest) {
    frac = rest.replace(/0+$/, "");
    if (frac === ".") frac = "";
    ms += Math.floor(Number("0" + rest) * 1000);
  }
  const iso =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac}Z`;
  return { iso, ms };
}

// ---- Encoding (for building SubjectPublicKeyInfo etc.) --------------------------------------

export function encodeLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  while (len > 0) {
    bytes.unshift(len & 0xff);
    len = Math.floor(len / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encode(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

/**
 * The error Go's encoding/asn1 Unmarshal reports for the outer SEQUENCE of a structure named
 * `name` (`certificateRequest`, `publicKeyInfo`) when its header is malformed, is not a
 * SEQUENCE, or claims more bytes than there are; null when the outer header is sound. Go checks
 * in this order: empty input, the tag and length bytes, the tag, then the length.
 */
export function goOuterSequenceError(buf: Uint8Array, name: string): string | null {
  const syntax = (m: string) => `asn1: syntax error: ${m}`;
  const structure = (m: string) => `asn1: structure error: ${m}`;
  if (buf.length === 0) return syntax("sequence truncated");
  let pos = 0;
  const b0 = buf[pos++];
  const cls = b0 >> 6;
  const compound = (b0 & 0x20) !== 0;
  let tag = b0 & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let i = 0; ; i++) {
      if (pos >= buf.length) return syntax("truncated base 128 integer");
      const b = buf[pos++];
      if (i === 0 && b === 0x80) return syntax("integer is not minimally encoded");
      tag = tag * 128 + (b & 0x7f);
      if (i >= 4 || tag > 0x7fffffff) return structure("base 128 integer too large");
      if (!(b & 0x80)) break;
    }
    if (tag < 0x1f) return syntax("non-minimal tag");
  }
  if (pos >= buf.length) return syntax("truncated tag or length");
  let length = buf[pos++];
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0) return syntax("indefinite length found (not DER)");
    length = 0;
    for (let i = 0; i < n; i++) {
      if (pos >= buf.length) return syntax("truncated tag or length");
      const b = buf[pos++];
      if (length >= 1 << 23) return structure("length too large");
      length = length * 256 + b;
      if (length === 0) return structure("superfluous leading zeros in length");
    }
    if (length < 0x80) return structure("non-minimal length");
  }
  if (cls !== 0 || tag !== 16 || !compound) {
    const params = "{optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false}";
    return structure(`tags don't match (16 vs {class:${cls} tag:${tag} length:${length} isCompound:${compound}}) ${params} ${name} @${pos}`);
  }
  if (pos + length > buf.length) return syntax("data truncated");
  // Both structures start with a required field: an empty SEQUENCE ends before it.
  if (length === 0) return syntax("sequence truncated");
  return null;
}
