// What makes the certificate rotation replace the webhook's certificates (bundleProblem of
// src/gatekeeper/controller/certs.ts): read with Node's X509Certificate (OpenSSL's parser).
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateWebhookCertificates } from "../../src/gatekeeper/certs.ts";
import { bundleProblem } from "../../src/gatekeeper/controller/index.ts";

const DAY = 86400_000;
const NAME = "gatekeeper-webhook-service.gatekeeper-system.svc";

test("bundleProblem: good, expiring, other name, mismatched keys, not signed by the CA, unreadable", () => {
  const b = generateWebhookCertificates([NAME, "127.0.0.1"], 365, NAME);
  assert.equal(bundleProblem(b, NAME, new Date()), "");
  assert.equal(bundleProblem(b, NAME, new Date(Date.now() + 90 * DAY)), "");
  assert.match(bundleProblem(b, NAME, new Date(Date.now() + 400 * DAY)), /^expires \d{4}-/);
  assert.equal(bundleProblem(b, "other.gatekeeper-system.svc", new Date()), "tls.crt is not valid for other.gatekeeper-system.svc");
  assert.equal(bundleProblem({ ...b, key: b.caKey }, NAME, new Date()), "tls.key does not match tls.crt");
  assert.equal(bundleProblem({ ...b, caCert: b.cert, caKey: b.key }, NAME, new Date()), "ca.crt is not a CA certificate");
  assert.equal(bundleProblem({ ...b, cert: undefined }, NAME, new Date()), "incomplete");
  assert.match(bundleProblem({ ...b, cert: "garbage" }, NAME, new Date()), /^unreadable: /);
  const other = generateWebhookCertificates([NAME], 10, NAME);
  assert.equal(bundleProblem({ ...b, cert: other.cert, key: other.key }, NAME, new Date()), "tls.crt is not signed by ca.crt");
});
