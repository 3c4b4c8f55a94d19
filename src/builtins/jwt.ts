// io.jwt.*: decoding, signature verification, claim validation and signing of JSON Web Tokens.

import { nodeCrypto } from "../lazy.ts";
import type { JsonWebKeyInput, KeyObject } from "node:crypto";
import type { Builtin, BuiltinContext } from "./registry.ts";
import { BuiltinError, T, expectString, operandError } from "./registry.ts";
import type { PlainObject, Value } from "../rego/value.ts";
import { isNumber, isPlainObject, toJsNumber } from "../rego/value.ts";
import { Base64Error, goBase64Decode, goJSON, goJSONError, parseJSONValue } from "./support/encoding.ts";
import { pemBlocks } from "./support/x509.ts";
import { goOuterSequenceError } from "./support/der.ts";
import { headerGetString } from "./support/fastjson.ts";

// ---- Token structure ------------------------------------------------------------------------

interface Parts {
  header: string;
  payload: string;
  signature: string;
}

function splitToken(token: string): Parts {
  if (!token.includes(".")) throw new BuiltinError("encoded JWT had no period separators");
  const parts = token.split(".");
  if (parts.length !== 3) throw new BuiltinError(`encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0], payload: parts[1], signature: parts[2] };
}

/** Base64url with optional padding, as OPA decodes JWT segments. */
function b64urlDecode(s: string): Buffer {
  let t = s;
  const rem = t.length % 4;
  if (rem === 1) throw new BuiltinError(`illegal base64url string: ${s}`);
  if (rem > 0) t += "=".repeat(4 - rem);
  try {
    return goBase64Decode(t, true, true);
  } catch (e) {
    if (e instanceof Base64Error) throw new BuiltinError(e.message);
    throw e;
  }
}

function withPrefix<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BuiltinError) throw new BuiltinError(prefix + e.message);
    throw e;
  }
}

/** Parse JSON text into a Rego value, with Go's error words. */
function parseJSON(text: string, eof = "unexpected EOF"): Value {
  const err = goJSONError(text, eof);
  if (err !== null) throw new BuiltinError(`invalid JSON: ${err}`);
  return fromJSONText(text);
}

/**
 * Why a JWK text is not JSON: jwx reads keys with a json.Decoder, which says "EOF" for a text of
 * nothing but white space and "unexpected EOF" for a truncated one.
 */
function keyJSONError(text: string): string | null {
  if (/^[ \t\r\n]*$/.test(text)) return "EOF";
  return goJSONError(text, "unexpected EOF");
}

function fromJSONText(text: string): Value {
  return parseJSONValue(text);
}

interface Decoded {
  header: PlainObject;
  payload: PlainObject;
  signature: Buffer;
  parts: Parts;
}

function decodeHeader(parts: Parts): PlainObject {
  const bytes = withPrefix("JWT header had invalid encoding: ", () => b64urlDecode(parts.header));
  const header = withPrefix("bad JWT header: ", () => parseJSON(bytes.toString("utf8")));
  if (!isPlainObject(header)) throw new BuiltinError("bad JWT header: decoded JSON type was not an Object");
  // An "enc" parameter marks an encrypted token (RFC 7516 §4.1.2), which OPA refuses.
  if ("enc" in header) throw new BuiltinError("JWT is a JWE object, which is not supported");
  return header;
}

/** The header parameters OPA understands; any other listed in "crit" makes the token invalid. */
const UNDERSTOOD_HEADER_PARAMS = new Set(["alg", "kid", "typ", "cty", "crit"]);

interface HeaderFields {
  alg: string;
  kid: string;
  cty: string;
  /** A parameter listed in "crit" (RFC 7515 §4.1.11) is present and not understood. */
  unknownCritical: boolean;
}

/** Check the types of the registered header parameters, in key order, as OPA does. */
function headerFields(header: PlainObject): HeaderFields {
  const f: HeaderFields = { alg: "", kid: "", cty: "", unknownCritical: false };
  let crit: Set<string> | null = null;
  for (const key of Object.keys(header).sort()) {
    const v = header[key];
    switch (key) {
      case "alg":
      case "kid":
      case "typ":
      case "cty":
        if (typeof v !== "string") throw new BuiltinError(`${key}: must be a string`);
        if (key !== "typ") f[key] = v;
        break;
      case "crit": {
        if (!Array.isArray(v)) throw new BuiltinError("crit: must be a list");
        // OPA reads the names up to the first element that is not a string and ignores the rest.
        crit = new Set();
        for (const x of v) {
          if (typeof x !== "string") break;
          crit.add(x);
        }
        if (crit.size === 0) throw new BuiltinError("crit: must be a nonempty list");
        break;
      }
    }
  }
  // Names listed in "crit" but absent from the header are accepted, as OPA does.
  if (crit !== null) for (const name of crit) if (!UNDERSTOOD_HEADER_PARAMS.has(name) && name in header) f.unknownCritical = true;
  return f;
}

function decodeToken(token: string): Decoded {
  let parts = splitToken(token);
  let header = decodeHeader(parts);
  let payloadBytes = withPrefix("JWT payload had invalid encoding: ", () => b64urlDecode(parts.payload));
  const signature = withPrefix("JWT signature had invalid encoding: ", () => b64urlDecode(parts.signature));
  // A nested token ("cty": "JWT") carries another token as its payload.
  let sigBytes = signature;
  while (header.cty === "JWT") {
    // The inner token is usually quoted (as jwt.io writes it): OPA trims quotes of both kinds.
    parts = splitToken(payloadBytes.toString("utf8").replace(/^["']+|["']+$/g, ""));
    header = decodeHeader(parts);
    payloadBytes = withPrefix("JWT payload had invalid encoding: ", () => b64urlDecode(parts.payload));
    sigBytes = withPrefix("JWT signature had invalid encoding: ", () => b64urlDecode(parts.signature));
  }
  const payload = parseJSON(payloadBytes.toString("utf8"));
  if (!isPlainObject(payload)) throw new BuiltinError("decoded JSON type was not an Object");
  return { header, payload, signature: sigBytes, parts };
}

// ---- Keys -----------------------------------------------------------------------------------

interface VerifyKey {
  key: KeyObject;
  /** A JWK that carries private material: OPA does not verify with it. */
  privateJwk: boolean;
  /** The JWK's "alg": the key then serves only tokens whose header names that algorithm. */
  alg?: string;
  kid?: string;
}

/** Algorithm names a JWK's "alg" may carry (JWS, JWE key management and content encryption). */
const JWK_ALGS = new Set([
  "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
  "ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "none",
  "RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512",
  "A128KW", "A192KW", "A256KW", "dir",
  "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW",
  "A128GCMKW", "A192GCMKW", "A256GCMKW",
  "PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW",
  "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM",
]);

const JWK_PREFIX = "failed to parse a JWK key (set): jwk.ParseString: failed to parse string: jwk.Parse: failed to parse sole key: ";
const JWKS_PREFIX = "failed to parse a JWK key (set): jwk.ParseString: failed to parse string: jwk.Parse: failed to unmarshal JWK set: ";

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  return "object";
}

/** Import one JWK (already parsed). Throws BuiltinError with jwx-like words. */
function importJWK(jwk: Record<string, unknown>, pub: boolean): KeyObject {
  const kty = typeof jwk.kty === "string" ? jwk.kty : "";
  const typeName: Record<string, string> = { RSA: "rsa", EC: "ecdsa", OKP: "okp", oct: "symmetric" };
  if (!(kty in typeName)) throw new BuiltinError(`jwk.ParseKey: invalid key type from JSON (${kty})`);
  const priv = "d" in jwk;
  const goType = kty === "oct" ? "*jwk.symmetricKey" : `*jwk.${typeName[kty]}${priv ? "Private" : "Public"}Key`;
  const fieldError = (field: string, msg: string) =>
    new BuiltinError(`jwk.ParseKey: failed to unmarshal JSON into key (${goType}): failed to unmarshal JSON into key (${goType}): failed to decode value for key ${field}: ${msg}`);
  for (const [field, v] of Object.entries(jwk)) {
    if (field === "alg") {
      if (v !== null && typeof v !== "string") throw fieldError(field, `json: cannot unmarshal ${jsonKind(v)} into Go value of type string`);
      const name = v ?? "";
      if (!JWK_ALGS.has(name as string)) throw fieldError(field, `invalid key value: ${JSON.stringify(name)}: invalid key algorithm`);
    } else if (field === "kid" || field === "use") {
      if (v !== null && typeof v !== "string") throw fieldError(field, `error reading next value: json: cannot unmarshal ${jsonKind(v)} into Go value of type string`);
    }
  }
  const required: Record<string, string[]> = { RSA: ["e", "n"], EC: ["crv", "x", "y"], OKP: ["crv", "x"], oct: ["k"] };
  for (const f of required[kty]) {
    if (!(f in jwk)) {
      throw new BuiltinError(
        `jwk.ParseKey: failed to unmarshal JSON into key (${goType}): failed to unmarshal JSON into key (${goType}): required field ${f} is missing`,
      );
    }
  }
  if (kty === "oct") {
    if (typeof jwk.k !== "string") {
      throw new BuiltinError(
        `jwk.ParseKey: failed to unmarshal JSON into key (${goType}): failed to unmarshal JSON into key (${goType}): failed to decode value for key k: error reading next value: json: cannot unmarshal ${jsonKind(jwk.k)} into Go value of type string`,
      );
    }
    if (jwk.k === "") throw new BuiltinError(`jwk.ParseKey: jwk.Parse: key validation failed: key validation failed: jwk.SymmetricKey: missing "k" field`);
    if (!/^[A-Za-z0-9_=-]*$/.test(jwk.k) && !/^[A-Za-z0-9+/=]*$/.test(jwk.k)) {
      throw new BuiltinError(
        `jwk.ParseKey: failed to unmarshal JSON into key (${goType}): failed to unmarshal JSON into key (${goType}): failed to decode value for key k: expected base64 encoded []byte (string)`,
      );
    }
    return nodeCrypto.createSecretKey(Buffer.from(jwk.k, "base64url"));
  }
  try {
    const clean: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(jwk)) if (!["alg", "use", "key_ops", "kid", "x5c", "x5t", "x5u", "x5t#S256"].includes(k)) clean[k] = v;
    if (pub || !priv) return nodeCrypto.createPublicKey({ key: clean as unknown as JsonWebKeyInput["key"], format: "jwk" });
    return nodeCrypto.createPrivateKey({ key: clean as unknown as JsonWebKeyInput["key"], format: "jwk" });
  } catch (e) {
    throw new BuiltinError(`jwk.ParseKey: failed to create key: ${(e as Error).message}`);
  }
}

function jwkGoType(jwk: Record<string, unknown>): string {
  const names: Record<string, string> = { RSA: "rsa", EC: "ecdsa", OKP: "okp" };
  if (jwk.kty === "oct") return "*jwk.symmetricKey";
  return `*jwk.${names[jwk.kty as string]}${"d" in jwk ? "Private" : "Public"}Key`;
}

/** What follows the first PEM block (after the END line and its line ending). */
function pemRest(text: string): string {
  const m = /-----BEGIN ([^\r\n-]*)-----\r?\n[\s\S]*?-----END \1-----[ \t\r]*(\n|$)/.exec(text);
  return m ? text.slice(m.index + m[0].length) : text;
}

/** Keys from a verification "certificate": PEM certificate, PEM public key, JWK or JWK set. */
function parseVerificationKeys(text: string): VerifyKey[] {
  if (text.startsWith("-----BEGIN")) {
    const blocks = pemBlocks(text);
    if (blocks.length > 0) {
      if (pemRest(text) !== "") throw new BuiltinError("extra data after a PEM certificate block");
      const b = blocks[0];
      // OPA reads CERTIFICATE and PUBLIC KEY blocks; any other type names no key.
      if (b.type === "CERTIFICATE") {
        try {
          return [{ key: new nodeCrypto.X509Certificate(b.bytes).publicKey, privateJwk: false }];
        } catch {
          throw new BuiltinError("failed to parse a PEM certificate: x509: malformed certificate");
        }
      }
      if (b.type === "PUBLIC KEY") {
        const outer = goOuterSequenceError(b.bytes, "publicKeyInfo");
        if (outer !== null) throw new BuiltinError(`failed to parse a PEM public key: ${outer}`);
        try {
          return [{ key: nodeCrypto.createPublicKey({ key: b.bytes, format: "der", type: "spki" }), privateJwk: false }];
        } catch {
          throw new BuiltinError("failed to parse a PEM public key: x509: failed to parse public key");
        }
      }
      throw new BuiltinError("failed to extract a Key from the PEM certificate");
    }
  }
  const err = keyJSONError(text);
  if (err !== null) throw new BuiltinError(JWK_PREFIX + "jwk.ParseKey: jwk.Parse: failed to probe data: probe: failed to unmarshal data: " + err);
  const parsed = JSON.parse(text) as unknown;
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new BuiltinError(
      JWK_PREFIX +
        `jwk.ParseKey: jwk.Parse: failed to probe data: probe: failed to unmarshal data: json: cannot unmarshal ${jsonKind(parsed)} into Go value of type struct { Kty string "json:\\"kty\\""; D json.RawMessage "json:\\"d,omitempty\\"" }`,
    );
  }
  const obj = parsed as Record<string, unknown>;
  const isSet = Array.isArray(obj.keys);
  const list = isSet ? (obj.keys as Record<string, unknown>[]) : [obj];
  const out: VerifyKey[] = [];
  list.forEach((jwk, i) => {
    const prefix = isSet ? `${JWKS_PREFIX}failed to decode key #${i} in "keys": ` : JWK_PREFIX;
    const key = withPrefix(prefix, () => importJWK(jwk, false));
    const vk: VerifyKey = { key, privateJwk: "d" in jwk };
    if (typeof jwk.alg === "string") vk.alg = jwk.alg;
    if (typeof jwk.kid === "string") vk.kid = jwk.kid;
    out.push(vk);
  });
  return out;
}

/**
 * The keys a token may be checked with: those whose "alg" (when set) names the header's
 * algorithm; then, when the header's "kid" names one of them, only the first that does.
 */
function selectKeys(keys: VerifyKey[], alg: string, kid: string): VerifyKey[] {
  const usable = keys.filter((k) => k.alg === undefined || k.alg === alg);
  if (kid !== "") {
    const named = usable.find((k) => k.kid === kid);
    if (named) return [named];
  }
  return usable;
}

// ---- Signatures -----------------------------------------------------------------------------

type Family = "HS" | "RS" | "PS" | "ES" | "EdDSA";

const ALGS: Record<string, { family: Family; hash: string }> = {
  HS256: { family: "HS", hash: "sha256" },
  HS384: { family: "HS", hash: "sha384" },
  HS512: { family: "HS", hash: "sha512" },
  RS256: { family: "RS", hash: "sha256" },
  RS384: { family: "RS", hash: "sha384" },
  RS512: { family: "RS", hash: "sha512" },
  PS256: { family: "PS", hash: "sha256" },
  PS384: { family: "PS", hash: "sha384" },
  PS512: { family: "PS", hash: "sha512" },
  ES256: { family: "ES", hash: "sha256" },
  ES384: { family: "ES", hash: "sha384" },
  ES512: { family: "ES", hash: "sha512" },
  EdDSA: { family: "EdDSA", hash: "" },
};

/** Go's crypto/rsa refuses keys under 1024 bits. */
function rsaTooSmall(key: KeyObject): boolean {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  return bits !== undefined && bits < 1024;
}

function verifyWithKey(alg: string, data: Buffer, sig: Buffer, vk: VerifyKey): boolean {
  const a = ALGS[alg];
  if (!a || vk.privateJwk) return false;
  const key = vk.key;
  if (a.family === "HS") return key.type === "secret" && hmacVerify(alg, data, sig, key.export());
  if ((a.family === "RS" || a.family === "PS") && rsaTooSmall(key)) return false;
  try {
    switch (a.family) {
      case "RS":
        if (key.asymmetricKeyType !== "rsa") return false;
        return nodeCrypto.verify(a.hash, data, key, sig);
      case "PS":
        if (key.asymmetricKeyType !== "rsa" && key.asymmetricKeyType !== "rsa-pss") return false;
        return nodeCrypto.verify(
          a.hash,
          data,
          { key, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: nodeCrypto.constants.RSA_PSS_SALTLEN_AUTO },
          sig,
        );
      case "ES":
        if (key.asymmetricKeyType !== "ec") return false;
        return nodeCrypto.verify(a.hash, data, { key, dsaEncoding: "ieee-p1363" }, sig);
      case "EdDSA":
        if (key.asymmetricKeyType !== "ed25519") return false;
        return nodeCrypto.verify(null, data, key, sig);
    }
  } catch {
    return false;
  }
  return false;
}

function hmacVerify(alg: string, data: Buffer, sig: Buffer, secret: Buffer): boolean {
  const a = ALGS[alg];
  if (!a || a.family !== "HS") return false;
  const mac = nodeCrypto.createHmac(a.hash, secret).update(data).digest();
  return mac.length === sig.length && nodeCrypto.timingSafeEqual(mac, sig);
}

function signingInput(parts: Parts): Buffer {
  return Buffer.from(`${parts.header}.${parts.payload}`, "utf8");
}

function verifyBuiltin(name: string, alg: string) {
  return (args: Value[]): Value => {
    const token = expectString(name, 1, args[0]);
    const cert = expectString(name, 2, args[1]);
    const parts = splitToken(token);
    // HMAC verification looks at nothing but the signature.
    if (ALGS[alg].family === "HS") return hmacVerify(alg, signingInput(parts), b64urlDecode(parts.signature), Buffer.from(cert, "utf8"));
    const keys = parseVerificationKeys(cert);
    // The header's types are checked and its alg and kid choose the keys; "crit" is not enforced
    // by these functions (only by decode_verify), nor is the header's alg matched to the function.
    const h = headerFields(decodeHeader(parts));
    const sig = b64urlDecode(parts.signature);
    const data = signingInput(parts);
    return selectKeys(keys, h.alg, h.kid).some((k) => verifyWithKey(alg, data, sig, k));
  };
}

// ---- decode / decode_verify -----------------------------------------------------------------

function decodeBuiltin(args: Value[]): Value {
  const token = expectString("io.jwt.decode", 1, args[0]);
  const d = decodeToken(token);
  return [d.header, d.payload, d.signature.toString("hex")];
}

interface Constraints {
  keys?: VerifyKey[];
  secret?: string;
  alg?: string;
  iss?: string;
  aud?: string;
  time: number;
}

function parseConstraints(c: PlainObject, ctx: BuiltinContext): Constraints {
  const out: Constraints = { time: Number(ctx.nowNs) };
  for (const key of Object.keys(c)) {
    const v = c[key];
    switch (key) {
      case "cert":
        if (typeof v !== "string") throw new BuiltinError("cert constraint: must be a string");
        if (out.secret !== undefined) throw new BuiltinError("duplicate key constraints");
        out.keys = parseVerificationKeys(v);
        break;
      case "secret":
        if (typeof v !== "string") throw new BuiltinError("secret constraint: must be a string");
        if (out.keys !== undefined) throw new BuiltinError("duplicate key constraints");
        out.secret = v;
        break;
      case "alg":
      case "iss":
      case "aud":
        if (typeof v !== "string") throw new BuiltinError(`${key} constraint: must be a string`);
        out[key] = v;
        break;
      case "time":
        if (!isNumber(v)) throw new BuiltinError("token time constraint: must be a number");
        out.time = toJsNumber(v);
        if (out.time < 0) throw new BuiltinError("token time constraint: must not be negative");
        break;
      default:
        throw new BuiltinError(`unknown token validation constraint: ${key}`);
    }
  }
  if (out.keys === undefined && out.secret === undefined) throw new BuiltinError("no key constraint");
  return out;
}

function decodeVerifyBuiltin(args: Value[], ctx: BuiltinContext): Value {
  const name = "io.jwt.decode_verify";
  const token = expectString(name, 1, args[0]);
  if (!isPlainObject(args[1])) throw operandError(name, 2, "object", args[1]);
  const c = parseConstraints(args[1], ctx);
  const invalid: Value = [false, {}, {}];

  // Every level of a nested token ("cty": "JWT", any case) must verify with the constraints.
  let text = token;
  let header: PlainObject;
  let payloadBytes: Buffer;
  for (;;) {
    const parts = splitToken(text);
    header = decodeHeader(parts);
    const h = headerFields(header);
    if (h.unknownCritical) return invalid;
    if (c.alg !== undefined && c.alg !== h.alg) return invalid;
    const sig = b64urlDecode(parts.signature);
    const data = signingInput(parts);
    const ok =
      c.secret !== undefined
        ? hmacVerify(h.alg, data, sig, Buffer.from(c.secret, "utf8"))
        : selectKeys(c.keys!, h.alg, h.kid).some((k) => verifyWithKey(h.alg, data, sig, k));
    if (!ok) return invalid;
    payloadBytes = withPrefix("JWT payload had invalid encoding: ", () => b64urlDecode(parts.payload));
    if (h.cty.toUpperCase() !== "JWT") break;
    text = payloadBytes.toString("utf8");
  }
  const payload = parseJSON(payloadBytes.toString("utf8"));
  if (!isPlainObject(payload)) throw new BuiltinError("decoded JSON type was not an Object");

  if (c.iss !== undefined && payload.iss !== c.iss) return invalid;
  const aud = payload.aud;
  if (c.aud !== undefined) {
    if (aud === undefined) return invalid;
    if (typeof aud === "string") {
      if (aud !== c.aud) return invalid;
    } else if (Array.isArray(aud)) {
      if (!aud.some((x) => x === c.aud)) return invalid;
    } else return invalid;
  } else if (aud !== undefined) return invalid;
  if (payload.exp !== undefined) {
    if (!isNumber(payload.exp)) throw new BuiltinError("exp value must be a number");
    if (c.time >= toJsNumber(payload.exp) * 1e9) return invalid;
  }
  if (payload.nbf !== undefined) {
    if (!isNumber(payload.nbf)) throw new BuiltinError("nbf value must be a number");
    if (c.time < toJsNumber(payload.nbf) * 1e9) return invalid;
  }
  return [true, header, payload];
}

// ---- Signing --------------------------------------------------------------------------------

function requiredKeyType(family: Family): string {
  switch (family) {
    case "HS":
      return "[]byte";
    case "RS":
    case "PS":
      return "*rsa.PrivateKey";
    case "ES":
      return "*ecdsa.PrivateKey";
    case "EdDSA":
      return "ed25519.PrivateKey";
  }
}

function signToken(headerText: string, payloadText: string, jwk: Record<string, unknown>): string {
  // OPA reads "alg" and "typ" from the header text with fastjson (through jwx's jwsbb).
  const algRead = headerGetString(headerText, "alg");
  if ("error" in algRead) throw new BuiltinError(`missing or invalid 'alg' header: ${algRead.error}`);
  const alg = algRead.value;
  const a = ALGS[alg];
  if (!a) throw new BuiltinError(`unknown JWS algorithm: ${alg}`);
  const typ = headerGetString(headerText, "typ");
  if (("error" in typ || typ.value === "JWT") && goJSONError(payloadText) !== null) throw new BuiltinError("type is JWT but payload is not JSON");
  const key = withPrefix("jwk.Parse: failed to parse sole key: ", () => importJWK(jwk, false));
  const input = Buffer.from(`${Buffer.from(headerText, "utf8").toString("base64url")}.${Buffer.from(payloadText, "utf8").toString("base64url")}`);
  const mismatch = (): never => {
    const goType = jwkGoType(jwk);
    const want = requiredKeyType(a.family);
    const bare = want.replace(/^\*/, "");
    const conv = a.family === "HS" || a.family === "ES" ? "keyconv: " : "";
    throw new BuiltinError(
      `jwsbb.Sign: invalid key type ${goType}. ${want} is required: ${conv}failed to produce ${bare} from ${goType}: jwk.Export: no suitable exporter found for key type '${goType}'`,
    );
  };
  let sig: Buffer;
  switch (a.family) {
    case "HS":
      if (key.type !== "secret") mismatch();
      sig = nodeCrypto.createHmac(a.hash, key.export()).update(input).digest();
      break;
    case "RS":
      if (key.type !== "private" || key.asymmetricKeyType !== "rsa") mismatch();
      rsaSizeCheck(key);
      sig = nodeCrypto.sign(a.hash, input, key);
      break;
    case "PS":
      if (key.type !== "private" || key.asymmetricKeyType !== "rsa") mismatch();
      rsaSizeCheck(key);
      sig = nodeCrypto.sign(a.hash, input, {
        key,
        padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: nodeCrypto.constants.RSA_PSS_SALTLEN_DIGEST,
      });
      break;
    case "ES":
      if (key.type !== "private" || key.asymmetricKeyType !== "ec") mismatch();
      sig = nodeCrypto.sign(a.hash, input, { key, dsaEncoding: "ieee-p1363" });
      break;
    case "EdDSA":
      if (key.type !== "private" || key.asymmetricKeyType !== "ed25519") mismatch();
      sig = nodeCrypto.sign(null, input, key);
      break;
  }
  return `${input.toString("utf8")}.${sig!.toString("base64url")}`;
}

function rsaSizeCheck(key: KeyObject): void {
  if (rsaTooSmall(key)) {
    const bits = key.asymmetricKeyDetails!.modulusLength!;
    throw new BuiltinError(`crypto/rsa: ${bits}-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)`);
  }
}

function encodeSign(args: Value[]): Value {
  const [header, payload, key] = args;
  if (!isPlainObject(key)) {
    throw new BuiltinError(
      `jwk.Parse: failed to parse sole key: jwk.ParseKey: jwk.Parse: failed to probe data: probe: failed to unmarshal data: json: cannot unmarshal ${jsonKind(JSON.parse(goJSON(key)))} into Go value of type struct { Kty string "json:\\"kty\\""; D json.RawMessage "json:\\"d,omitempty\\"" }`,
    );
  }
  const jwk = JSON.parse(goJSON(key)) as Record<string, unknown>;
  return signToken(goJSON(header), goJSON(payload), jwk);
}

function encodeSignRaw(args: Value[]): Value {
  const name = "io.jwt.encode_sign_raw";
  const headerText = expectString(name, 1, args[0]);
  const payloadText = expectString(name, 2, args[1]);
  const keyText = expectString(name, 3, args[2]);
  // OPA parses the key before it reads the header.
  const kerr = keyJSONError(keyText);
  if (kerr !== null) throw new BuiltinError("jwk.Parse: failed to parse sole key: jwk.ParseKey: jwk.Parse: failed to probe data: probe: failed to unmarshal data: " + kerr);
  const jwk = JSON.parse(keyText) as unknown;
  if (jwk === null || typeof jwk !== "object" || Array.isArray(jwk)) {
    throw new BuiltinError(
      `jwk.Parse: failed to parse sole key: jwk.ParseKey: jwk.Parse: failed to probe data: probe: failed to unmarshal data: json: cannot unmarshal ${jsonKind(jwk)} into Go value of type struct { Kty string "json:\\"kty\\""; D json.RawMessage "json:\\"d,omitempty\\"" }`,
    );
  }
  return signToken(headerText, payloadText, jwk as Record<string, unknown>);
}

// ---- Table ----------------------------------------------------------------------------------

const strStrBool = T.fn([T.string, T.string], T.boolean);
const objAnyAny = T.objectOf(T.any, T.any);
const objStrAny = T.objectOf(T.string, T.any);

const table: Builtin[] = [
  { name: "io.jwt.decode", decl: T.fn([T.string], T.tuple(objAnyAny, objAnyAny, T.string)), impl: decodeBuiltin },
  {
    name: "io.jwt.decode_verify",
    decl: T.fn([T.string, objStrAny], T.tuple(T.boolean, objAnyAny, objAnyAny)),
    impl: decodeVerifyBuiltin,
    nondeterministic: true,
  },
  { name: "io.jwt.encode_sign", decl: T.fn([objStrAny, objStrAny, objStrAny], T.string), impl: encodeSign, nondeterministic: true },
  { name: "io.jwt.encode_sign_raw", decl: T.fn([T.string, T.string, T.string], T.string), impl: encodeSignRaw, nondeterministic: true },
];
for (const alg of Object.keys(ALGS)) {
  const name = `io.jwt.verify_${alg.toLowerCase()}`;
  table.push({ name, decl: strStrBool, impl: verifyBuiltin(name, alg) });
}

/** OPA prefixes builtin errors with the builtin's name. */
function withNamePrefix(b: Builtin): Builtin {
  const impl = b.impl;
  return {
    ...b,
    impl: (args, ctx) => {
      try {
        return impl(args, ctx);
      } catch (e) {
        if (e instanceof BuiltinError && !e.message.startsWith(b.name + ": ")) throw new BuiltinError(`${b.name}: ${e.message}`);
        throw e;
      }
    },
  };
}

export const builtins: Builtin[] = table.map(withNamePrefix);
