// The image-signature template denies an unsigned Pod through the webhook, end to end with real
// processes: `portcullis provider` over HTTPS with a key configuration, `portcullis controller
// --operation=webhook --policy-dir DIR` holding examples/image-signatures' Provider (its caBundle
// the provider's CA), ConstraintTemplate and Constraint, and a loopback registry with one image
// signed by `portcullis sign --key` and one unsigned. AdmissionReviews POSTed to /v1/admit: the
// unsigned Pod is denied with the template's message, the signed one admitted.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { main } from "../../src/cli/main.ts";
import { RegistryClient } from "../../src/oci/client.ts";
import { parseReference } from "../../src/oci/reference.ts";
import { pushImage } from "../../src/oci/image.ts";
import { SOURCE_CLI } from "../cli/portcullis-src.ts";
import { pod, review } from "../gatekeeper/webhook-fixtures.ts";
import { startRegistry, registryMissing, type TestRegistry } from "../support/registry.ts";
import { tlsServerCert } from "../support/sigstore-fixtures.ts";

const EXAMPLES = fileURLToPath(new URL("../../examples/image-signatures", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "pc-webhook-sigs-"));
let reg: TestRegistry | undefined;
const children: ChildProcess[] = [];

before(async () => {
  if (!registryMissing()) reg = await startRegistry();
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await reg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const io = { out: () => undefined, err: (s: string) => void (err += s), exitCode: 0, outBytes: () => undefined };
  return { code: await main(args, io), err };
}

/** Spawns the CLI from the sources; resolves once `ready` matches its output, with that output. */
async function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; out: () => string; err: () => string }> {
  const child = spawn(process.execPath, [...SOURCE_CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (err += c));
  const end = Date.now() + 30000;
  while (!ready.test(err) && !ready.test(out)) {
    if (child.exitCode !== null) assert.fail(`${args[0]} exited ${child.exitCode}: ${err}`);
    if (Date.now() > end) assert.fail(`${args[0]} did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, out: () => out, err: () => err };
}

function post(port: number, ca: Buffer, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = https.request({ host: "127.0.0.1", port, path: "/v1/admit?timeout=10s", method: "POST", ca, agent: false, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

test("the image-signature template denies an unsigned Pod through the webhook and admits a signed one", { skip: registryMissing(), timeout: 90000 }, async () => {
  // one signed image, one unsigned, in the loopback registry
  const client = new RegistryClient();
  const push = async (repo: string, seed: string) => {
    const ref = `${reg!.host}/${repo}:v1`;
    const d = await pushImage(client, parseReference(ref), {
      config: { mediaType: "application/vnd.oci.image.config.v1+json", data: Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed })) },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", data: Buffer.from(`layer ${seed}`) }],
    });
    return { ref, digest: d.digest };
  };
  const signed = await push("team/signed", "s");
  const unsigned = await push("team/unsigned", "u");
  await client.close();
  const prev = process.env.COSIGN_PASSWORD;
  process.env.COSIGN_PASSWORD = "";
  try {
    assert.equal((await cli(["generate-key-pair", "--output-key-prefix", join(dir, "team")])).code, 0);
    const s = await cli(["sign", "--key", join(dir, "team.key"), signed.ref]);
    assert.equal(s.code, 0, s.err);
  } finally {
    if (prev === undefined) delete process.env.COSIGN_PASSWORD;
    else process.env.COSIGN_PASSWORD = prev;
  }

  // the provider over HTTPS, with a key configuration for the registry's team/ repositories
  const tls = tlsServerCert();
  writeFileSync(join(dir, "tls.crt"), tls.certPem);
  writeFileSync(join(dir, "tls.key"), tls.keyPem);
  writeFileSync(join(dir, "keys.yaml"), `policies:\n  - name: team\n    match: ["${reg!.host}/team/*"]\n    keys: [team.pub]\n    ignoreTlog: true\n`);
  const provider = await start(["provider", "--keys-config", join(dir, "keys.yaml"), "--addr", "127.0.0.1:0", "--tls-cert-file", join(dir, "tls.crt"), "--tls-private-key-file", join(dir, "tls.key")], /"msg":"provider listening"/);
  const listening = JSON.parse(provider.err().split("\n").find((l) => l.includes('"msg":"provider listening"'))!);
  const providerPort = Number(/:(\d+)$/.exec(listening.addr)![1]);

  // the webhook with the example Provider (pointed at it), template and constraint
  const policy = join(dir, "policy");
  mkdirSync(policy);
  const ex = (f: string) => yaml.load(readFileSync(join(EXAMPLES, f), "utf8")) as any;
  const prov = ex("provider.yaml");
  prov.spec.url = `https://127.0.0.1:${providerPort}/validate`;
  prov.spec.caBundle = Buffer.from(tls.caPem).toString("base64");
  writeFileSync(join(policy, "provider.yaml"), yaml.dump(prov));
  writeFileSync(join(policy, "template.yaml"), readFileSync(join(EXAMPLES, "template.yaml")));
  writeFileSync(join(policy, "constraint.yaml"), readFileSync(join(EXAMPLES, "constraint.yaml")));
  const webhook = await start(
    ["controller", "--operation=webhook", "--policy-dir", policy, "--self-signed", "--port", "0", "--host", "127.0.0.1", "--metrics-addr", "0", "--health-addr", "127.0.0.1:0", "--max-serving-threads", "1"],
    /"msg":"Webhook serving\."/,
  );
  const serving = JSON.parse(webhook.err().split("\n").find((l) => l.includes('"msg":"Webhook serving."'))!);
  const ca = Buffer.from(/^caBundle: ([A-Za-z0-9+/=]+)$/m.exec(webhook.out())![1], "base64");

  const denied = await post(serving.port, ca, review(pod("unsigned", "shop", unsigned.ref)));
  assert.equal(denied.status, 200);
  assert.equal(denied.body.response.allowed, false);
  assert.equal(denied.body.response.status.message, `[signed-images] image ${unsigned.ref}: signature not verified: no signatures found for ${reg!.host}/team/unsigned@${unsigned.digest}`);
  const admitted = await post(serving.port, ca, review(pod("signed", "shop", signed.ref)));
  assert.equal(admitted.status, 200);
  assert.equal(admitted.body.response.allowed, true, JSON.stringify(admitted.body));
  // a Pod with both: denied for the unsigned one only
  const both = review(pod("both", "shop", signed.ref));
  (both as any).request.object.spec.containers.push({ name: "side", image: unsigned.ref });
  const mixed = await post(serving.port, ca, both);
  assert.equal(mixed.body.response.allowed, false);
  assert.doesNotMatch(mixed.body.response.status.message, /team\/signed/);

  for (const c of [webhook.child, provider.child]) {
    const exited = new Promise((r) => c.on("exit", r));
    c.kill("SIGTERM");
    await exited;
  }
});
