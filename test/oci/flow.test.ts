// The seed-000 CI flow against a loopback registry with only Portcullis: build -t into the local
// store, push, sign with a cosign key pair, verify the signature, a fresh machine (empty store)
// pulls with the public key, `save -f - | tar -xz`, and `test` runs the unpacked policies. Then OPA's
// OCI bundle downloader loads the same pushed image, so the artifact interoperates.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { startRegistry, registryMissing, goTool, freePort, type TestRegistry } from "../support/registry.ts";
import { RegistryClient, parseReference, MEDIA } from "../../src/oci/index.ts";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string; bytes: Buffer }> {
  let out = "";
  let err = "";
  const chunks: Buffer[] = [];
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), exitCode: 0, outBytes: (b: Uint8Array) => void chunks.push(Buffer.from(b)) };
  const code = await main(args, io);
  return { code, out, err, bytes: Buffer.concat(chunks) };
}

const work = mkdtempSync(join(tmpdir(), "portcullis-oci-flow-"));
process.env.DOCKER_CONFIG = join(work, "docker");
let reg: TestRegistry | undefined;
before(async () => {
  if (!registryMissing()) reg = await startRegistry();
  mkdirSync(join(work, "repo", "policy"), { recursive: true });
  writeFileSync(join(work, "repo", "policy", "deny.rego"), 'package main\n\ndeny contains msg if {\n  input.kind == "Deployment"\n  not input.spec.template.spec.securityContext.runAsNonRoot\n  msg := "Containers must not run as root"\n}\n');
  writeFileSync(join(work, "deployment.yaml"), "kind: Deployment\nspec:\n  template:\n    spec:\n      securityContext: {}\n");
});
after(async () => {
  await reg?.stop();
  process.chdir(tmpdir());
  rmSync(work, { recursive: true, force: true });
});

test("build -t, push, sign, verify, pull on a clean machine, save | tar, test", { skip: registryMissing(), timeout: 120000 }, async () => {
  const ref = `${reg!.host}/org/policy-conftest:1.0.0`;
  process.chdir(join(work, "repo"));
  process.env.PORTCULLIS_HOME = join(work, "builder");
  const t0 = performance.now();
  const build = await cli(["build", "policy", "-t", ref]);
  assert.equal(build.code, 0, build.out + build.err);
  assert.match(build.out, new RegExp(`^Created new image\\.\\ndigest: sha256:[a-f0-9]{64}\\nTagging image\\.\\nreference: ${ref.replace(/\./g, "\\.")}\\n$`));
  const push = await cli(["push", ref]);
  assert.equal(push.code, 0, push.err);
  const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.out)![1];
  // the pushed image is the policy CLI's shape
  const c = new RegistryClient();
  const m = (await c.getManifest(parseReference(ref))).json as { config: { mediaType: string }; layers: { mediaType: string }[] };
  await c.close();
  assert.equal(m.config.mediaType, MEDIA.ociConfig);
  assert.deepEqual(m.layers.map((l) => l.mediaType), [MEDIA.ociLayerTarGzip]);
  // the security team signs the pushed artifact with its cosign key pair
  process.env.COSIGN_PASSWORD = "flow-test";
  const keys = await cli(["generate-key-pair", "--output-key-prefix", join(work, "team")]);
  assert.equal(keys.code, 0, keys.err);
  const sign = await cli(["sign", "--key", join(work, "team.key"), ref]);
  assert.equal(sign.code, 0, sign.err);
  // CI: verify with the team's public key, then pull into an empty store (refused if unsigned)
  const verify = await cli(["verify-signature", "--key", join(work, "team.pub"), "--insecure-ignore-tlog", ref]);
  assert.equal(verify.code, 0, verify.err);
  assert.match(verify.out, new RegExp(`"docker-manifest-digest":"${digest}"`));
  process.env.PORTCULLIS_HOME = join(work, "ci");
  process.chdir(work);
  const pull = await cli(["pull", "--verify-key", join(work, "team.pub"), "--insecure-ignore-tlog", ref]);
  assert.equal(pull.code, 0, pull.err);
  assert.match(pull.out, new RegExp(`digest: ${digest}`));
  const save = await cli(["save", ref, "-f", "-"]);
  assert.equal(save.code, 0, save.err);
  mkdirSync(join(work, "unpacked"));
  execFileSync("tar", ["-xzf", "-", "-C", join(work, "unpacked")], { input: save.bytes, stdio: ["pipe", "ignore", "ignore"] });
  const t = await cli(["test", "-p", join(work, "unpacked"), "deployment.yaml", "--no-color"]);
  assert.equal(t.code, 1);
  assert.match(t.out, /FAIL - deployment\.yaml - main - Containers must not run as root/);
  // test --update straight from the reference: the bundle's files into the policy directory
  const upd = await cli(["test", "--update", `oci://${ref}`, "-p", join(work, "updated"), "deployment.yaml", "--no-color"]);
  assert.equal(upd.code, 1, upd.err);
  assert.match(upd.out, /FAIL - deployment\.yaml - main - Containers must not run as root/);
  const ms = Math.round(performance.now() - t0);
  assert.ok(ms < 60000, `the flow took ${ms} ms`);
  // a -t that is neither a target nor a reference is still opa build's error
  const bad = await cli(["build", "policy", "-t", "wasmx"]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /invalid argument "wasmx" for "-t, --target" flag/);
});

test("OPA's OCI downloader loads what build -t and push wrote", { skip: registryMissing() || (!goTool("opa") && "opa is not installed (~/go/bin/opa)"), timeout: 60000 }, async () => {
  const ref = `${reg!.host}/org/policy-opa:1.0.0`;
  process.env.PORTCULLIS_HOME = join(work, "builder");
  process.chdir(join(work, "repo"));
  assert.equal((await cli(["build", "policy", "-t", ref])).code, 0);
  assert.equal((await cli(["push", ref])).code, 0);
  const port = await freePort();
  writeFileSync(
    join(work, "opa.yaml"),
    `services:\n  reg:\n    url: http://${reg!.host}\n    type: oci\nbundles:\n  policy:\n    service: reg\n    resource: ${ref}\n    polling:\n      min_delay_seconds: 60\n      max_delay_seconds: 120\npersistence_directory: ${join(work, "opa-persist")}\n`,
  );
  const child = spawn(goTool("opa")!, ["run", "--server", "--addr", `127.0.0.1:${port}`, "-c", join(work, "opa.yaml")], { stdio: "ignore" });
  try {
    let deny: unknown;
    for (let i = 0; i < 200 && deny === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/data/main/deny`, { method: "POST", body: JSON.stringify({ input: { kind: "Deployment", spec: { template: { spec: {} } } } }) });
        deny = ((await res.json()) as { result?: unknown }).result;
      } catch {
        // not listening yet
      }
    }
    assert.deepEqual(deny, ["Containers must not run as root"]);
  } finally {
    child.kill("SIGTERM");
  }
});
