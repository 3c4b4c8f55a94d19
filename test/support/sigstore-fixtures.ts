// Keyless-signing fixtures without Fulcio, Rekor or a CT log: a local CA (root + intermediate)
// issuing leaf certificates that carry Fulcio's extensions (SAN identity, OIDC issuer in
// 1.3.6.1.4.1.57264.1.8 and .1.1, code-signing EKU) and an embedded SCT signed by a local CT
// log key; a local transparency-log key that signs Rekor SETs over hashedrekord bodies; and
// the trusted_root.json naming all three. Certificates are built in DER here (Node has no X.509
// writer).

import * as crypto from "node:crypto";

// ---- a small DER writer ----
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
export function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
function int(n: bigint | number): Buffer {
  let hex = BigInt(n).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, "hex");
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
function oid(s: string): Buffer {
  const parts = s.split(".").map(Number);
  const out = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const stack: number[] = [];
    let v = p;
    do {
      stack.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < stack.length - 1; i++) stack[i] |= 0x80;
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}
function name(cn: string | undefined): Buffer {
  if (!cn) return seq();
  return seq(set(seq(oid("2.5.4.10"), utf8("portcullis-test"))), set(seq(oid("2.5.4.3"), utf8(cn))));
}
function ext(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}
const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));

function spki(key: crypto.KeyObject): Buffer {
  return crypto.createPublicKey(key).export({ format: "der", type: "spki" }) as Buffer;
}
function keyId(key: crypto.KeyObject): Buffer {
  return crypto.createHash("sha1").update(spki(key)).digest();
}
export function logId(key: crypto.KeyObject): Buffer {
  return crypto.createHash("sha256").update(spki(key)).digest();
}

interface CertOptions {
  serial: number;
  issuerName: string;
  subjectName?: string;
  notBefore: Date;
  notAfter: Date;
  subjectKey: crypto.KeyObject;
  issuerKey: crypto.KeyObject;
  extensions: Buffer[];
}

function tbs(o: CertOptions, extensions: Buffer[]): Buffer {
  return seq(tlv(0xa0, int(2)), int(o.serial), ECDSA_SHA256, name(o.issuerName), seq(time(o.notBefore), time(o.notAfter)), name(o.subjectName), spki(o.subjectKey), tlv(0xa3, seq(...extensions)));
}
function signCert(tbsDer: Buffer, issuerKey: crypto.KeyObject): Buffer {
  return seq(tbsDer, ECDSA_SHA256, bits(crypto.sign("sha256", tbsDer, issuerKey)));
}

export function pem(type: string, der: Buffer): string {
  return `-----BEGIN ${type}-----\n${der.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END ${type}-----\n`;
}

function newKey(): crypto.KeyObject {
  return crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

export interface LeafOptions {
  /** SAN: an email (rfc822Name) or, with "://", a URI */
  identity: string;
  issuer: string;
  notBefore?: Date;
  notAfter?: Date;
  /** leave out the code-signing EKU */
  noCodeSigning?: boolean;
  /** leave out the SCT */
  noSCT?: boolean;
  /** sign the SCT with this key instead of the CT log's */
  sctKey?: crypto.KeyObject;
}

export interface Leaf {
  key: crypto.KeyObject;
  certDer: Buffer;
  certPem: string;
  chainPem: string;
}

export interface LocalSigstore {
  rootKey: crypto.KeyObject;
  intermediateKey: crypto.KeyObject;
  rootDer: Buffer;
  intermediateDer: Buffer;
  ctKey: crypto.KeyObject;
  rekorKey: crypto.KeyObject;
  trustedRoot: Record<string, unknown>;
  leaf(o: LeafOptions): Leaf;
  /** the cosign bundle annotation (Rekor SET over a hashedrekord entry) for a signature */
  rekorBundle(payload: Buffer, signature: Buffer, certPem: string, integratedTime: number, key?: crypto.KeyObject): string;
}

/** A local CA, CT log and transparency log, and their trusted_root.json. */
export function localSigstore(now = new Date()): LocalSigstore {
  const rootKey = newKey();
  const intermediateKey = newKey();
  const ctKey = newKey();
  const rekorKey = newKey();
  const caStart = new Date(now.getTime() - 24 * 3600e3);
  const caEnd = new Date(now.getTime() + 365 * 24 * 3600e3);
  const caExts = (key: crypto.KeyObject, parent?: crypto.KeyObject) => [
    ext("2.5.29.15", true, bits(Buffer.from([0x06]), 1)),
    ext("2.5.29.19", true, seq(bool(true))),
    ext("2.5.29.14", false, octets(keyId(key))),
    ...(parent ? [ext("2.5.29.35", false, seq(tlv(0x80, keyId(parent))))] : []),
  ];
  const rootOpts: CertOptions = { serial: 1, issuerName: "local-fulcio-root", subjectName: "local-fulcio-root", notBefore: caStart, notAfter: caEnd, subjectKey: rootKey, issuerKey: rootKey, extensions: [] };
  const rootDer = signCert(tbs(rootOpts, caExts(rootKey)), rootKey);
  const intOpts: CertOptions = { serial: 2, issuerName: "local-fulcio-root", subjectName: "local-fulcio-intermediate", notBefore: caStart, notAfter: caEnd, subjectKey: intermediateKey, issuerKey: rootKey, extensions: [] };
  const intermediateDer = signCert(tbs(intOpts, caExts(intermediateKey, rootKey)), rootKey);
  const pk = (key: crypto.KeyObject) => ({ rawBytes: spki(key).toString("base64"), keyDetails: "PKIX_ECDSA_P256_SHA_256", validFor: { start: caStart.toISOString() } });
  const trustedRoot = {
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [{ baseUrl: "https://rekor.invalid", hashAlgorithm: "SHA2_256", publicKey: pk(rekorKey), logId: { keyId: logId(rekorKey).toString("base64") } }],
    certificateAuthorities: [
      {
        subject: { organization: "portcullis-test", commonName: "local-fulcio-intermediate" },
        uri: "https://fulcio.invalid",
        certChain: { certificates: [{ rawBytes: intermediateDer.toString("base64") }, { rawBytes: rootDer.toString("base64") }] },
        validFor: { start: caStart.toISOString() },
      },
    ],
    ctlogs: [{ baseUrl: "https://ctfe.invalid", hashAlgorithm: "SHA2_256", publicKey: pk(ctKey), logId: { keyId: logId(ctKey).toString("base64") } }],
    timestampAuthorities: [],
  };
  let serial = 100;
  function leaf(o: LeafOptions): Leaf {
    const key = newKey();
    const notBefore = o.notBefore ?? new Date(now.getTime() - 60e3);
    const notAfter = o.notAfter ?? new Date(notBefore.getTime() + 10 * 60e3);
    const san = o.identity.includes("://") ? tlv(0x86, Buffer.from(o.identity)) : tlv(0x81, Buffer.from(o.identity));
    const exts = [
      ext("2.5.29.15", true, bits(Buffer.from([0x80]), 7)),
      ...(o.noCodeSigning ? [] : [ext("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.3")))]),
      ext("2.5.29.14", false, octets(keyId(key))),
      ext("2.5.29.35", false, seq(tlv(0x80, keyId(intermediateKey)))),
      ext("2.5.29.17", true, seq(san)),
      ext("1.3.6.1.4.1.57264.1.1", false, Buffer.from(o.issuer)),
      ext("1.3.6.1.4.1.57264.1.8", false, utf8(o.issuer)),
    ];
    const opts: CertOptions = { serial: serial++, issuerName: "local-fulcio-intermediate", notBefore, notAfter, subjectKey: key, issuerKey: intermediateKey, extensions: exts };
    let tbsDer = tbs(opts, exts);
    if (!o.noSCT) {
      // RFC 6962 §3.2: the log signs the precertificate: the issuer key hash and the TBS without the SCT extension
      const sctSigner = o.sctKey ?? ctKey;
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(BigInt(notBefore.getTime() + 1000));
      const u24 = Buffer.alloc(3);
      u24.writeUIntBE(tbsDer.length, 0, 3);
      const signed = Buffer.concat([Buffer.from([0, 0]), ts, Buffer.from([0, 1]), crypto.createHash("sha256").update(spki(intermediateKey)).digest(), u24, tbsDer, Buffer.from([0, 0])]);
      const sig = crypto.sign("sha256", signed, sctSigner);
      const sigLen = Buffer.alloc(2);
      sigLen.writeUInt16BE(sig.length);
      const sct = Buffer.concat([Buffer.from([0]), logId(ctKey), ts, Buffer.from([0, 0]), Buffer.from([4, 3]), sigLen, sig]);
      const sctLen = Buffer.alloc(2);
      sctLen.writeUInt16BE(sct.length);
      const list = Buffer.concat([sctLen, sct]);
      const listLen = Buffer.alloc(2);
      listLen.writeUInt16BE(list.length);
      tbsDer = tbs(opts, [...exts, ext("1.3.6.1.4.1.11129.2.4.2", false, octets(Buffer.concat([listLen, list])))]);
    }
    const certDer = signCert(tbsDer, intermediateKey);
    return { key, certDer, certPem: pem("CERTIFICATE", certDer), chainPem: pem("CERTIFICATE", intermediateDer) + pem("CERTIFICATE", rootDer) };
  }
  let logIndex = 1000;
  function rekorBundle(payload: Buffer, signature: Buffer, certPem: string, integratedTime: number, key = rekorKey): string {
    const body = {
      apiVersion: "0.0.1",
      kind: "hashedrekord",
      spec: {
        data: { hash: { algorithm: "sha256", value: crypto.createHash("sha256").update(payload).digest("hex") } },
        signature: { content: signature.toString("base64"), publicKey: { content: Buffer.from(certPem).toString("base64") } },
      },
    };
    const bodyB64 = Buffer.from(JSON.stringify(body)).toString("base64");
    const p = { body: bodyB64, integratedTime, logID: logId(rekorKey).toString("hex"), logIndex: logIndex++ };
    // RFC 8785 canonical JSON: these keys in sorted order, integers as written
    const canonical = `{"body":${JSON.stringify(p.body)},"integratedTime":${p.integratedTime},"logID":${JSON.stringify(p.logID)},"logIndex":${p.logIndex}}`;
    const set = crypto.sign("sha256", Buffer.from(canonical), key).toString("base64");
    return JSON.stringify({ SignedEntryTimestamp: set, Payload: p });
  }
  return { rootKey, intermediateKey, rootDer, intermediateDer, ctKey, rekorKey, trustedRoot, leaf, rekorBundle };
}

/** A CA and a serving certificate for 127.0.0.1 (an HTTPS provider in tests). */
export function tlsServerCert(): { caPem: string; certPem: string; keyPem: string } {
  const caKey = newKey();
  const key = newKey();
  const start = new Date(Date.now() - 3600e3);
  const end = new Date(Date.now() + 24 * 3600e3);
  const caOpts: CertOptions = { serial: 1, issuerName: "test-ca", subjectName: "test-ca", notBefore: start, notAfter: end, subjectKey: caKey, issuerKey: caKey, extensions: [] };
  const caDer = signCert(tbs(caOpts, [ext("2.5.29.15", true, bits(Buffer.from([0x06]), 1)), ext("2.5.29.19", true, seq(bool(true))), ext("2.5.29.14", false, octets(keyId(caKey)))]), caKey);
  const leafOpts: CertOptions = { serial: 2, issuerName: "test-ca", subjectName: "127.0.0.1", notBefore: start, notAfter: end, subjectKey: key, issuerKey: caKey, extensions: [] };
  const leafDer = signCert(
    tbs(leafOpts, [
      ext("2.5.29.15", true, bits(Buffer.from([0x80]), 7)),
      ext("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))),
      ext("2.5.29.35", false, seq(tlv(0x80, keyId(caKey)))),
      ext("2.5.29.17", false, seq(tlv(0x87, Buffer.from([127, 0, 0, 1])))),
    ]),
    caKey,
  );
  return { caPem: pem("CERTIFICATE", caDer), certPem: pem("CERTIFICATE", leafDer), keyPem: key.export({ format: "pem", type: "pkcs8" }) as string };
}
