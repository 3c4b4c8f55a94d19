// The webhook certificates Portcullis writes itself (src/gatekeeper/controller/x509.ts): read
// back by Node's X509Certificate and, when openssl is installed, by `openssl verify` and
// `openssl x509 -text` (extensions as cert-controller sets them); and the checks that decide a
// rotation (bundleProblem).
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle, bundleProblem } from "../../src/gatekeeper/controller/index.ts";
import { which } from "../support/kube.ts";

const DAY = 86400_000;
const NAME = "gatekeeper-webhook-service.gatekeeper-system.svc";
const bundle = makeBundle({ caName: "gatekeeper-ca", caOrganization: "gatekeeper", dnsName: NAME, extraNames: ["127.0.0.1", "fd00::1", "localhost"], caValidityMs: 3650 * DAY, certValidityMs: 365 * DAY });

test("CA and serving certificate read back by Node", async () => {
  const b = await bundle;
  const ca = new X509Certificate(b.caCert);
  const cert = new X509Certificate(b.cert);
  assert.equal(ca.subject, "O=gatekeeper\nCN=gatekeeper-ca");
  assert.equal(ca.issuer, ca.subject);
  assert.equal(ca.ca, true);
  assert.equal(cert.ca, false);
  assert.equal(cert.subject, `CN=${NAME}`);
  assert.equal(cert.issuer, "O=gatekeeper\nCN=gatekeeper-ca");
  assert.equal(cert.subjectAltName, `DNS:${NAME}, IP Address:127.0.0.1, IP Address:FD00:0:0:0:0:0:0:1, DNS:localhost`);
  assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
  assert.ok(ca.verify(ca.publicKey));
  assert.ok(cert.checkPrivateKey(createPrivateKey(b.key)));
  assert.equal(cert.checkHost(NAME), NAME);
  assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
  assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.1"]); // extKeyUsage serverAuth
  const days = (new Date(cert.validTo).getTime() - Date.now()) / DAY;
  assert.ok(days > 364 && days < 366, `serving certificate valid ${days} days`);
  const caDays = (new Date(ca.validTo).getTime() - Date.now()) / DAY;
  assert.ok(caDays > 3649 && caDays < 3651, `CA valid ${caDays} days`); // past 2050: GeneralizedTime
  assert.ok(Date.now() - new Date(cert.validFrom).getTime() >= 59 * 60_000, "valid from an hour back");
  assert.match(b.key, /^-----BEGIN RSA PRIVATE KEY-----\n/);
});

test("openssl agrees", { skip: which("openssl") ? false : "openssl is not installed" }, async () => {
  const b = await bundle;
  const dir = mkdtempSync(join(tmpdir(), "certs-"));
  writeFileSync(join(dir, "ca.crt"), b.caCert);
  writeFileSync(join(dir, "tls.crt"), b.cert);
  assert.equal(execFileSync("openssl", ["verify", "-purpose", "sslserver", "-CAfile", join(dir, "ca.crt"), join(dir, "tls.crt")], { encoding: "utf8" }).trim(), `${join(dir, "tls.crt")}: OK`);
  const text = execFileSync("openssl", ["x509", "-in", join(dir, "tls.crt"), "-noout", "-text"], { encoding: "utf8" });
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
  assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
  assert.match(text, /X509v3 Subject Alternative Name: \n\s+DNS:gatekeeper-webhook-service\.gatekeeper-system\.svc, IP Address:127\.0\.0\.1, IP Address:FD00:0:0:0:0:0:0:1, DNS:localhost\n/);
  const caText = execFileSync("openssl", ["x509", "-in", join(dir, "ca.crt"), "-noout", "-text"], { encoding: "utf8" });
  assert.match(caText, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
  assert.match(caText, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment, Certificate Sign\n/);
  assert.match(caText, /Not After : .* 20[3-9]\d GMT/);
});

test("bundleProblem: what makes a rotation", async () => {
  const b = await bundle;
  assert.equal(bundleProblem(b, NAME, new Date()), "");
  assert.equal(bundleProblem(b, NAME, new Date(Date.now() + 90 * DAY)), "");
  assert.match(bundleProblem(b, NAME, new Date(Date.now() + 400 * DAY)), /^expires \d{4}-/);
  assert.equal(bundleProblem(b, "other.gatekeeper-system.svc", new Date()), "tls.crt is not valid for other.gatekeeper-system.svc");
  assert.equal(bundleProblem({ ...b, key: b.caKey }, NAME, new Date()), "tls.key does not match tls.crt");
  assert.equal(bundleProblem({ ...b, caCert: b.cert }, NAME, new Date()), "ca.crt is not a CA certificate");
  assert.equal(bundleProblem({ ...b, cert: undefined }, NAME, new Date()), "incomplete");
  assert.match(bundleProblem({ ...b, cert: "garbage" }, NAME, new Date()), /^unreadable: /);
  const other = await makeBundle({ caName: "x", caOrganization: "y", dnsName: NAME, caValidityMs: DAY * 10, certValidityMs: DAY });
  assert.equal(bundleProblem({ ...b, cert: other.cert, key: other.key }, NAME, new Date()), "tls.crt is not signed by ca.crt");
});
