// --tls-cert-file/--tls-private-key-file: HTTPS on the listening address, and a certificate
// replaced on disk is served to new connections without a restart. Needs openssl (skipped
// without it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../../src/server/index.ts";
import { testServerOptions } from "./harness.ts";

const hasOpenssl = (process.env.PATH ?? "").split(":").some((d) => existsSync(join(d, "openssl")));
const POLICY = fileURLToPath(new URL("./fixtures/slow/", import.meta.url));

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${name}`, "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  return { cert, key };
}

function get(port: number, ca: Buffer): Promise<{ status: number; body: string; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/v1/data/slow/quick", ca, agent: false }, (res) => {
      let body = "";
      const cn = String((res.socket as import("node:tls").TLSSocket).getPeerCertificate().subject?.CN ?? "");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body, cn }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("TLS: serves HTTPS and picks up a replaced certificate", { skip: hasOpenssl ? false : "openssl is not installed", timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-tls-"));
  const one = selfSigned(dir, "first");
  const two = selfSigned(dir, "second");
  const certFile = join(dir, "server.crt");
  const keyFile = join(dir, "server.key");
  copyFileSync(one.cert, certFile);
  copyFileSync(one.key, keyFile);
  const server = await startServer(testServerOptions([POLICY], { workers: 0, tls: { certFile, keyFile } }));
  const port = Number(server.addresses[0].split(":").pop());
  try {
    const first = await get(port, readFileSync(one.cert));
    assert.equal(first.status, 200);
    assert.deepEqual(JSON.parse(first.body), { result: "fast" });
    assert.equal(first.cn, "first");
    copyFileSync(two.key, keyFile);
    copyFileSync(two.cert, certFile);
    let cn = "";
    for (let i = 0; i < 100 && cn !== "second"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      cn = await get(port, readFileSync(two.cert)).then((r) => r.cn, () => "");
    }
    assert.equal(cn, "second", "the replaced certificate was not picked up");
    await assert.rejects(get(port, readFileSync(one.cert)), "the old CA must no longer verify the server");
  } finally {
    await server.close();
  }
});
