// Globals of Node that the engine's modules use and a browser lacks, injected into the browser
// bundle (scripts/browser-bundle.ts: esbuild `inject`, so the bundle's free `Buffer` and `process`
// mean these). `Buffer` is the part of Node's Buffer the bundled modules call — from/byteLength/
// compare/alloc/concat and toString/subarray — for the encodings they use (utf8, latin1, base64,
// base64url, hex); any other encoding is an error, never a guess. `process` has an empty
// environment (no TZ, no ZONEINFO: the browser's own zone and Intl's zone data).

type Encoding = "utf8" | "utf-8" | "latin1" | "binary" | "base64" | "base64url" | "hex";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_VALUE = new Map<string, number>();
for (let i = 0; i < 64; i++) {
  B64_VALUE.set(B64[i], i);
  B64_VALUE.set(B64URL[i], i);
}

function encoding(enc: string | undefined): Encoding {
  const e = (enc ?? "utf8").toLowerCase();
  if (e === "utf8" || e === "utf-8" || e === "latin1" || e === "binary" || e === "base64" || e === "base64url" || e === "hex") return e;
  throw new TypeError(`Buffer: encoding ${enc} is not supported in the browser`);
}

/** Node's lenient base64 decoding: characters outside both alphabets are skipped, "=" ends the data. */
function decodeBase64(s: string): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of s) {
    if (c === "=") break;
    const v = B64_VALUE.get(c);
    if (v === undefined) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

function encodeBase64(b: Uint8Array, alphabet: string, pad: boolean): string {
  let s = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
  }
  if (i < b.length) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8);
    s += alphabet[n >> 18] + alphabet[(n >> 12) & 63];
    s += i + 1 < b.length ? alphabet[(n >> 6) & 63] + (pad ? "=" : "") : pad ? "==" : "";
  }
  return s;
}

function decodeHex(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i + 1 < s.length; i += 2) {
    const n = Number.parseInt(s.slice(i, i + 2), 16);
    // Node stops at the first pair that is not hexadecimal.
    if (!/^[0-9a-fA-F]{2}$/.test(s.slice(i, i + 2)) || Number.isNaN(n)) break;
    out.push(n);
  }
  return Uint8Array.from(out);
}

function bytesOf(s: string, enc: Encoding): Uint8Array {
  switch (enc) {
    case "utf8":
    case "utf-8":
      return new TextEncoder().encode(s);
    case "latin1":
    case "binary": {
      // One byte per UTF-16 code unit (its low byte), as Node does.
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
      return out;
    }
    case "base64":
    case "base64url":
      return decodeBase64(s);
    case "hex":
      return decodeHex(s);
  }
}

// Node's Buffer.from (an encoding as second argument) has another signature than Uint8Array.from,
// which TypeScript does not let a subclass override: the base is typed as a plain constructor.
const Bytes = Uint8Array as unknown as { new (length: number): Uint8Array; new (buffer: ArrayBuffer, byteOffset?: number, length?: number): Uint8Array };

class BrowserBuffer extends Bytes {
  static from(value: string | ArrayLike<number> | ArrayBufferLike, enc?: string): BrowserBuffer {
    if (typeof value === "string") {
      const bytes = bytesOf(value, encoding(enc));
      return new BrowserBuffer(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length);
    }
    if (value instanceof ArrayBuffer) return new BrowserBuffer(value);
    const out = new BrowserBuffer((value as ArrayLike<number>).length);
    out.set(value as ArrayLike<number>);
    return out;
  }

  static byteLength(s: string | Uint8Array, enc?: string): number {
    return typeof s === "string" ? bytesOf(s, encoding(enc)).length : s.length;
  }

  static compare(a: Uint8Array, b: Uint8Array): number {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }

  static alloc(n: number): BrowserBuffer {
    return new BrowserBuffer(n);
  }

  static concat(list: readonly Uint8Array[]): BrowserBuffer {
    const out = new BrowserBuffer(list.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of list) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  }

  static isBuffer(v: unknown): v is BrowserBuffer {
    return v instanceof BrowserBuffer;
  }

  subarray(start?: number, end?: number): BrowserBuffer {
    // Typed arrays make their subarrays with the species constructor: a BrowserBuffer.
    return super.subarray(start, end) as BrowserBuffer;
  }

  toString(enc?: string, start = 0, end = this.length): string {
    const b = this.subarray(start, end);
    switch (encoding(enc)) {
      case "utf8":
      case "utf-8":
        return new TextDecoder().decode(b);
      case "latin1":
      case "binary": {
        let s = "";
        for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
        return s;
      }
      case "base64":
        return encodeBase64(b, B64, true);
      case "base64url":
        return encodeBase64(b, B64URL, false);
      case "hex":
        return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    }
  }

  equals(other: Uint8Array): boolean {
    return BrowserBuffer.compare(this, other) === 0;
  }
}

export { BrowserBuffer as Buffer };

export const process = { env: {} as Record<string, string | undefined>, platform: "browser" };
