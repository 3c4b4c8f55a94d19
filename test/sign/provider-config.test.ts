// `portcullis provider` without a registry: keys configurations (and their refusals), the process
// itself (starts, answers the ProviderRequest protocol, refuses bad requests, stops on SIGTERM).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadProviderConfig, ProviderConfigError, ImageVerifier } from "../../src/server/provider.ts";
import { SOURCE_CLI } from "../cli/portcullis-src.ts";
import { cli } from "../cli/helpers.ts";
import { localSigstore, tlsServerCert } from "../support/sigstore-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "pc-provcfg-"));
writeFileSync(join(dir, "team.pub"), generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "pem", type: "spki" }) as string);
writeFileSync(join(dir, "root.json"), JSON.stringify(localSigstore().trustedRoot));

function config(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

test("keys configurations: policies by pattern, keys or identities; mistakes are refused with the place named", async () => {
  const ok = await loadProviderConfig(
    config(
      "ok.yaml",
      `policies:
  - match: ["reg.example.com/team/*"]
    keys: [team.pub]
    ignoreTlog: true
  - match: "ghcr.io/org/**"
    identities: [{issuer: "https://token.actions.githubusercontent.com", subjectRegExp: "^https://github.com/org/"}]
    trustedRoot: root.json
cache: {digestTTL: 5, resultTTL: 50}
`,
    ),
  );
  assert.equal(ok.policies.length, 2);
  assert.equal(ok.digestTTL, 5);
  const v = new ImageVerifier(ok);
  // no policy matches: refused without any registry access (fail closed)
  assert.deepEqual(await v.verifyOne("docker.io/library/nginx:1"), { key: "docker.io/library/nginx:1", error: "no verification policy matches docker.io/library/nginx" });
  assert.match((await v.verifyOne("reg.example.com/team/a/b:1")).error!, /no verification policy matches reg.example.com\/team\/a\/b/, "* stays within a path segment");
  assert.match((await v.verifyOne("Bad Ref")).error!, /invalid reference/);

  const bad: [string, RegExp][] = [
    ["policies: []", /non-empty "policies"/],
    ["policies:\n  - match: [a/*]\n", /give either "keys" or "identities"/],
    ["policies:\n  - match: [a/*]\n    keys: [missing.pub]\n", /policies\[0\]\.keys\[0\]: ENOENT: no such file/],
    ["policies:\n  - match: [a/*]\n    keys: [team.pub]\n", /--insecure-ignore-tlog|trusted root/],
    ["policies:\n  - match: [a/*]\n    identities: [{subject: a@b}]\n    trustedRoot: root.json\n", /identities\[0\]: .*oidc-issuer/],
    ["policies:\n  - match: [a/*]\n    identities: [{subject: a@b, issuer: x}]\n", /keyless verification needs a trusted root/],
    ["policies:\n  - match: [a/*]\n    identities: [{subjectRegExp: '(', issuer: x}]\n    trustedRoot: root.json\n", /identities\[0\]/],
    ["policies:\n  - match: [a/*]\n    keys: [team.pub]\n    ignoreTlog: yes-please\n", /ignoreTlog: expected true or false/],
    ["policies: [", /bad8\.yaml: unexpected end of the stream/],
  ];
  for (const [i, [text, re]] of bad.entries()) {
    await assert.rejects(loadProviderConfig(config(`bad${i}.yaml`, text)), (e: Error) => e instanceof ProviderConfigError && re.test(e.message), text);
  }
});

test("the provider process: HTTPS, the ProviderRequest protocol, bad requests, SIGTERM", { timeout: 60000 }, async () => {
  const cfg = config("proc.yaml", "policies:\n  - match: [reg.example.com/**]\n    keys: [team.pub]\n    ignoreTlog: true\n");
  const missing = await cli(["provider", "--keys-config", cfg]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /--tls-cert-file and --tls-private-key-file are required/);
  const badCfg = await cli(["provider", "--keys-config", join(dir, "nope.yaml"), "--insecure-http"]);
  assert.equal(badCfg.code, 1);
  assert.match(badCfg.err, /^Error: .*nope\.yaml/);

  const tls = tlsServerCert();
  writeFileSync(join(dir, "tls.crt"), tls.certPem);
  writeFileSync(join(dir, "tls.key"), tls.keyPem);
  const child = spawn(process.execPath, [...SOURCE_CLI, "provider", "--keys-config", cfg, "--addr", "127.0.0.1:0", "--tls-cert-file", join(dir, "tls.crt"), "--tls-private-key-file", join(dir, "tls.key")], { stdio: ["ignore", "pipe", "pipe"] });
  let logs = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on("data", (c) => {
      logs += c;
      const m = /"addr":"127\.0\.0\.1:(\d+)"/.exec(logs);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`provider exited ${code}: ${logs}`)));
  });
  const https = await import("node:https");
  const post = (body: string) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = https.request({ host: "127.0.0.1", port, path: "/validate", method: "POST", ca: tls.caPem, headers: { "content-type": "application/json" } }, (res) => {
        let t = "";
        res.on("data", (c) => (t += c));
        res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(t) }));
      });
      req.on("error", reject);
      req.end(body);
    });
  try {
    const r = await post(JSON.stringify({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "ProviderRequest", request: { keys: ["docker.io/library/busybox:1"] } }));
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      apiVersion: "externaldata.gatekeeper.sh/v1beta1",
      kind: "ProviderResponse",
      response: { idempotent: true, items: [{ key: "docker.io/library/busybox:1", error: "no verification policy matches docker.io/library/busybox" }], systemError: "" },
    });
    const tooMany = await post(JSON.stringify({ kind: "ProviderRequest", request: { keys: Array.from({ length: 1001 }, (_, i) => `a/b:${i}`) } }));
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.json.response.systemError, /too many keys: 1001/);
    const notReq = await post(JSON.stringify({ kind: "Other" }));
    assert.equal(notReq.status, 400);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
  assert.match(logs, /"msg":"bad provider request"/);
});
