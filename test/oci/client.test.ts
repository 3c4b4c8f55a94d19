// The OCI distribution client: references, a real registry (Debian's docker-registry over HTTP,
// and over HTTPS with a custom CA and htpasswd basic auth), and a scripted registry on loopback
// for what the real one does not do on demand (Bearer tokens, 503s, a tampered manifest).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseReference, formatReference, isLoopback, ReferenceError } from "../../src/oci/reference.ts";
import { RegistryClient, RegistryError, parseChallenge } from "../../src/oci/client.ts";
import { DockerConfigCredentials, StaticCredentials } from "../../src/oci/credentials.ts";
import { MEDIA, EMPTY_JSON, EMPTY_JSON_DIGEST, sha256Digest } from "../../src/oci/types.ts";
import { pushImage, pullImage } from "../../src/oci/image.ts";
import { startRegistry, registryMissing, tlsMissing, TEST_USER, TEST_PASSWORD, type TestRegistry } from "../support/registry.ts";

test("references: Docker Hub defaults, registries with ports, tags and digests", () => {
  assert.deepEqual(parseReference("alpine"), { registry: "docker.io", repository: "library/alpine", tag: undefined, digest: undefined });
  assert.deepEqual(parseReference("org/policy", "latest"), { registry: "docker.io", repository: "org/policy", tag: "latest", digest: undefined });
  assert.deepEqual(parseReference("oci://localhost:5000/a/b:v1"), { registry: "localhost:5000", repository: "a/b", tag: "v1", digest: undefined });
  const d = `sha256:${"a".repeat(64)}`;
  assert.deepEqual(parseReference(`ghcr.io/o/p:t@${d}`), { registry: "ghcr.io", repository: "o/p", tag: "t", digest: d });
  assert.equal(parseReference(`127.0.0.1:5000/p@${d}`, "latest").tag, undefined);
  assert.equal(formatReference(parseReference("index.docker.io/library/busybox:1")), "docker.io/library/busybox:1");
  assert.throws(() => parseReference("Org/Policy"), /must be lowercase/);
  assert.throws(() => parseReference("a/b:bad tag"), ReferenceError);
  assert.throws(() => parseReference("a/b@sha256:abc"), /invalid digest/);
  assert.throws(() => parseReference(""), /empty/);
  assert.ok(isLoopback("localhost:5000") && isLoopback("127.0.0.1:1") && isLoopback("[::1]:5000"));
  assert.ok(!isLoopback("registry.example.com") && !isLoopback("10.0.0.1:5000"));
});

test("WWW-Authenticate challenges", () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
    scheme: "bearer",
    params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull,push" },
  });
  assert.deepEqual(parseChallenge('Basic realm="basic-realm"'), { scheme: "basic", params: { realm: "basic-realm" } });
});

let reg: TestRegistry | undefined;
before(async () => {
  if (!registryMissing()) reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
});

test("a real registry over HTTP: blobs (monolithic, chunked, mount), manifests, tags, referrers through the tag schema", { skip: registryMissing() }, async () => {
  const c = new RegistryClient();
  try {
    const ref = parseReference(`${reg!.host}/team/policy:v1`);
    const big = Buffer.alloc(250_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const layer = await c.pushBlob(ref, big, "application/octet-stream", { chunkSize: 64 * 1024 });
    assert.equal(await c.blobSize(ref, layer.digest), big.length);
    const cfg = await c.pushBlob(ref, EMPTY_JSON, MEDIA.ociEmpty);
    assert.equal(cfg.digest, EMPTY_JSON_DIGEST);
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: cfg, layers: [layer] }));
    const { descriptor } = await c.putManifest(ref, m, MEDIA.ociManifest, "v1");
    assert.equal(descriptor.digest, sha256Digest(m));
    assert.deepEqual(await c.resolve(ref), descriptor);
    const got = await c.getManifest({ ...ref, tag: undefined, digest: descriptor.digest });
    assert.ok(got.bytes.equals(m));
    assert.ok((await c.getBlob(ref, layer.digest, layer.size)).equals(big));
    // a wrong size is refused before any byte is trusted
    await assert.rejects(c.getBlob(ref, layer.digest, layer.size - 1), /expected 249999 bytes|larger than the limit/);
    // cross-repository mount: the other repository has the blob without an upload
    const other = parseReference(`${reg!.host}/team/other:v1`);
    assert.equal(await c.blobSize(other, layer.digest), undefined);
    await c.pushBlob(other, big, "application/octet-stream", { mountFrom: "team/policy" });
    assert.equal(await c.blobSize(other, layer.digest), big.length);
    await c.putManifest(ref, m, MEDIA.ociManifest, "v2");
    assert.deepEqual((await c.listTags(ref)).sort(), ["v1", "v2"]);
    // a referrer: distribution 2.8 has no referrers API, so the sha256-<hex> index is written and read
    const sig = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, artifactType: "application/vnd.example.sig", config: cfg, layers: [cfg], subject: descriptor }));
    const sd = await c.pushReferrer(ref, sig, MEDIA.ociManifest);
    const r = await c.referrers(ref, descriptor.digest);
    assert.equal(r.fromTagSchema, true);
    assert.deepEqual(r.index.manifests, [{ ...sd, artifactType: "application/vnd.example.sig" }]);
    assert.deepEqual((await c.referrers(ref, descriptor.digest, "application/other")).index.manifests, []);
    assert.ok((await c.listTags(ref)).includes(RegistryClient.referrersTag(descriptor.digest)));
    // unknown things are RegistryErrors with the status and OCI code
    const e = await c.getManifest({ ...ref, tag: "nope" }).catch((x) => x);
    assert.ok(e instanceof RegistryError && e.status === 404 && e.codes.includes("MANIFEST_UNKNOWN"), String(e));
    // whole images
    const img = parseReference(`${reg!.host}/team/image:1`);
    const pushed = await pushImage(c, img, { config: { mediaType: MEDIA.ociConfig, data: Buffer.from("{}") }, layers: [{ mediaType: "text/plain", data: Buffer.from("hello"), annotations: { "org.opencontainers.image.title": "hello.txt" } }] });
    const pulled = await pullImage(c, img);
    assert.equal(pulled.descriptor.digest, pushed.digest);
    assert.equal(pulled.layers[0].data.toString(), "hello");
    await assert.rejects(pullImage(c, img, { maxTotalBytes: 4 }), /more than the limit of 4/);
    await assert.rejects(pullImage(c, img, { maxLayers: 0 }), /1 layers, more than the limit of 0/);
  } finally {
    await c.close();
  }
});

test("a real registry over HTTPS with a custom CA and basic auth from the docker config", { skip: tlsMissing(), timeout: 60000 }, async () => {
  const tls = await startRegistry({ tls: true });
  const home = mkdtempSync(join(tmpdir(), "portcullis-docker-"));
  try {
    const ref = parseReference(`${tls.host}/secure/p:1`);
    // without the CA: the certificate is refused
    const noCA = new RegistryClient({ plainHttp: false, retries: 0 });
    await assert.rejects(noCA.ping(tls.host), /SELF_SIGNED|UNABLE_TO_VERIFY|certificate/i);
    await noCA.close();
    // with the CA but without credentials: a clear 401
    const anon = new RegistryClient({ plainHttp: false, caFile: tls.caFile });
    await assert.rejects(anon.resolve(ref), /no credentials for 127\.0\.0\.1:\d+; run portcullis login/);
    await anon.close();
    // credentials in config.json (base64 auth), as docker login writes them
    const store = new DockerConfigCredentials(join(home, "config.json"));
    await store.store(tls.host, TEST_USER, TEST_PASSWORD);
    const cfg = JSON.parse(readFileSync(join(home, "config.json"), "utf8"));
    assert.equal(Buffer.from(cfg.auths[tls.host].auth, "base64").toString(), `${TEST_USER}:${TEST_PASSWORD}`);
    const c = new RegistryClient({ plainHttp: false, caFile: tls.caFile, credentials: store });
    await c.ping(tls.host);
    const d = await pushImage(c, ref, { config: { mediaType: MEDIA.ociConfig, data: Buffer.from("{}") }, layers: [{ mediaType: "text/plain", data: Buffer.from("x") }] });
    assert.equal((await c.resolve(ref)).digest, d.digest);
    await c.close();
    // a wrong password is a 401 naming login
    const bad = new RegistryClient({ plainHttp: false, caFile: tls.caFile, credentials: new StaticCredentials(tls.host, { username: TEST_USER, password: "wrong" }) });
    await assert.rejects(bad.resolve(ref), /401 Unauthorized.*portcullis login/);
    await bad.close();
    // --insecure skips verification
    const insecure = new RegistryClient({ plainHttp: false, insecure: true, credentials: store });
    assert.equal((await insecure.resolve(ref)).digest, d.digest);
    await insecure.close();
    assert.equal(await store.erase(tls.host), true);
    assert.equal(await store.erase(tls.host), false);
  } finally {
    await tls.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

test("credential helpers: credHelpers per registry and credsStore, with identity tokens", async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-helper-"));
  const helper = join(dir, "docker-credential-fake");
  // a helper that logs its calls and answers for one server
  writeFileSync(
    helper,
    `#!/bin/sh\nread -r line\necho "$1 $line" >> "${dir}/calls"\nif [ "$1" = get ]; then\n  if [ "$line" = "reg.example:5000" ]; then echo '{"ServerURL":"reg.example:5000","Username":"alice","Secret":"pw"}'; exit 0; fi\n  if [ "$line" = "tok.example" ]; then echo '{"ServerURL":"tok.example","Username":"<token>","Secret":"refresh"}'; exit 0; fi\n  echo "credentials not found in native keychain"; exit 1\nfi\nexit 0\n`,
  );
  chmodSync(helper, 0o755);
  const oldPath = process.env.PATH;
  process.env.PATH = `${dir}:${oldPath}`;
  try {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ credHelpers: { "reg.example:5000": "fake" }, auths: { "https://other.example/v1/": { auth: Buffer.from("bob:pw2").toString("base64") } } }));
    const s = new DockerConfigCredentials(join(dir, "config.json"));
    assert.deepEqual(await s.get("reg.example:5000"), { username: "alice", password: "pw" });
    assert.deepEqual(await s.get("other.example"), { username: "bob", password: "pw2" });
    assert.equal(await s.get("none.example"), undefined);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ credsStore: "fake" }));
    assert.deepEqual(await s.get("tok.example"), { identityToken: "refresh" });
    assert.equal(await s.get("none.example"), undefined);
    await s.store("new.example", "carol", "pw3");
    assert.match(readFileSync(join(dir, "calls"), "utf8"), /store \{"ServerURL":"new.example","Username":"carol","Secret":"pw3"\}/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).auths, { "new.example": {} });
    writeFileSync(join(dir, "config.json"), JSON.stringify({ credsStore: "missing-helper" }));
    await assert.rejects(s.get("x.example"), /docker-credential-missing-helper not found in PATH/);
    writeFileSync(join(dir, "config.json"), "{not json");
    await assert.rejects(s.get("x.example"), /invalid JSON/);
  } finally {
    process.env.PATH = oldPath;
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A scripted registry: `handle` answers everything but the token endpoint. */
async function scripted(handle: (req: import("node:http").IncomingMessage, body: Buffer, res: import("node:http").ServerResponse, port: number) => void): Promise<{ server: Server; host: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, Buffer.concat(chunks), res, (server.address() as { port: number }).port));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, host: `127.0.0.1:${(server.address() as { port: number }).port}` };
}

test("Bearer token flow: challenge, token request with basic credentials and scopes, token reuse", async () => {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociEmpty, digest: EMPTY_JSON_DIGEST, size: 2 }, layers: [] }));
  const tokenRequests: string[] = [];
  let manifestRequests = 0;
  const { server, host } = await scripted((req, _body, res, port) => {
    if (req.url!.startsWith("/token")) {
      tokenRequests.push(`${req.url} ${req.headers.authorization}`);
      if (req.headers.authorization !== `Basic ${Buffer.from("u:p").toString("base64")}`) return void res.writeHead(401).end();
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: "T1", expires_in: 300 }));
    }
    if (req.headers.authorization !== "Bearer T1") {
      res.writeHead(401, { "www-authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="scripted",scope="repository:a/b:pull"` });
      return void res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
    }
    manifestRequests++;
    res.writeHead(200, { "content-type": MEDIA.ociManifest, "docker-content-digest": sha256Digest(manifest) }).end(manifest);
  });
  try {
    const c = new RegistryClient({ credentials: new StaticCredentials(host, { username: "u", password: "p" }) });
    const ref = parseReference(`${host}/a/b:1`);
    assert.equal((await c.getManifest(ref)).descriptor.digest, sha256Digest(manifest));
    assert.equal((await c.getManifest(ref)).descriptor.digest, sha256Digest(manifest));
    assert.equal(tokenRequests.length, 1, "the token is reused for the same scope");
    assert.match(tokenRequests[0], /^\/token\?service=scripted&scope=repository%3Aa%2Fb%3Apull /);
    assert.equal(manifestRequests, 2);
    await c.close();
    const anon = new RegistryClient();
    await assert.rejects(anon.getManifest(ref), /token request .* failed: 401 \(no credentials; run portcullis login/);
    await anon.close();
  } finally {
    server.close();
  }
});

test("retries: 503 and 429 are retried with backoff, a bounded number of times; a tampered manifest is refused", async () => {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociEmpty, digest: EMPTY_JSON_DIGEST, size: 2 }, layers: [] }));
  let calls = 0;
  let mode: "flaky" | "down" | "tampered" = "flaky";
  const { server, host } = await scripted((req, _b, res) => {
    calls++;
    if (mode === "down") return void res.writeHead(503).end();
    if (mode === "flaky" && calls <= 2) return void res.writeHead(calls === 1 ? 503 : 429, { "retry-after": "0" }).end();
    const body = mode === "tampered" ? Buffer.from(manifest.toString().replace("[]", "[ ]")) : manifest;
    res.writeHead(200, { "content-type": MEDIA.ociManifest, "docker-content-digest": sha256Digest(manifest) }).end(body);
  });
  try {
    const c = new RegistryClient({ backoffMs: 5, retries: 3 });
    const ref = parseReference(`${host}/a/b:1`);
    assert.equal((await c.getManifest(ref)).descriptor.digest, sha256Digest(manifest));
    assert.equal(calls, 3);
    mode = "down";
    calls = 0;
    await assert.rejects(c.getManifest(ref), /503 Service Unavailable/);
    assert.equal(calls, 4, "one try and three retries");
    mode = "tampered";
    await assert.rejects(c.getManifest(ref), /manifest digest mismatch/);
    await assert.rejects(c.getManifest({ ...ref, tag: undefined, digest: `sha256:${"0".repeat(64)}` }), /manifest digest mismatch/);
    await c.close();
    // a connection refused is retried, then reported; a silent server hits the deadline
    const dead = new RegistryClient({ backoffMs: 5, retries: 1 });
    server.close();
    await assert.rejects(dead.resolve(ref), /ECONNREFUSED.*after 2 attempts/);
    await dead.close();
  } finally {
    server.close();
  }
  const silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  try {
    const c = new RegistryClient({ timeoutMs: 200, retries: 0 });
    const t0 = Date.now();
    await assert.rejects(c.resolve(parseReference(`127.0.0.1:${(silent.address() as { port: number }).port}/a/b:1`)), /no answer within 200 ms/);
    assert.ok(Date.now() - t0 < 5000);
    await c.close();
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});

test("referrers: a registry with the referrers API answers it; the tag schema is not read then", async () => {
  const digest = `sha256:${"ab".repeat(32)}`;
  const index = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [
    { mediaType: MEDIA.ociManifest, digest: `sha256:${"01".repeat(32)}`, size: 10, artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json" },
    { mediaType: MEDIA.ociManifest, digest: `sha256:${"02".repeat(32)}`, size: 10, artifactType: "application/other" },
  ] };
  const paths: string[] = [];
  const { server, host } = await scripted((req, _b, res) => {
    paths.push(req.url!);
    if (req.url!.startsWith(`/v2/a/b/referrers/${digest}`)) return void res.writeHead(200, { "content-type": MEDIA.ociIndex }).end(JSON.stringify(index));
    res.writeHead(404).end();
  });
  try {
    const c = new RegistryClient();
    const r = await c.referrers(parseReference(`${host}/a/b:1`), digest, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.equal(r.fromTagSchema, false);
    assert.deepEqual(r.index.manifests.map((m) => m.digest), [index.manifests[0].digest]);
    assert.deepEqual(paths, [`/v2/a/b/referrers/${digest}?artifactType=application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson`]);
    await c.close();
  } finally {
    server.close();
  }
});
