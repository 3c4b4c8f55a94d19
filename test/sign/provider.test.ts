// The Gatekeeper external-data provider (`portcullis provider`) against a loopback registry: 100
// signed images answered (cold, then warm from the digest cache), refusals, a bad request, and the
// example ConstraintTemplate (library/gatekeeper/image-signatures) denying an unsigned Pod through
// Gatekeeper's external_data over HTTPS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RegistryClient } from "../../src/oci/client.ts";
import { ImageVerifier, startProvider, loadProviderConfig } from "../../src/server/provider.ts";
import { Logger } from "../../src/server/log.ts";
import { Client } from "../../src/gatekeeper/client.ts";
import { pushTestImage } from "./fixed-image.ts";
import { startRegistry, registryMissing, type TestRegistry } from "../support/registry.ts";
import { tlsServerCert } from "../support/sigstore-fixtures.ts";

const EXAMPLES = fileURLToPath(new URL("../../library/gatekeeper/image-signatures", import.meta.url));
let reg: TestRegistry | undefined;
let client: RegistryClient;
const dir = mkdtempSync(join(tmpdir(), "pc-provider-"));

before(async () => {
  if (registryMissing()) return;
  reg = await startRegistry();
  client = new RegistryClient();
});
after(async () => {
  await client?.close();
  await reg?.stop();
});

test("the external-data provider: digests for signed images, errors for unsigned ones; 100 images answered warm from the cache; the example template denies an unsigned Pod through it", { skip: registryMissing(), timeout: 120000 }, async () => {
  const { loadPrivateKey } = await import("../../src/sign/keys.ts");
  const { signImage } = await import("../../src/sign/remote.ts");
  const { generateKeyPair } = await import("../../src/sign/keys.ts");
  const files = await generateKeyPair("");
  writeFileSync(join(dir, "prov.pub"), files.publicPem);
  const key = await loadPrivateKey(files.privatePem, "");
  const images: { ref: string; digest: string }[] = new Array(100);
  const t0 = performance.now();
  // ten repositories, each filled by its own sequence (a .sig append is a read-modify-write per digest only)
  await Promise.all(
    Array.from({ length: 10 }, async (_, r) => {
      for (let i = r; i < 100; i += 10) {
        const img = await pushTestImage(client, reg!.host, `prov/app${r}`, `v${i}`, `p${i}`);
        await signImage(client, img.ref, key);
        images[i] = img;
      }
    }),
  );
  const setupMs = performance.now() - t0;
  const unsigned = await pushTestImage(client, reg!.host, "prov/unsigned", "v1", "u");
  const cfgFile = join(dir, "keys.yaml");
  writeFileSync(cfgFile, `policies:\n  - name: team\n    match: ["${reg!.host}/prov/*"]\n    keys: [prov.pub]\n    ignoreTlog: true\n`);
  const verifier = new ImageVerifier(await loadProviderConfig(cfgFile));
  const logs: string[] = [];
  const running = await startProvider(verifier, { addr: "127.0.0.1", port: 0, requestTimeoutMs: 20000, log: new Logger("info", "json", (l) => logs.push(l)) });
  const ask = async (keys: string[]) => {
    const r = await fetch(`http://127.0.0.1:${running.port}/validate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "ProviderRequest", request: { keys } }) });
    return { status: r.status, body: (await r.json()) as any };
  };
  try {
    const keys = [...images.map((i) => i.ref), unsigned.ref, "docker.io/library/nginx:1", "Not A Ref"];
    const t1 = performance.now();
    const cold = await ask(keys);
    assert.equal(cold.status, 200);
    assert.equal(cold.body.kind, "ProviderResponse");
    const items = cold.body.response.items;
    for (let i = 0; i < 100; i++) assert.deepEqual(items[i], { key: images[i].ref, value: images[i].digest });
    assert.match(items[100].error, /no signatures found/);
    assert.match(items[101].error, /no verification policy matches docker.io\/library\/nginx/);
    assert.ok(items[102].error);
    const coldMs = performance.now() - t1;
    const t2 = performance.now();
    const warm = await ask(images.map((i) => i.ref));
    const warmMs = performance.now() - t2;
    assert.deepEqual(warm.body.response.items.map((i: any) => i.value), images.map((i) => i.digest));
    assert.ok(warmMs < 1000, `100 images warm in ${warmMs.toFixed(0)} ms`);
    assert.equal(verifier.stats.verified, 101, "each digest verified once");
    console.log(`# provider: push+sign 100 images ${setupMs.toFixed(0)} ms; 103 keys cold ${coldMs.toFixed(0)} ms; 100 warm ${warmMs.toFixed(1)} ms (${verifier.stats.cacheHits} cache hits)`);
    const bad = await fetch(`http://127.0.0.1:${running.port}/validate`, { method: "POST", body: "{nope" });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as any).response.systemError, /bad request/);

    // the example ConstraintTemplate, through Gatekeeper's external_data, against the provider over HTTPS
    const tls = tlsServerCert();
    writeFileSync(join(dir, "tls.crt"), tls.certPem);
    writeFileSync(join(dir, "tls.key"), tls.keyPem);
    const secure = await startProvider(verifier, { addr: "127.0.0.1", port: 0, tls: { certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") }, requestTimeoutMs: 20000, log: new Logger("error", "json", () => {}) });
    try {
      const yaml = await import("js-yaml");
      const docs = yaml.loadAll(readFileSync(join(EXAMPLES, "image-signatures.yaml"), "utf8")) as any[];
      const ex = (kind: string) => structuredClone(docs.find((d) => d.kind === kind));
      const provider = ex("Provider");
      provider.spec.url = `https://127.0.0.1:${secure.port}/validate`;
      provider.spec.caBundle = Buffer.from(tls.caPem).toString("base64");
      const gk = new Client();
      gk.addProvider(provider);
      gk.addTemplate(ex("ConstraintTemplate"));
      gk.addConstraint(ex("K8sSignedImages"));
      const pod = (images: string[]) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } });
      assert.deepEqual((await gk.review(pod([images[0].ref, images[1].ref]))).results, []);
      const denied = await gk.review(pod([images[2].ref, unsigned.ref]));
      assert.deepEqual(denied.results.map((r) => r.msg), [`image ${unsigned.ref}: signature not verified: no signatures found for ${unsigned.ref.replace(/:v1$/, "")}@${unsigned.digest}`]);
      const deploy = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "default" }, spec: { template: { spec: { containers: [{ name: "x", image: "docker.io/library/nginx:1" }] } } } };
      assert.match((await gk.review(deploy)).results.map((r) => r.msg).join("\n"), /no verification policy matches docker.io\/library\/nginx/);
    } finally {
      await secure.close();
    }
  } finally {
    await running.close();
    await verifier.close();
  }
});
