// The Bearer token flow against a real registry: docker-registry configured for token
// authentication, with a token server written here (Basic credentials in, ES256 JWT out, signed
// by a generated certificate the registry trusts, granting the scopes asked for). The client
// follows the registry's own challenges: pull, push (pull,push scope), and a cross-repository
// mount (a second repository's pull scope). Skipped without docker-registry or openssl.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createPrivateKey, sign, X509Certificate } from "node:crypto";
import { createServer } from "node:http";
import { connect } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryClient, StaticCredentials, parseReference, pushImage, pullImage, MEDIA } from "../../src/oci/index.ts";
import { REGISTRY_BIN, freePort, tlsMissing } from "../support/registry.ts";

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

test("Bearer tokens from a token server, as the real registry challenges for them", { skip: tlsMissing(), timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-token-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "token.key", "-out", "token.pem", "-days", "2", "-subj", "/CN=token issuer"], { cwd: dir, stdio: "ignore" });
  const key = createPrivateKey(readFileSync(join(dir, "token.key")));
  const certDER = new X509Certificate(readFileSync(join(dir, "token.pem"))).raw;
  const requests: { scopes: string[]; user: string }[] = [];
  const tokenServer = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const auth = req.headers.authorization ?? "";
    const user = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString() : "";
    if (user !== "alice:secret") return void res.writeHead(401).end('{"details":"bad credentials"}');
    const scopes = url.searchParams.getAll("scope");
    requests.push({ scopes, user });
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(":");
      return { type, name, actions: actions.split(",") };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c: [certDER.toString("base64")] }));
    const claims = b64url(JSON.stringify({ iss: "portcullis-test", sub: "alice", aud: url.searchParams.get("service"), exp: now + 300, nbf: now - 10, iat: now, jti: String(Math.random()), access }));
    const sig = sign("sha256", Buffer.from(`${header}.${claims}`), { key, dsaEncoding: "ieee-p1363" });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: `${header}.${claims}.${b64url(sig)}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => tokenServer.listen(0, "127.0.0.1", r));
  const tokenPort = (tokenServer.address() as { port: number }).port;
  const port = await freePort();
  writeFileSync(
    join(dir, "config.yml"),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\nhttp:\n  addr: 127.0.0.1:${port}\nauth:\n  token:\n    realm: http://127.0.0.1:${tokenPort}/token\n    service: portcullis-registry\n    issuer: portcullis-test\n    rootcertbundle: ${join(dir, "token.pem")}\n`,
  );
  const child = spawn(REGISTRY_BIN, ["serve", join(dir, "config.yml")], { stdio: "ignore" });
  try {
    for (let i = 0; i < 200; i++) {
      const up = await new Promise<boolean>((r) => {
        const c = connect(port, "127.0.0.1", () => (c.destroy(), r(true)));
        c.on("error", () => r(false));
      });
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const host = `127.0.0.1:${port}`;
    const c = new RegistryClient({ credentials: new StaticCredentials(host, { username: "alice", password: "secret" }) });
    const ref = parseReference(`${host}/team/a:1`);
    const d = await pushImage(c, ref, { config: { mediaType: MEDIA.ociConfig, data: Buffer.from("{}") }, layers: [{ mediaType: "text/plain", data: Buffer.from("layer") }] });
    const pulled = await pullImage(c, ref);
    assert.equal(pulled.descriptor.digest, d.digest);
    assert.equal(pulled.layers[0].data.toString(), "layer");
    // mount into another repository: the token carries both repositories' scopes
    const other = parseReference(`${host}/team/b:1`);
    await c.pushBlob(other, Buffer.from("layer"), "text/plain", { mountFrom: "team/a" });
    assert.equal(await c.blobSize(other, pulled.layers[0].descriptor.digest), 5);
    assert.ok(requests.some((r) => r.scopes.includes("repository:team/a:pull,push")), JSON.stringify(requests));
    assert.ok(requests.some((r) => r.scopes.includes("repository:team/b:pull,push") && r.scopes.includes("repository:team/a:pull")), JSON.stringify(requests));
    assert.ok(requests.length <= 8, `tokens are reused per scope: ${requests.length} token requests`);
    await c.close();
    // wrong credentials: the token server's 401, reported as such
    const bad = new RegistryClient({ credentials: new StaticCredentials(host, { username: "alice", password: "nope" }), retries: 0 });
    await assert.rejects(bad.resolve(ref), /token request to http:\/\/127\.0\.0\.1:\d+\/token failed: 401/);
    await bad.close();
  } finally {
    child.kill("SIGTERM");
    tokenServer.close();
    await new Promise((r) => setTimeout(r, 100));
    rmSync(dir, { recursive: true, force: true });
  }
});
