// Compact JWS for `.signatures.json`, with node:crypto: HS256/384/512 (HMAC), RS256/384/512
// (RSASSA-PKCS1-v1_5), PS256/384/512 (RSASSA-PSS, salt length = hash length), ES256/384/512
// (ECDSA, signatures as r‖s). Keys as OPA reads them (bundle/keys.go, bundle/verify.go): HMAC
// secrets as raw bytes; otherwise one PEM block, "RSA PRIVATE KEY" / "PRIVATE KEY" /
// "EC PRIVATE KEY" for signing, and also "PUBLIC KEY" / "RSA PUBLIC KEY" / "CERTIFICATE" for
// verification.

import { createHmac, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, timingSafeEqual, constants, X509Certificate, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";

export const SIGNING_ALGORITHMS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export class SignatureError extends Error {}

export function isSigningAlgorithm(s: string): s is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly string[]).includes(s);
}

function digestOf(alg: SigningAlgorithm): string {
  return `sha${alg.slice(2)}`;
}

/** A key argument as OPA reads it: PEM text, else the file it names, else the text itself (a secret). */
export function readKeyArgument(key: string): string {
  if (key.startsWith("-----BEGIN")) return key;
  if (existsSync(key) && statSync(key).isFile()) return readFileSync(key, "utf8");
  return key;
}

interface PemBlock {
  type: string;
  der: Buffer;
}

/** The first PEM block of the text (Go's pem.Decode), or undefined. */
function pemDecode(text: string): PemBlock | undefined {
  const m = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  const body = m[2]
    .split(/\r?\n/)
    .filter((l) => !l.includes(":"))
    .join("");
  if (!/^[A-Za-z0-9+/=\s]*$/.test(body)) return undefined;
  return { type: m[1], der: Buffer.from(body, "base64") };
}

export type SigningKey = { kind: "hmac"; secret: Buffer } | { kind: "asym"; key: KeyObject };

/** The private key for signing (OPA: SigningConfig.GetPrivateKey). */
export function signingKey(keyText: string, alg: SigningAlgorithm): SigningKey {
  if (alg.startsWith("HS")) return { kind: "hmac", secret: Buffer.from(keyText, "utf8") };
  const block = pemDecode(keyText);
  if (!block) throw new SignatureError("failed to parse PEM block containing the key");
  let key: KeyObject;
  try {
    switch (block.type) {
      case "RSA PRIVATE KEY":
        key = createPrivateKey({ key: block.der, format: "der", type: "pkcs1" });
        break;
      case "PRIVATE KEY":
        key = createPrivateKey({ key: block.der, format: "der", type: "pkcs8" });
        break;
      case "EC PRIVATE KEY":
        key = createPrivateKey({ key: block.der, format: "der", type: "sec1" });
        break;
      default:
        throw new SignatureError(`unsupported key type: ${block.type}`);
    }
  } catch (e) {
    if (e instanceof SignatureError) throw e;
    throw new SignatureError(`failed to parse the ${block.type}: ${(e as Error).message}`);
  }
  checkKeyType(key, alg);
  return { kind: "asym", key };
}

/** The public key for verification (OPA: parseVerificationKey). */
export function verificationKey(keyText: string, alg: SigningAlgorithm): SigningKey {
  if (alg.startsWith("HS")) return { kind: "hmac", secret: Buffer.from(keyText, "utf8") };
  const block = pemDecode(keyText);
  let key: KeyObject | undefined;
  if (block) {
    try {
      switch (block.type) {
        case "RSA PUBLIC KEY":
          key = createPublicKey({ key: block.der, format: "der", type: "pkcs1" });
          break;
        case "PUBLIC KEY":
          key = createPublicKey({ key: block.der, format: "der", type: "spki" });
          break;
        case "RSA PRIVATE KEY":
          key = createPublicKey(createPrivateKey({ key: block.der, format: "der", type: "pkcs1" }));
          break;
        case "PRIVATE KEY":
          key = createPublicKey(createPrivateKey({ key: block.der, format: "der", type: "pkcs8" }));
          break;
        case "EC PRIVATE KEY":
          key = createPublicKey(createPrivateKey({ key: block.der, format: "der", type: "sec1" }));
          break;
        case "CERTIFICATE":
          key = new X509Certificate(block.der).publicKey;
          break;
      }
    } catch (e) {
      throw new SignatureError(`failed to parse the ${block.type}: ${(e as Error).message}`);
    }
  }
  if (!key) throw new SignatureError("failed to parse PEM block containing the key");
  return { kind: "asym", key };
}

function checkKeyType(key: KeyObject, alg: SigningAlgorithm): void {
  const t = key.asymmetricKeyType;
  const want = alg.startsWith("ES") ? "ec" : "rsa";
  if (t !== want && !(want === "rsa" && t === "rsa-pss")) {
    throw new SignatureError(`failed to sign payload: key of type ${t} cannot be used with ${alg}`);
  }
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

function rawSign(alg: SigningAlgorithm, key: SigningKey, input: Buffer): Buffer {
  const digest = digestOf(alg);
  if (key.kind === "hmac") return createHmac(digest, key.secret).update(input).digest();
  if (alg.startsWith("RS")) return cryptoSign(digest, input, key.key);
  if (alg.startsWith("PS")) return cryptoSign(digest, input, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  return cryptoSign(digest, input, { key: key.key, dsaEncoding: "ieee-p1363" });
}

function rawVerify(alg: SigningAlgorithm, key: SigningKey, input: Buffer, sig: Buffer): boolean {
  const digest = digestOf(alg);
  if (key.kind === "hmac") {
    const mac = createHmac(digest, key.secret).update(input).digest();
    return mac.length === sig.length && timingSafeEqual(mac, sig);
  }
  try {
    if (alg.startsWith("RS")) return cryptoVerify(digest, input, key.key, sig);
    if (alg.startsWith("PS")) return cryptoVerify(digest, input, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig);
    return cryptoVerify(digest, input, { key: key.key, dsaEncoding: "ieee-p1363" }, sig);
  } catch {
    return false;
  }
}

/**
 * A compact JWS over `payload` (JSON text): header `{"alg","kid"?,"typ":"JWT"}` as jwx writes it
 * (keys sorted; `kid` only when non-empty).
 */
export function signCompact(payloadJSON: string, alg: SigningAlgorithm, key: SigningKey, kid: string): string {
  const header = kid !== "" ? `{"alg":${JSON.stringify(alg)},"kid":${JSON.stringify(kid)},"typ":"JWT"}` : `{"alg":${JSON.stringify(alg)},"typ":"JWT"}`;
  const input = `${b64url(header)}.${b64url(payloadJSON)}`;
  return `${input}.${b64url(rawSign(alg, key, Buffer.from(input, "latin1")))}`;
}

export interface SplitJWS {
  headerB64: string;
  payloadB64: string;
  signatureB64: string;
}

/** The three parts of a compact JWS (OPA's "failed to split compact JWT"). */
export function splitCompact(token: string): SplitJWS {
  const parts = token.split(".");
  if (parts.length !== 3) throw new SignatureError(`failed to split compact JWT: invalid number of segments`);
  return { headerB64: parts[0], payloadB64: parts[1], signatureB64: parts[2] };
}

const B64URL = /^[A-Za-z0-9_-]*$/;

export function decodeB64url(s: string, what: string): Buffer {
  if (!B64URL.test(s) || s.length % 4 === 1) throw new SignatureError(`failed to base64 decode JWT ${what}: illegal base64 data`);
  return Buffer.from(s, "base64url");
}

/** Verify the signature of a split token with the key; throws OPA's (jwx's) "failed to verify JWT signature: …". */
export function verifyCompact(t: SplitJWS, alg: SigningAlgorithm, key: SigningKey): void {
  const sig = decodeB64url(t.signatureB64, "signature");
  const input = Buffer.from(`${t.headerB64}.${t.payloadB64}`, "latin1");
  const fail = (why: string) => new SignatureError(`failed to verify JWT signature: ${why}`);
  if (key.kind === "asym") {
    const have = key.key.asymmetricKeyType === "ec" ? "ecdsa" : "rsa";
    const want = alg.startsWith("ES") ? "ecdsa" : "rsa";
    if (have !== want) {
      throw fail(`jwsbb.Verify: invalid key type *${have}.PublicKey. *${want}.PublicKey is required: keyconv: expected ${want}.PublicKey/${want}.PrivateKey or *${want}.PublicKey/*${want}.PrivateKey, got *${have}.PublicKey`);
    }
    if (want === "ecdsa") {
      const curve = String(key.key.asymmetricKeyDetails?.namedCurve ?? "");
      const [name, bytes] = curve === "prime256v1" ? ["P-256", 32] : curve === "secp384r1" ? ["P-384", 48] : curve === "secp521r1" ? ["P-521", 66] : [curve, 0];
      if (sig.length !== 2 * bytes) throw fail(`dsig.VerifyECDSA: failed to unpack ECDSA signature: invalid signature length for curve ${JSON.stringify(name)}`);
    }
  }
  if (!rawVerify(alg, key, input, sig)) {
    throw fail(key.kind === "hmac" ? "invalid HMAC signature" : alg.startsWith("ES") ? "invalid ECDSA signature" : "crypto/rsa: verification error");
  }
}
