import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/crypto.ts";
import { checkDecls, evalCall, fakeContext, runCases } from "./helpers.ts";

runCases("crypto", cases);

checkDecls([
  "crypto.md5", "crypto.sha1", "crypto.sha256",
  "crypto.hmac.md5", "crypto.hmac.sha1", "crypto.hmac.sha256", "crypto.hmac.sha512", "crypto.hmac.equal",
  "crypto.x509.parse_certificates", "crypto.x509.parse_and_verify_certificates",
  "crypto.x509.parse_and_verify_certificates_with_options", "crypto.x509.parse_certificate_request",
  "crypto.x509.parse_keypair", "crypto.x509.parse_rsa_private_key", "crypto.parse_private_keys",
]);

test("parse_and_verify_certificates honours the query time", () => {
  const ctx = fakeContext();
  ctx.nowNs = BigInt(Date.UTC(2030, 0, 1)) * 1000000n;
  const chain = evalCall(`crypto.x509.parse_certificates("")`, ctx);
  assert.deepEqual(chain, []);
});
