// crypto.*: digests, HMACs, X.509 certificate/CSR parsing and verification, private key parsing.

import { nodeCrypto } from "../lazy.ts";
import type { Builtin, BuiltinContext } from "./registry.ts";
import { BuiltinError, T, expectString, operandError } from "./registry.ts";
import type { PlainObject, Value } from "../rego/value.ts";
import { isPlainObject } from "../rego/value.ts";
import {
  parseCertificatesInput,
  parseCertificateRequestInput,
  certificateToValue,
  certificateWithURIStrings,

  verifyChain,
  parseVerifyOptions,
  parsePrivateKeysInput,
  rsaPrivateKeyJWK,
  parseKeyPair,
} from "./support/x509.ts";

function digest(alg: string) {
  const name = `crypto.${alg}`;
  return (args: Value[]): Value => {
    const s = expectString(name, 1, args[0]);
    return nodeCrypto.createHash(alg).update(s, "utf8").digest("hex");
  };
}

function hmac(alg: string) {
  const name = `crypto.hmac.${alg}`;
  return (args: Value[]): Value => {
    const x = expectString(name, 1, args[0]);
    const key = expectString(name, 2, args[1]);
    return nodeCrypto.createHmac(alg, Buffer.from(key, "utf8")).update(x, "utf8").digest("hex");
  };
}

function hmacEqual(args: Value[]): Value {
  const a = Buffer.from(expectString("crypto.hmac.equal", 1, args[0]), "utf8");
  const b = Buffer.from(expectString("crypto.hmac.equal", 2, args[1]), "utf8");
  if (a.length !== b.length) return false;
  return nodeCrypto.timingSafeEqual(a, b);
}

const strToStr = T.fn([T.string], T.string);
const strStrToStr = T.fn([T.string, T.string], T.string);
const objStrAny = T.objectOf(T.string, T.any);
const verifyResult = T.tuple(T.boolean, T.arrayOf(objStrAny));

function parseCertificates(args: Value[]): Value {
  const s = expectString("crypto.x509.parse_certificates", 1, args[0]);
  const certs = parseCertificatesInput(s);
  return certs.map(certificateWithURIStrings);
}

function parseAndVerify(args: Value[], ctx: BuiltinContext): Value {
  const s = expectString("crypto.x509.parse_and_verify_certificates", 1, args[0]);
  return verifyWithOptions(s, null, ctx, true);
}

function parseAndVerifyWithOptions(args: Value[], ctx: BuiltinContext): Value {
  const name = "crypto.x509.parse_and_verify_certificates_with_options";
  const s = expectString(name, 1, args[0]);
  if (!isPlainObject(args[1])) throw operandError(name, 2, "object", args[1]);
  return verifyWithOptions(s, args[1], ctx);
}

function verifyWithOptions(s: string, options: Value, ctx: BuiltinContext, withURIs = false): Value {
  const invalid: Value = [false, []];
  let certs;
  try {
    certs = parseCertificatesInput(s);
  } catch {
    return invalid;
  }
  const opts = parseVerifyOptions(options as PlainObject | null);
  if (certs.length < 2) return invalid;
  const chain = verifyChain(certs, opts);
  if (!chain) return invalid;
  return [true, chain.map(withURIs ? certificateWithURIStrings : certificateToValue)];
}

function parseCertificateRequest(args: Value[]): Value {
  const s = expectString("crypto.x509.parse_certificate_request", 1, args[0]);
  return parseCertificateRequestInput(s);
}

function parseKeypairBuiltin(args: Value[]): Value {
  const cert = expectString("crypto.x509.parse_keypair", 1, args[0]);
  const key = expectString("crypto.x509.parse_keypair", 1, args[1]); // OPA reports operand 1 here too
  return parseKeyPair(cert, key);
}

function parseRSAPrivateKey(args: Value[]): Value {
  const s = expectString("crypto.x509.parse_rsa_private_key", 1, args[0]);
  return rsaPrivateKeyJWK(s);
}

function parsePrivateKeys(args: Value[]): Value | undefined {
  const s = expectString("crypto.parse_private_keys", 1, args[0]);
  return parsePrivateKeysInput(s);
}

const table: Builtin[] = [
  { name: "crypto.md5", decl: strToStr, impl: digest("md5") },
  { name: "crypto.sha1", decl: strToStr, impl: digest("sha1") },
  { name: "crypto.sha256", decl: strToStr, impl: digest("sha256") },
  { name: "crypto.hmac.md5", decl: strStrToStr, impl: hmac("md5") },
  { name: "crypto.hmac.sha1", decl: strStrToStr, impl: hmac("sha1") },
  { name: "crypto.hmac.sha256", decl: strStrToStr, impl: hmac("sha256") },
  { name: "crypto.hmac.sha512", decl: strStrToStr, impl: hmac("sha512") },
  { name: "crypto.hmac.equal", decl: T.fn([T.string, T.string], T.boolean), impl: hmacEqual },
  { name: "crypto.x509.parse_certificates", decl: T.fn([T.string], T.arrayOf(objStrAny)), impl: parseCertificates },
  { name: "crypto.x509.parse_and_verify_certificates", decl: T.fn([T.string], verifyResult), impl: parseAndVerify },
  {
    name: "crypto.x509.parse_and_verify_certificates_with_options",
    decl: T.fn([T.string, objStrAny], verifyResult),
    impl: parseAndVerifyWithOptions,
  },
  { name: "crypto.x509.parse_certificate_request", decl: T.fn([T.string], objStrAny), impl: parseCertificateRequest },
  { name: "crypto.x509.parse_keypair", decl: T.fn([T.string, T.string], objStrAny), impl: parseKeypairBuiltin },
  { name: "crypto.x509.parse_rsa_private_key", decl: T.fn([T.string], objStrAny), impl: parseRSAPrivateKey },
  { name: "crypto.parse_private_keys", decl: T.fn([T.string], T.arrayOf(objStrAny)), impl: parsePrivateKeys },
];

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
