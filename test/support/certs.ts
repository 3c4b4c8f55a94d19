// A self-signed ECDSA serving certificate for 127.0.0.1 (tls.crt, tls.key in dir), made with
// openssl, for tests that serve HTTPS on loopback (webhooks, providers). Callers skip without openssl.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export function loopbackCert(dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "tls.key"), "-out", join(dir, "tls.crt"), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
}
