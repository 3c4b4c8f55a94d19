// Signing keys in cosign's file formats.
//
// `cosign.key` is a PEM block of type `ENCRYPTED SIGSTORE PRIVATE KEY` (older cosign:
// `ENCRYPTED COSIGN PRIVATE KEY`) whose bytes are the JSON document of go-securesystemslib's
// `encrypted` package:
//
//   {"kdf": {"name": "scrypt", "params": {"N": 65536, "r": 8, "p": 1}, "salt": <base64, 32 bytes>},
//    "cipher": {"name": "nacl/secretbox", "nonce": <base64, 24 bytes>},
//    "ciphertext": <base64: poly1305 tag ‖ xsalsa20 ciphertext of the PKCS#8 DER private key>}
//
// The secretbox key is scrypt(password, salt, N, r, p, 32 bytes). Only the three parameter sets
// that package accepts are read (2^15, 2^16 and 2^17 with r=8, p=1): anything else could make the
// key derivation arbitrarily expensive. `cosign.pub` is the PKIX public key as a `PUBLIC KEY`
// PEM block. Plain PEM private keys (`PRIVATE KEY` PKCS#8, `EC PRIVATE KEY`, `RSA PRIVATE KEY`)
// are read too, as `cosign import-key-pair` reads them.

import type { KeyObject } from "node:crypto";
import { lazyRequire, nodeCrypto } from "../lazy.ts";

type Salsa = typeof import("@noble/ciphers/salsa");
const salsa = lazyRequire<Salsa>("@noble/ciphers/salsa");

export const SIGSTORE_PRIVATE_KEY_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY";
export const COSIGN_PRIVATE_KEY_PEM = "ENCRYPTED COSIGN PRIVATE KEY";

/** The scrypt parameter sets go-securesystemslib reads (legacy, standard = its default for new keys, OWASP). */
const SCRYPT_PARAMS = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
];
const DEFAULT_SCRYPT = SCRYPT_PARAMS[1];
const SALT_SIZE = 32;
const NONCE_SIZE = 24;
const BOX_KEY_SIZE = 32;
/** A key file larger than this is not a key file. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/** A key file that cannot be read (wrong format, wrong password, unsupported key). */
export class KeyError extends Error {}

export interface PemBlock {
  type: string;
  bytes: Buffer;
}

/** The first PEM block of `text` (as Go's pem.Decode: text before it is skipped). */
export function decodePem(text: string): PemBlock | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  const body = m[2].split(/\r?\n/).filter((l) => l.trim() !== "" && !l.includes(":"));
  const b64 = body.join("").replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  return { type: m[1], bytes: Buffer.from(b64, "base64") };
}

/** Every PEM block of `text`, in order. */
export function decodePemAll(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const b = decodePem(m[0]);
    if (b) out.push(b);
  }
  return out;
}

/** A PEM block as Go's pem.EncodeToMemory writes it (64-character lines). */
export function encodePem(type: string, bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join("\n")}${lines.length ? "\n" : ""}-----END ${type}-----\n`;
}

function scrypt(password: Buffer, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    nodeCrypto.scrypt(password, salt, BOX_KEY_SIZE, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** go-securesystemslib's `encrypted.Encrypt` (standard scrypt parameters). */
export async function encryptKeyBytes(plaintext: Uint8Array, password: string | Buffer): Promise<Buffer> {
  const salt = nodeCrypto.randomBytes(SALT_SIZE);
  const nonce = nodeCrypto.randomBytes(NONCE_SIZE);
  const key = await scrypt(Buffer.from(password), salt, DEFAULT_SCRYPT);
  const sealed = salsa().xsalsa20poly1305(key, nonce).encrypt(plaintext);
  const doc = {
    kdf: { name: "scrypt", params: { N: DEFAULT_SCRYPT.N, r: DEFAULT_SCRYPT.r, p: DEFAULT_SCRYPT.p }, salt: salt.toString("base64") },
    cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
    ciphertext: Buffer.from(sealed).toString("base64"),
  };
  return Buffer.from(JSON.stringify(doc));
}

function b64field(v: unknown, what: string): Buffer {
  if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new KeyError(`encrypted key: ${what} is not base64`);
  return Buffer.from(v, "base64");
}

/** go-securesystemslib's `encrypted.Decrypt`. */
export async function decryptKeyBytes(data: Uint8Array, password: string | Buffer): Promise<Buffer> {
  let doc: Record<string, any>;
  try {
    doc = JSON.parse(Buffer.from(data).toString("utf8"));
  } catch {
    throw new KeyError("encrypted key: the PEM block is not the JSON of an encrypted key");
  }
  if (doc?.kdf?.name !== "scrypt") throw new KeyError(`encrypted key: unknown kdf name ${JSON.stringify(doc?.kdf?.name)}`);
  if (doc?.cipher?.name !== "nacl/secretbox") throw new KeyError(`encrypted key: unknown cipher name ${JSON.stringify(doc?.cipher?.name)}`);
  const params = doc.kdf.params ?? {};
  const known = SCRYPT_PARAMS.find((s) => s.N === params.N && s.r === params.r && s.p === params.p);
  if (!known) throw new KeyError("encrypted key: unsupported scrypt parameters");
  const salt = b64field(doc.kdf.salt, "kdf.salt");
  const nonce = b64field(doc.cipher.nonce, "cipher.nonce");
  if (nonce.length !== NONCE_SIZE) throw new KeyError("encrypted key: incorrect nonce size");
  const ciphertext = b64field(doc.ciphertext, "ciphertext");
  const key = await scrypt(Buffer.from(password), salt, known);
  try {
    return Buffer.from(salsa().xsalsa20poly1305(key, nonce).decrypt(ciphertext));
  } catch {
    throw new KeyError("decrypt: encrypted: decryption failed (wrong password?)");
  }
}

export interface KeyPairFiles {
  /** cosign.key: the encrypted private key, PEM. */
  privatePem: string;
  /** cosign.pub: the public key, PEM. */
  publicPem: string;
}

/** A new ECDSA P-256 key pair in cosign's file formats (`cosign generate-key-pair`). */
export async function generateKeyPair(password: string | Buffer): Promise<KeyPairFiles> {
  const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  return keyPairFiles(privateKey, publicKey, password);
}

/** A key pair as cosign writes it. */
export async function keyPairFiles(privateKey: KeyObject, publicKey: KeyObject, password: string | Buffer): Promise<KeyPairFiles> {
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  const enc = await encryptKeyBytes(pkcs8, password);
  return {
    privatePem: encodePem(SIGSTORE_PRIVATE_KEY_PEM, enc),
    publicPem: encodePem("PUBLIC KEY", publicKey.export({ format: "der", type: "spki" })),
  };
}

/** Whether the private key file needs a password (cosign's encrypted formats). */
export function isEncryptedKey(text: string): boolean {
  const b = decodePem(text);
  return b !== undefined && (b.type === SIGSTORE_PRIVATE_KEY_PEM || b.type === COSIGN_PRIVATE_KEY_PEM);
}

function checkKeyType(key: KeyObject): KeyObject {
  const t = key.asymmetricKeyType;
  if (t === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== "prime256v1" && curve !== "secp384r1" && curve !== "secp521r1") throw new KeyError(`unsupported ECDSA curve ${curve}`);
    return key;
  }
  if (t === "rsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new KeyError(`RSA key of ${bits} bits is too small (at least 2048)`);
    return key;
  }
  // cosign signs with Ed25519ph by default and plain Ed25519 elsewhere: not guessed here
  throw new KeyError(`unsupported key type ${t} (ECDSA P-256/P-384/P-521 and RSA keys are supported)`);
}

/** A private key from a cosign key file (password needed) or a plain PEM private key. */
export async function loadPrivateKey(text: string, password: string | Buffer | undefined): Promise<KeyObject> {
  const b = decodePem(text);
  if (!b) throw new KeyError("invalid pem block");
  let der: Buffer;
  let format: "pkcs8" | "sec1" | "pkcs1";
  switch (b.type) {
    case SIGSTORE_PRIVATE_KEY_PEM:
    case COSIGN_PRIVATE_KEY_PEM:
      der = await decryptKeyBytes(b.bytes, password ?? "");
      format = "pkcs8";
      break;
    case "PRIVATE KEY":
      der = b.bytes;
      format = "pkcs8";
      break;
    case "EC PRIVATE KEY":
      der = b.bytes;
      format = "sec1";
      break;
    case "RSA PRIVATE KEY":
      der = b.bytes;
      format = "pkcs1";
      break;
    default:
      throw new KeyError(`unsupported pem type: ${b.type}`);
  }
  let key: KeyObject;
  try {
    key = nodeCrypto.createPrivateKey({ key: der, format: "der", type: format });
  } catch {
    throw new KeyError("parsing private key: not a valid key");
  }
  return checkKeyType(key);
}

/** A public key from a `PUBLIC KEY` PEM (or the public half of a certificate's PEM). */
export function loadPublicKey(text: string): KeyObject {
  const b = decodePem(text);
  if (!b) throw new KeyError("PEM decoding failed: no PEM block found");
  try {
    if (b.type === "PUBLIC KEY") return checkKeyType(nodeCrypto.createPublicKey({ key: b.bytes, format: "der", type: "spki" }));
    if (b.type === "CERTIFICATE") return checkKeyType(new nodeCrypto.X509Certificate(b.bytes).publicKey);
    if (b.type === "RSA PUBLIC KEY") return checkKeyType(nodeCrypto.createPublicKey({ key: b.bytes, format: "der", type: "pkcs1" }));
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError(`invalid public key: ${(e as Error).message}`);
  }
  throw new KeyError(`unsupported public key PEM type: ${b.type}`);
}

/** The PKIX PEM of a key's public half. */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === "private" ? nodeCrypto.createPublicKey(key) : key;
  return encodePem("PUBLIC KEY", pub.export({ format: "der", type: "spki" }));
}

/** The digest cosign pairs with a key: SHA-256 except for P-384 (SHA-384) and P-521 (SHA-512). */
function hashFor(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === "secp384r1") return "sha384";
  if (curve === "secp521r1") return "sha512";
  return "sha256";
}

/** A signature over `data` as cosign makes it (ECDSA: ASN.1 DER; RSA: PKCS#1 v1.5). */
export function signBytes(key: KeyObject, data: Uint8Array): Buffer {
  return nodeCrypto.sign(hashFor(key), data, key);
}

/** Whether `sig` signs `data` under `key`; ECDSA signatures may be DER or raw r‖s (IEEE P1363). */
export function verifyBytes(key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  const alg = hashFor(key);
  try {
    if (nodeCrypto.verify(alg, data, key, sig)) return true;
  } catch {
    // a malformed DER signature: try the raw form below
  }
  if (key.asymmetricKeyType !== "ec") return false;
  try {
    return nodeCrypto.verify(alg, data, { key, dsaEncoding: "ieee-p1363" }, sig);
  } catch {
    return false;
  }
}
