// A small X.509 v3 certificate writer (DER), enough for the webhook's CA and serving certificate
// as Gatekeeper's cert-controller makes them: RSA 2048 keys, sha256WithRSAEncryption, subject
// CN (and O), validity, and the extensions basicConstraints, keyUsage, extKeyUsage,
// subjectAltName (DNS names and IP addresses), subject and authority key identifiers. Node's
// crypto makes the keys and the signature; Node's X509Certificate reads the result back.

import { createHash, generateKeyPair, randomBytes, sign, type KeyObject } from "node:crypto";
import { isIP } from "node:net";

// ---- DER ----

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(content.length), content]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const NULL = Buffer.from([0x05, 0x00]);
/** [n] EXPLICIT (constructed). */
const explicit = (n: number, content: Buffer) => tlv(0xa0 | n, content);
/** [n] IMPLICIT primitive (SAN names, key identifier). */
const implicit = (n: number, content: Buffer) => tlv(0x80 | n, content);

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && b[i + 1] < 0x80) i++;
  let v = b.subarray(i);
  if (v[0] >= 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

function oid(s: string): Buffer {
  const parts = s.split(".").map(Number);
  const out = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const enc: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) enc.unshift((v & 0x7f) | 0x80);
    out.push(...enc);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A BIT STRING of named bits (bit 0 is the most significant bit of the first byte), minimal as DER wants. */
function namedBits(bits: number[]): Buffer {
  const top = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(top / 8) + 1);
  for (const b of bits) bytes[Math.floor(b / 8)] |= 0x80 >> b % 8;
  const unused = 7 - (top % 8);
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

const bitString = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));

function time(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${body}`)) : tlv(0x18, Buffer.from(`${p(y, 4)}${body}`));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split(".").map(Number));
  // IPv6: expand "::"
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

// ---- certificates ----

const OID = {
  sha256WithRSA: "1.2.840.113549.1.1.11",
  cn: "2.5.4.3",
  o: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  san: "2.5.29.17",
  ski: "2.5.29.14",
  aki: "2.5.29.35",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};

export const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

export interface CertSpec {
  commonName: string;
  organization?: string;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  keyUsage: (keyof typeof KEY_USAGE)[];
  extKeyUsage?: ("serverAuth" | "clientAuth")[];
  /** DNS names and IP addresses for subjectAltName. */
  altNames?: string[];
  /** The certificate's own key pair. */
  publicKey: KeyObject;
  /** The issuer: its certificate's subject parts and private key; absent for a self-signed certificate. */
  issuer?: { commonName: string; organization?: string; publicKey: KeyObject; privateKey: KeyObject };
  /** Signing key when self-signed. */
  privateKey: KeyObject;
}

function name(cn: string, o?: string): Buffer {
  const rdns = [];
  if (o) rdns.push(set(seq(oid(OID.o), utf8(o))));
  rdns.push(set(seq(oid(OID.cn), utf8(cn))));
  return seq(...rdns);
}

function keyId(pub: KeyObject): Buffer {
  return createHash("sha1").update(pub.export({ type: "spki", format: "der" })).digest();
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** A DER certificate. */
export function makeCertificate(spec: CertSpec): Buffer {
  if (!(spec.notAfter > spec.notBefore)) throw new Error("certificate: notAfter must be after notBefore");
  const alg = seq(oid(OID.sha256WithRSA), NULL);
  const issuerName = spec.issuer ? name(spec.issuer.commonName, spec.issuer.organization) : name(spec.commonName, spec.organization);
  const exts: Buffer[] = [
    extension(OID.keyUsage, true, namedBits(spec.keyUsage.map((k) => KEY_USAGE[k]))),
    ...(spec.extKeyUsage?.length ? [extension(OID.extKeyUsage, false, seq(...spec.extKeyUsage.map((u) => oid(OID[u]))))] : []),
    extension(OID.basicConstraints, true, spec.isCA ? seq(bool(true)) : seq()),
    extension(OID.ski, false, octets(keyId(spec.publicKey))),
    extension(OID.aki, false, seq(implicit(0, keyId(spec.issuer?.publicKey ?? spec.publicKey)))),
  ];
  if (spec.altNames?.length) {
    exts.push(extension(OID.san, false, seq(...spec.altNames.map((n) => (isIP(n) ? implicit(7, ipBytes(n)) : implicit(2, Buffer.from(n, "ascii")))))));
  }
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    alg,
    issuerName,
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.commonName, spec.organization),
    spec.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, seq(...exts)),
  );
  const signature = sign("sha256", tbs, spec.issuer?.privateKey ?? spec.privateKey);
  return seq(tbs, alg, bitString(signature));
}

export function pem(label: string, der: Buffer): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** An RSA 2048 key pair, generated off the event loop. */
export function rsaKeyPair(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return new Promise((resolve, reject) => generateKeyPair("rsa", { modulusLength: 2048 }, (e, publicKey, privateKey) => (e ? reject(e) : resolve({ publicKey, privateKey }))));
}

export interface CertBundle {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

export interface BundleOptions {
  caName: string;
  caOrganization: string;
  /** The serving certificate's common name and first DNS name (service.namespace.svc). */
  dnsName: string;
  extraNames?: string[];
  caValidityMs: number;
  certValidityMs: number;
  clientAuth?: boolean;
  now?: Date;
}

/** A new CA and a serving certificate it signed, in PEM (keys PKCS#1, as cert-controller writes them). */
export async function makeBundle(o: BundleOptions): Promise<CertBundle> {
  const now = o.now ?? new Date();
  const begin = new Date(now.getTime() - 60 * 60 * 1000); // an hour back, for clock skew
  const ca = await rsaKeyPair();
  const caDer = makeCertificate({
    commonName: o.caName,
    organization: o.caOrganization,
    notBefore: begin,
    notAfter: new Date(now.getTime() + o.caValidityMs),
    isCA: true,
    keyUsage: ["digitalSignature", "keyEncipherment", "keyCertSign"],
    altNames: [o.caName],
    publicKey: ca.publicKey,
    privateKey: ca.privateKey,
  });
  const srv = await rsaKeyPair();
  const der = makeCertificate({
    commonName: o.dnsName,
    notBefore: begin,
    notAfter: new Date(now.getTime() + o.certValidityMs),
    isCA: false,
    keyUsage: ["digitalSignature", "keyEncipherment"],
    extKeyUsage: o.clientAuth ? ["serverAuth", "clientAuth"] : ["serverAuth"],
    altNames: [o.dnsName, ...(o.extraNames ?? [])],
    publicKey: srv.publicKey,
    privateKey: srv.privateKey,
    issuer: { commonName: o.caName, organization: o.caOrganization, publicKey: ca.publicKey, privateKey: ca.privateKey },
  });
  return {
    caCert: pem("CERTIFICATE", caDer),
    caKey: ca.privateKey.export({ type: "pkcs1", format: "pem" }) as string,
    cert: pem("CERTIFICATE", der),
    key: srv.privateKey.export({ type: "pkcs1", format: "pem" }) as string,
  };
}


