// generateWebhookCertificates (src/gatekeeper/certs.ts): the serving certificate is signed by the
// CA, names its hosts in subjectAltName, and only the CA is a CA — checked with Node's X.509
// parser (OpenSSL's), so no recording is needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { generateWebhookCertificates } from "../../src/gatekeeper/certs.ts";

test("a CA and a serving certificate for DNS names and IP addresses", () => {
  const c = generateWebhookCertificates(["localhost", "gatekeeper-webhook-service.gatekeeper-system.svc", "127.0.0.1", "::1"], 30);
  const ca = new X509Certificate(c.caCert);
  const leaf = new X509Certificate(c.cert);
  assert.equal(ca.ca, true);
  assert.equal(leaf.ca, false);
  assert.ok(ca.verify(ca.publicKey), "the CA is self-signed");
  assert.ok(leaf.verify(ca.publicKey), "the serving certificate is signed by the CA");
  assert.ok(leaf.checkIssued(ca));
  assert.equal(leaf.checkHost("gatekeeper-webhook-service.gatekeeper-system.svc"), "gatekeeper-webhook-service.gatekeeper-system.svc");
  assert.equal(leaf.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal(leaf.checkIP("::1"), "::1");
  assert.equal(leaf.checkHost("example.com"), undefined);
  assert.equal(leaf.subjectAltName, "DNS:localhost, DNS:gatekeeper-webhook-service.gatekeeper-system.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
  assert.deepEqual(leaf.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
  assert.ok(leaf.checkPrivateKey(createPrivateKey(c.key)));
  const days = (Date.parse(leaf.validTo) - Date.now()) / 86400_000;
  assert.ok(days > 29 && days <= 30, `valid for ${days} days`);
  assert.throws(() => generateWebhookCertificates([]), /at least one host/);
});
