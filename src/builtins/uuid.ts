// uuid.rfc4122 (random version 4 UUIDs, one per distinct argument per query) and uuid.parse
// (the fields OPA reports: version and variant, and for versions 1 and 2 the timestamp, clock
// sequence, node id; for version 2 the DCE domain and id).

import { nodeCrypto } from "../lazy.ts";
import type { Builtin } from "./registry.ts";
import { T, operandError } from "./registry.ts";
import type { Value } from "../rego/value.ts";
import { canonical, fromBigInt, makeObject } from "../rego/value.ts";

const HEX = "0123456789abcdef";

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += HEX[x >> 4] + HEX[x & 15];
  return s;
}

export function newUUIDv4(): string {
  const b = nodeCrypto.randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The 16 bytes of a UUID in one of the accepted spellings, or undefined. */
export function parseUUIDBytes(text: string): Uint8Array | undefined {
  let s = Buffer.from(text, "utf8");
  const out = new Uint8Array(16);
  const byteAt = (i: number): number | undefined => {
    const hi = hexVal(s[i]);
    const lo = hexVal(s[i + 1]);
    return hi < 0 || lo < 0 ? undefined : (hi << 4) | lo;
  };
  switch (s.length) {
    case 36:
      break;
    case 45: // urn:uuid:…
      if (s.subarray(0, 9).toString("latin1").toLowerCase() !== "urn:uuid:") return undefined;
      s = s.subarray(9);
      break;
    case 38: // {…} (the enclosing characters are not checked)
      s = s.subarray(1);
      break;
    case 32:
      for (let i = 0; i < 16; i++) {
        const v = byteAt(i * 2);
        if (v === undefined) return undefined;
        out[i] = v;
      }
      return out;
    default:
      return undefined;
  }
  if (s[8] !== 0x2d || s[13] !== 0x2d || s[18] !== 0x2d || s[23] !== 0x2d) return undefined;
  const offsets = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
  for (let i = 0; i < 16; i++) {
    const v = byteAt(offsets[i]);
    if (v === undefined) return undefined;
    out[i] = v;
  }
  return out;
}

function variant(b: number): string {
  if ((b & 0xc0) === 0x80) return "RFC4122";
  if ((b & 0xe0) === 0xc0) return "Microsoft";
  if ((b & 0xe0) === 0xe0) return "Future";
  return "Reserved";
}

function macVariables(b: number): string {
  if ((b & 3) === 3) return "local:multicast";
  if ((b & 1) === 1) return "global:multicast";
  if ((b & 2) === 2) return "local:unicast";
  return "global:unicast";
}

const GREGORIAN_TO_UNIX_100NS = 122192928000000000n;
const DOMAINS = ["Person", "Group", "Org"];

function describe(u: Uint8Array): Value {
  const version = u[6] >> 4;
  const entries: [Value, Value][] = [
    ["version", version],
    ["variant", variant(u[8])],
  ];
  if (version === 1 || version === 2) {
    const dv = new DataView(u.buffer, u.byteOffset, 16);
    // 60-bit count of 100 ns intervals since 1582-10-15, as Unix nanoseconds in int64 (which
    // wraps for timestamps far in the future, as OPA's arithmetic does).
    const ticks = BigInt(dv.getUint32(0)) | (BigInt(dv.getUint16(4)) << 32n) | (BigInt(dv.getUint16(6) & 0xfff) << 48n);
    const ns = BigInt.asIntN(64, (ticks - GREGORIAN_TO_UNIX_100NS) * 100n);
    entries.push(["time", fromBigInt(ns)]);
    entries.push(["nodeid", Array.from(u.subarray(10), (x) => HEX[x >> 4] + HEX[x & 15]).join("-")]);
    entries.push(["macvariables", macVariables(u[10])]);
    entries.push(["clocksequence", dv.getUint16(8) & 0x3fff]);
    if (version === 2) {
      entries.push(["id", dv.getUint32(0)]);
      entries.push(["domain", u[9] < DOMAINS.length ? DOMAINS[u[9]] : `Domain${u[9]}`]);
    }
  }
  return makeObject(entries);
}

export const builtins: Builtin[] = [
  {
    name: "uuid.rfc4122",
    decl: T.fn([T.string], T.string),
    nondeterministic: true,
    impl: ([k], ctx) => {
      const key = "uuid.rfc4122\u0000" + canonical(k);
      const cached = ctx.cache.get(key);
      if (cached !== undefined) return cached;
      const id = newUUIDv4();
      ctx.cache.set(key, id);
      return id;
    },
  },
  {
    name: "uuid.parse",
    decl: T.fn([T.string], T.objectOf(T.string, T.any)),
    impl: ([s]) => {
      if (typeof s !== "string") throw operandError("uuid.parse", 1, "string", s);
      const u = parseUUIDBytes(s);
      return u === undefined ? undefined : describe(u);
    },
  },
];
