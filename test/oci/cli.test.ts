// The registry commands end to end against a real registry (Debian's docker-registry on
// 127.0.0.1): login/logout, conftest's push/pull and test --update, the local store (images,
// tag, push, pull, save, rm), and interop with the real tools when installed: conftest pulls what
// Portcullis pushed and the other way round, oras lists and pulls what Portcullis pushed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { startRegistry, registryMissing, tlsMissing, goTool, TEST_USER, TEST_PASSWORD, type TestRegistry } from "../support/registry.ts";
import { RegistryClient, parseReference, MEDIA, pushImage, PolicyStore, bundleImage } from "../../src/oci/index.ts";

async function cli(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string; bytes: Buffer }> {
  let out = "";
  let err = "";
  const chunks: Buffer[] = [];
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), exitCode: 0, readStdin: () => stdin ?? "", outBytes: (b: Uint8Array) => void chunks.push(Buffer.from(b)) };
  const code = await main(args, io);
  return { code, out, err, bytes: Buffer.concat(chunks) };
}

const work = mkdtempSync(join(tmpdir(), "portcullis-oci-cli-"));
process.env.DOCKER_CONFIG = join(work, "docker");
process.env.PORTCULLIS_HOME = join(work, "home");
const CONFTEST = goTool("conftest");
const ORAS = goTool("oras");

let reg: TestRegistry | undefined;
before(async () => {
  if (!registryMissing()) reg = await startRegistry();
  // a conftest policy directory with a test file and data
  mkdirSync(join(work, "src", "policy", "lib"), { recursive: true });
  writeFileSync(join(work, "src", "policy", "deny.rego"), 'package main\n\nimport data.lib.k8s\n\ndeny contains msg if {\n  input.kind == "Pod"\n  not k8s.allowed[input.metadata.name]\n  msg := sprintf("pod %s is not allowed", [input.metadata.name])\n}\n');
  writeFileSync(join(work, "src", "policy", "lib", "k8s.rego"), 'package lib.k8s\n\nallowed contains name if some name in data.allowed\n');
  writeFileSync(join(work, "src", "policy", "allowed.json"), '{"allowed": ["web"]}\n');
  writeFileSync(join(work, "src", "pod.yaml"), "kind: Pod\nmetadata:\n  name: db\n");
  process.chdir(join(work, "src"));
});
after(async () => {
  await reg?.stop();
  process.chdir(tmpdir());
  rmSync(work, { recursive: true, force: true });
});

const tree = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  const walk = (d: string, pre: string) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      if (n.isDirectory()) walk(join(d, n.name), `${pre}${n.name}/`);
      else out[`${pre}${n.name}`] = readFileSync(join(d, n.name), "utf8");
    }
  };
  if (existsSync(dir)) walk(dir, "");
  return out;
};

test("conftest's push and pull: one layer per file, titles, default tag latest; test --update oci://", { skip: registryMissing() }, async () => {
  const ref = `${reg!.host}/policies/conftest`;
  const push = await cli(["push", ref]);
  assert.equal(push.code, 0, push.err);
  assert.match(push.out, /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d pushing bundle to: 127\.0\.0\.1:\d+\/policies\/conftest:latest\n\d{4}.* pushed bundle with digest: sha256:[a-f0-9]{64}\n$/);
  // the manifest is conftest's: config, media types, titles
  const c = new RegistryClient();
  const m = (await c.getManifest(parseReference(`${ref}:latest`))).json as { config: { mediaType: string }; layers: { mediaType: string; annotations: Record<string, string> }[] };
  await c.close();
  assert.equal(m.config.mediaType, MEDIA.unknownConfig);
  assert.deepEqual(
    m.layers.map((l) => [l.mediaType, l.annotations["org.opencontainers.image.title"]]),
    [
      [MEDIA.conftestPolicyLayer, "policy/deny.rego"],
      [MEDIA.conftestPolicyLayer, "policy/lib/k8s.rego"],
      [MEDIA.conftestDataLayer, "policy/allowed.json"],
    ],
  );
  const pull = await cli(["pull", ref, "-p", join(work, "pulled"), "--absolute-paths"]);
  assert.equal(pull.code, 0, pull.err);
  assert.deepEqual(tree(join(work, "pulled")), Object.fromEntries(Object.entries(tree(join(work, "src", "policy"))).map(([k, v]) => [`policy/${k}`, v])));
  // test --update pulls into the first policy path, then tests with it
  const t = await cli(["test", "--update", `oci://${ref}`, "-p", join(work, "upd"), "-p", join(work, "upd", "policy"), "pod.yaml", "--all-namespaces", "--no-color"]);
  assert.equal(t.code, 1, t.err);
  assert.match(t.out, /FAIL - pod\.yaml - main - pod db is not allowed/);
  // conftest's --tls: HTTPS also on loopback (this registry speaks HTTP), --tls=false plain HTTP
  const tlsOn = await cli(["test", "--update", `oci://${ref}`, "-p", join(work, "upd-tls"), "pod.yaml", "--tls"]);
  assert.equal(tlsOn.code, 1);
  assert.match(tlsOn.err, /^Error: running test: update policies: client get: pulling policy: GET https:\/\/127\.0\.0\.1:\d+\/v2\/policies\/conftest\/manifests\/latest: /);
  assert.equal(existsSync(join(work, "upd-tls")), false);
  const tlsOff = await cli(["test", "--update", `oci://${ref}`, "-p", join(work, "upd-plain"), "-p", join(work, "upd-plain", "policy"), "pod.yaml", "--tls=false", "--no-color"]);
  assert.equal(tlsOff.code, 1, tlsOff.err);
  assert.match(tlsOff.out, /FAIL - pod\.yaml - main - pod db is not allowed/);
  // a policy that does not compile is not pushed
  mkdirSync(join(work, "bad"), { recursive: true });
  writeFileSync(join(work, "bad", "x.rego"), "package x\n\ndeny if { undefined_fn(1) }\n");
  const bad = await cli(["push", ref, "-p", join(work, "bad")]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^Error: push bundle: pushing layers: load: loading policies: get compiler: .*undefined function undefined_fn/m);
  assert.match((await cli(["push", "noslash"])).err, /destination url missing repository/);
});

test("pull refuses a layer title that leaves the directory, and writes nothing", { skip: registryMissing() }, async () => {
  const c = new RegistryClient();
  const ref = parseReference(`${reg!.host}/policies/evil:1`);
  await pushImage(c, ref, {
    config: { mediaType: MEDIA.unknownConfig, data: Buffer.from("{}") },
    layers: [
      { mediaType: MEDIA.conftestPolicyLayer, data: Buffer.from("package ok\n"), annotations: { "org.opencontainers.image.title": "ok.rego" } },
      { mediaType: MEDIA.conftestPolicyLayer, data: Buffer.from("package evil\n"), annotations: { "org.opencontainers.image.title": "../../evil.rego" } },
    ],
  });
  await c.close();
  const dir = join(work, "evil-dst");
  const r = await cli(["pull", `${reg!.host}/policies/evil:1`, "-p", dir, "--absolute-paths"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /layer title "\.\.\/\.\.\/evil\.rego": path traversal refused/);
  assert.equal(existsSync(dir), false);
  const u = await cli(["test", "--update", `oci://${reg!.host}/policies/evil:1`, "-p", dir, "pod.yaml"]);
  assert.equal(u.code, 1);
  assert.match(u.err, /path traversal refused/);
  assert.equal(existsSync(dir), false);
});

test("the local store: images, tag, push, pull, save, rm", { skip: registryMissing() }, async () => {
  // a bundle tarball (the bundles of `portcullis build` come later; any .tar.gz will do here)
  execFileSync("tar", ["-czf", join(work, "bundle.tar.gz"), "-C", join(work, "src", "policy"), "."]);
  const tgz = readFileSync(join(work, "bundle.tar.gz"));
  const store = new PolicyStore();
  const local = parseReference(`${reg!.host}/org/policy-conftest:1.0.0`);
  const { bytes, manifest } = bundleImage(tgz, local);
  store.putImage(local, bytes, [
    { digest: manifest.config.digest, data: Buffer.from("{}") },
    { digest: manifest.layers[0].digest, data: tgz },
  ]);
  const images = await cli(["images"]);
  assert.equal(images.code, 0, images.err);
  assert.match(images.out, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n127\.0\.0\.1:\d+\/org\/policy-conftest\s+1\.0\.0\s+[a-f0-9]{12}\s+(now|\d+ seconds ago)\s+\d/);
  assert.equal((await cli(["tag", `${reg!.host}/org/policy-conftest:1.0.0`, `${reg!.host}/org/policy-conftest:stable`])).code, 0);
  const push = await cli(["push", `${reg!.host}/org/policy-conftest:stable`]);
  assert.equal(push.code, 0, push.err);
  const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.out)![1];
  const c = new RegistryClient();
  const remote = (await c.getManifest(parseReference(`${reg!.host}/org/policy-conftest:stable`))).json as { config: { mediaType: string }; layers: { mediaType: string; annotations: Record<string, string> }[] };
  await c.close();
  assert.equal(remote.config.mediaType, MEDIA.ociConfig);
  assert.equal(remote.layers[0].mediaType, MEDIA.ociLayerTarGzip);
  assert.equal(remote.layers[0].annotations["org.openpolicyregistry.type"], "policy");
  // rm both tags: the blobs go too
  const rm = await cli(["rm", `${reg!.host}/org/policy-conftest:1.0.0`, `${reg!.host}/org/policy-conftest:stable`]);
  assert.equal(rm.code, 0, rm.err);
  assert.equal((await cli(["images", "--format", "json"])).out, "[]\n");
  assert.deepEqual(readdirSync(join(process.env.PORTCULLIS_HOME!, "policies-root", "blobs", "sha256")), []);
  // pull brings it back into the store; save writes the bundle as it was
  const pull = await cli(["pull", `${reg!.host}/org/policy-conftest:stable`]);
  assert.equal(pull.code, 0, pull.err);
  assert.match(pull.out, new RegExp(`digest: ${digest}`));
  const save = await cli(["save", `${reg!.host}/org/policy-conftest:stable`, "-f", "-"]);
  assert.equal(save.code, 0, save.err);
  assert.ok(save.bytes.equals(tgz));
  const id = digest.slice(7, 19);
  assert.equal((await cli(["save", id, "-f", join(work, "saved.tgz")])).code, 0);
  assert.ok(readFileSync(join(work, "saved.tgz")).equals(tgz));
  // pull -p DIR of a bundle image writes the bundle's files there
  const p = await cli(["pull", `${reg!.host}/org/policy-conftest:stable`, "-p", join(work, "unpacked-bundle"), "--absolute-paths"]);
  assert.equal(p.code, 0, p.err);
  assert.deepEqual(tree(join(work, "unpacked-bundle")), tree(join(work, "src", "policy")));
  assert.match((await cli(["save", "nothing:here"])).err, /not found in the local store/);
  assert.equal((await cli(["rm", "nothing:here"])).code, 1);
});

test("login and logout against an HTTPS registry with basic auth (docker config file)", { skip: tlsMissing(), timeout: 60000 }, async () => {
  const tls = await startRegistry({ tls: true });
  try {
    const bad = await cli(["login", tls.host, "-u", TEST_USER, "--password-stdin", "--ca-file", tls.caFile!], "wrong\n");
    assert.equal(bad.code, 1);
    assert.match(bad.err, /login to 127\.0\.0\.1:\d+ failed: .*401 Unauthorized/);
    const ok = await cli(["login", tls.host, "-u", TEST_USER, "--password-stdin", "--ca-file", tls.caFile!], `${TEST_PASSWORD}\n`);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.out, "Login Succeeded\n");
    const cfg = JSON.parse(readFileSync(join(process.env.DOCKER_CONFIG!, "config.json"), "utf8"));
    assert.equal(Buffer.from(cfg.auths[tls.host].auth, "base64").toString(), `${TEST_USER}:${TEST_PASSWORD}`);
    const push = await cli(["push", `${tls.host}/secure/policy:1`, "--ca-file", tls.caFile!]);
    assert.equal(push.code, 0, push.err);
    const pull = await cli(["pull", `${tls.host}/secure/policy:1`, "--ca-file", tls.caFile!, "-p", join(work, "secure"), "--absolute-paths"]);
    assert.equal(pull.code, 0, pull.err);
    assert.ok(existsSync(join(work, "secure", "policy", "deny.rego")));
    if (ORAS) {
      // oras reads the same credentials
      const tags = execFileSync(ORAS, ["repo", "tags", `${tls.host}/secure/policy`, "--ca-file", tls.caFile!], { encoding: "utf8", env: { ...process.env } });
      assert.equal(tags, "1\n");
    }
    assert.equal((await cli(["logout", tls.host])).out, `Removing login credentials for ${tls.host}\n`);
    const anon = await cli(["pull", `${tls.host}/secure/policy:1`, "--ca-file", tls.caFile!, "-p", join(work, "secure2"), "--absolute-paths"]);
    assert.equal(anon.code, 1);
    assert.match(anon.err, /no credentials for 127\.0\.0\.1:\d+; run portcullis login/);
    assert.equal((await cli(["logout", tls.host])).out, `Not logged in to ${tls.host}\n`);
  } finally {
    await tls.stop();
  }
});

test("interop with conftest: each pulls what the other pushed", { skip: registryMissing() || (!CONFTEST && "conftest is not installed (~/go/bin/conftest)") }, async () => {
  const ours = `${reg!.host}/interop/from-portcullis:v1`;
  assert.equal((await cli(["push", ours])).code, 0);
  const dst = join(work, "conftest-pulled");
  // conftest pull takes -p relative to the working directory (unless --absolute-paths)
  execFileSync(CONFTEST!, ["pull", `oci://${ours}`, "-p", "conftest-pulled"], { cwd: work, stdio: "pipe" });
  assert.deepEqual(tree(dst), tree(join(work, "pulled")));
  const theirs = `${reg!.host}/interop/from-conftest:v1`;
  execFileSync(CONFTEST!, ["push", theirs, "-p", "policy"], { cwd: join(work, "src"), stdio: "pipe" });
  const r = await cli(["pull", theirs, "-p", join(work, "ours-pulled"), "--absolute-paths"]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(tree(join(work, "ours-pulled")), tree(join(work, "pulled")));
});

test("interop with oras: it lists and pulls what Portcullis pushed", { skip: registryMissing() || (!ORAS && "oras is not installed (~/go/bin/oras)") }, async () => {
  const ref = `${reg!.host}/interop/oras:v1`;
  assert.equal((await cli(["push", ref])).code, 0);
  const manifest = JSON.parse(execFileSync(ORAS!, ["manifest", "fetch", "--plain-http", ref], { encoding: "utf8" }));
  assert.equal(manifest.layers.length, 3);
  const dst = join(work, "oras-pulled");
  mkdirSync(dst);
  execFileSync(ORAS!, ["pull", "--plain-http", "-o", dst, ref], { stdio: "pipe" });
  assert.deepEqual(tree(dst), tree(join(work, "pulled")));
});

test("interop with oras: referrers written by either side are listed by the other (tag schema on distribution 2.8)", { skip: registryMissing() || (!ORAS && "oras is not installed (~/go/bin/oras)") }, async () => {
  const ref = `${reg!.host}/interop/referred:v1`;
  assert.equal((await cli(["push", ref])).code, 0);
  const c = new RegistryClient();
  try {
    const subject = await c.resolve(parseReference(ref));
    // oras attaches; Portcullis lists
    writeFileSync(join(work, "sig.txt"), "signature\n");
    execFileSync(ORAS!, ["attach", "--plain-http", "--artifact-type", "application/vnd.example.oras", ref, "sig.txt:text/plain"], { cwd: work, stdio: "pipe" });
    const listed = await c.referrers(parseReference(ref), subject.digest);
    assert.deepEqual(listed.index.manifests.map((m) => m.artifactType), ["application/vnd.example.oras"]);
    // Portcullis attaches; oras discovers both
    const cfg = await c.pushBlob(parseReference(ref), Buffer.from("{}"), MEDIA.ociEmpty);
    const art = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, artifactType: "application/vnd.example.portcullis", config: cfg, layers: [cfg], subject }));
    await c.pushReferrer(parseReference(ref), art, MEDIA.ociManifest);
    const found = JSON.parse(execFileSync(ORAS!, ["discover", "--plain-http", "--format", "json", ref], { encoding: "utf8" })) as { referrers?: { artifactType: string }[]; manifests?: { artifactType: string }[] };
    const types = (found.referrers ?? found.manifests ?? []).map((m) => m.artifactType).sort();
    assert.deepEqual(types, ["application/vnd.example.oras", "application/vnd.example.portcullis"]);
  } finally {
    await c.close();
  }
});

test("interop with OPA: its OCI bundle downloader loads a bundle image pushed from the local store", { skip: registryMissing() || (!goTool("opa") && "opa is not installed (~/go/bin/opa)"), timeout: 60000 }, async () => {
  const opa = goTool("opa")!;
  execFileSync(opa, ["build", "-o", join(work, "opa-bundle.tar.gz"), join(work, "src", "policy")], { stdio: "pipe" });
  const tgz = readFileSync(join(work, "opa-bundle.tar.gz"));
  const ref = parseReference(`${reg!.host}/org/opa-bundle:1.0`);
  const { bytes, manifest } = bundleImage(tgz, ref);
  new PolicyStore().putImage(ref, bytes, [
    { digest: manifest.config.digest, data: Buffer.from("{}") },
    { digest: manifest.layers[0].digest, data: tgz },
  ]);
  const push = await cli(["push", `${reg!.host}/org/opa-bundle:1.0`]);
  assert.equal(push.code, 0, push.err);
  const { freePort } = await import("../support/registry.ts");
  const port = await freePort();
  writeFileSync(
    join(work, "opa.yaml"),
    `services:\n  reg:\n    url: http://${reg!.host}\n    type: oci\nbundles:\n  policy:\n    service: reg\n    resource: ${reg!.host}/org/opa-bundle:1.0\n    polling:\n      min_delay_seconds: 60\n      max_delay_seconds: 120\npersistence_directory: ${join(work, "opa-persist")}\n`,
  );
  const { spawn } = await import("node:child_process");
  const child = spawn(opa, ["run", "--server", "--addr", `127.0.0.1:${port}`, "-c", join(work, "opa.yaml")], { stdio: "ignore" });
  try {
    let deny: unknown;
    for (let i = 0; i < 200 && deny === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/data/main/deny`, { method: "POST", body: JSON.stringify({ input: { kind: "Pod", metadata: { name: "db" } } }) });
        const body = (await res.json()) as { result?: unknown };
        deny = body.result;
      } catch {
        // not listening yet
      }
    }
    assert.deepEqual(deny, ["pod db is not allowed"]);
  } finally {
    child.kill("SIGTERM");
  }
});

test("a verification hook sees the manifest digest before any layer is fetched, and its refusal writes nothing", { skip: registryMissing() }, async () => {
  const ref = `${reg!.host}/policies/verified:v1`;
  const push = await cli(["push", ref]);
  const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.out)![1];
  const { runPull } = await import("../../src/cli/oci.ts");
  const { updatePolicies } = await import("../../src/conftest/update.ts");
  let out = "";
  let err = "";
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), exitCode: 0 };
  const seen: string[] = [];
  const refuse = async (_r: unknown, d: { digest: string }) => {
    seen.push(d.digest);
    throw new Error("no valid signature");
  };
  const dir = join(work, "refused");
  assert.equal(await runPull(ref, { policy: dir, absolutePaths: true, given: new Set(["policy"]), verify: refuse }, io), 1);
  assert.match(err, new RegExp(`Error: 127\\.0\\.0\\.1:\\d+/policies/verified:v1@${digest}: refused: no valid signature`));
  await assert.rejects(updatePolicies([`oci://${ref}`], dir, { verify: refuse }), /pulling policy: .*refused: no valid signature/);
  assert.deepEqual(seen, [digest, digest]);
  assert.equal(existsSync(dir), false);
  assert.equal(await runPull(ref, { policy: dir, absolutePaths: true, given: new Set(["policy"]), verify: async () => {} }, io), 0);
  assert.ok(existsSync(join(dir, "policy", "deny.rego")));
  assert.equal(out, "");
});

test("pull -p: as conftest, an absolute path is taken relative to the working directory unless --absolute-paths", async () => {
  const { pullDir } = await import("../../src/cli/oci.ts");
  // conftest 0.71.1: filepath.Join(".", policy) unless --absolute-paths and the path is absolute
  assert.equal(pullDir({ policy: "/abs/policies" }), "abs/policies");
  assert.equal(pullDir({ policy: "/abs/policies", absolutePaths: true }), "/abs/policies");
  assert.equal(pullDir({ policy: "./rel/../p", absolutePaths: true }), "p");
  assert.equal(pullDir({}), "policy");
});
