// Webhook certificates made with node:crypto alone (no openssl, no dependency): a CA and a
// serving certificate signed by it, both ECDSA P-256 with SHA-256, in PEM, the pair Gatekeeper's
// cert-controller keeps in its Secret (ca.crt, tls.crt, tls.key). Used by `portcullis
// controller --self-signed` for local runs; the CA's PEM is the webhook configuration's caBundle.
//
// The certificates are X.509 v3 written in DER by hand: the CA has basicConstraints CA:true and
// keyUsage keyCertSign|cRLSign; the serving certificate has basicConstraints CA:false, keyUsage
// digitalSignature, extKeyUsage serverAuth and subjectAltName with the given DNS names and IP
// addresses (Go's TLS, as in the API server, checks the names against subjectAltName only).

import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import { encode, TAG } from "../builtins/support/der.ts";

export interface WebhookCertificates {
  /** The CA certificate (PEM): the caBundle of a ValidatingWebhookConfiguration (base64 of it). */
  caCert: string;
  caKey: string;
  /** The serving certificate and its key (PEM): tls.crt and tls.key. */
  cert: string;
  key: string;
  notAfter: Date;
}

const seq = (...parts: Buffer[]) => encode(TAG.SEQUENCE, Buffer.concat(parts));
const set = (...parts: Buffer[]) => encode(TAG.SET, Buffer.concat(parts));
const ctx = (n: number, body: Buffer, constructed = true) => encode((constructed ? 0xa0 : 0x80) | n, body);

function oid(s: string): Buffer {
  const arcs = s.split(".").map(Number);
  const out: number[] = [arcs[0] * 40 + arcs[1]];
  for (const a of arcs.slice(2)) {
    const bytes = [a & 0x7f];
    for (let v = Math.floor(a / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return encode(TAG.OID, Buffer.from(out));
}

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return encode(TAG.INTEGER, v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, "0");
  const t = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return encode(TAG.UTCTime, Buffer.from(t, "ascii"));
}

const name = (cn: string) => seq(set(seq(oid("2.5.4.3"), encode(TAG.UTF8String, Buffer.from(cn, "utf8")))));
const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));
const bool = (v: boolean) => encode(TAG.BOOLEAN, Buffer.from([v ? 0xff : 0]));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), encode(TAG.OCTET_STRING, value));
}

/** keyUsage bits (bit 0 = digitalSignature … bit 6 = cRLSign) as a DER BIT STRING. */
function keyUsage(bits: number[]): Buffer {
  let v = 0;
  for (const b of bits) v |= 0x80 >> b;
  let unused = 0;
  while (unused < 7 && !(v & (1 << unused))) unused++;
  return encode(TAG.BIT_STRING, Buffer.from([unused, v]));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split(".").map(Number));
  // IPv6: expand "::" then write the eight 16-bit groups.
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

function certificate(o: { subject: string; issuer: string; publicKey: KeyObject; signer: KeyObject; notBefore: Date; notAfter: Date; extensions: Buffer[] }): Buffer {
  const spki = o.publicKey.export({ type: "spki", format: "der" });
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const ski = createHash("sha1").update(spki).digest();
  const tbs = seq(
    ctx(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_SHA256,
    name(o.issuer),
    seq(utcTime(o.notBefore), utcTime(o.notAfter)),
    name(o.subject),
    spki,
    ctx(3, seq(extension("2.5.29.14", false, encode(TAG.OCTET_STRING, ski)), ...o.extensions)),
  );
  const sig = sign("sha256", tbs, o.signer); // DER-encoded ECDSA signature
  return seq(tbs, ECDSA_SHA256, encode(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), sig])));
}

const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n?$/, "\n")}-----END ${label}-----\n`;

/**
 * A CA and a serving certificate for `hosts` (DNS names and IP addresses), valid from an hour
 * ago (clock skew) for `days` days.
 */
export function generateWebhookCertificates(hosts: string[], days = 365, commonName = "gatekeeper-webhook-service"): WebhookCertificates {
  if (hosts.length === 0) throw new Error("a serving certificate needs at least one host name or IP address");
  if (!(days > 0 && days <= 3650)) throw new Error(`certificate lifetime ${days} days: want 1 to 3650`);
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(Date.now() + days * 86400_000);
  const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const caDer = certificate({
    subject: "gatekeeper-ca",
    issuer: "gatekeeper-ca",
    publicKey: ca.publicKey,
    signer: ca.privateKey,
    notBefore,
    notAfter,
    extensions: [extension("2.5.29.19", true, seq(bool(true))), extension("2.5.29.15", true, keyUsage([5, 6]))],
  });
  const leaf = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const san = hosts.map((h) => (isIP(h) ? ctx(7, ipBytes(h), false) : ctx(2, Buffer.from(h, "ascii"), false)));
  const leafDer = certificate({
    subject: commonName,
    issuer: "gatekeeper-ca",
    publicKey: leaf.publicKey,
    signer: ca.privateKey,
    notBefore,
    notAfter,
    extensions: [
      extension("2.5.29.19", true, seq()),
      extension("2.5.29.15", true, keyUsage([0])),
      extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))),
      extension("2.5.29.17", false, seq(...san)),
    ],
  });
  return {
    caCert: pem("CERTIFICATE", caDer),
    caKey: ca.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    cert: pem("CERTIFICATE", leafDer),
    key: leaf.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    notAfter,
  };
}
