// `portcullis run` pulling its bundle from an OCI registry (OPA's `type: oci` services and the
// `-b oci://REF` shorthand), against the loopback docker-registry: build -t + push → run serves
// the decision; a new push is picked up on the next poll; with --verify-key an unsigned image is
// refused before activation (nothing activated, /health?bundles 500, the error logged), a signed
// one activated, and a re-push of an unsigned image under the same tag keeps the signed one.
// OPA's own OCI downloader, given the same configuration, answers the same decision (oracle).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { runHooks } from "../../src/cli/run.ts";
import type { RunningServer } from "../../src/server/index.ts";
import { startRegistry, registryMissing, goTool, freePort, type TestRegistry } from "../support/registry.ts";

const work = mkdtempSync(join(tmpdir(), "portcullis-run-oci-"));
process.env.DOCKER_CONFIG = join(work, "docker");
process.env.PORTCULLIS_HOME = join(work, "home");
let reg: TestRegistry | undefined;
before(async () => {
  if (!registryMissing()) reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), exitCode: 0, outBytes: () => undefined };
  const code = await main(args, io);
  return { code, out, err };
}

/** Builds a bundle whose `data.main.deny` says `msg` for a Pod, tags it REF in the store and pushes it. */
async function buildPush(ref: string, msg: string): Promise<void> {
  const dir = join(work, "src", msg.replace(/[^a-z0-9]/gi, "_"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "deny.rego"), `package main\n\ndeny contains msg if {\n  input.kind == "Pod"\n  msg := ${JSON.stringify(msg)}\n}\n`);
  const b = await cli(["build", dir, "-t", ref]);
  assert.equal(b.code, 0, b.err);
  const p = await cli(["push", ref]);
  assert.equal(p.code, 0, p.err);
}

/** `portcullis run` in process; resolves with the server once it listens, and its log lines. */
async function run(args: string[]): Promise<{ server: RunningServer; base: string; logs: string[]; done: Promise<unknown> }> {
  const port = await freePort();
  const logs: string[] = [];
  let resolve!: (s: RunningServer) => void;
  const started = new Promise<RunningServer>((r) => (resolve = r));
  runHooks.started = resolve;
  const io = { out: () => undefined, err: (s: string) => void logs.push(s), exitCode: 0, outBytes: () => undefined };
  const done = main(["run", "-s", "-a", `127.0.0.1:${port}`, "--log-level", "debug", ...args], io);
  const server = await Promise.race([started, done.then(() => assert.fail(`run exited: ${logs.join("")}`))]);
  runHooks.started = undefined;
  return { server, base: `http://127.0.0.1:${port}`, logs, done };
}

async function deny(base: string): Promise<unknown> {
  const r = await fetch(`${base}/v1/data/main/deny`, { method: "POST", body: JSON.stringify({ input: { kind: "Pod" } }) });
  return ((await r.json()) as { result?: unknown }).result;
}

async function until(what: string, f: () => Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const FAST = ["--set", "bundles.oci0.polling.min_delay_seconds=1", "--set", "bundles.oci0.polling.max_delay_seconds=1"];

test("run -b oci://REF serves the pushed bundle and picks up a new push on the next poll; OPA's OCI downloader agrees", { skip: registryMissing(), timeout: 60000 }, async () => {
  const ref = `${reg!.host}/org/policy-run:1.0.0`;
  await buildPush(ref, "pods are denied (rev 1)");
  const t0 = performance.now();
  const r = await run(["-b", `oci://${ref}`, ...FAST]);
  try {
    await until("the first activation", async () => (await fetch(`${r.base}/health?bundles`)).status === 200);
    const firstMs = Math.round(performance.now() - t0);
    assert.deepEqual(await deny(r.base), ["pods are denied (rev 1)"]);
    await buildPush(ref, "pods are denied (rev 2)");
    await until("the second push", async () => JSON.stringify(await deny(r.base)) === JSON.stringify(["pods are denied (rev 2)"]));
    assert.ok(firstMs < 10000, `first activation took ${firstMs} ms`);
  } finally {
    await r.server.close();
    await r.done;
  }

  // the oracle: opa run with the same OCI service configuration loads the same image
  const opa = goTool("opa");
  if (!opa) return;
  const port = await freePort();
  const conf = join(work, "opa.yaml");
  writeFileSync(conf, `services:\n  reg:\n    url: http://${reg!.host}\n    type: oci\nbundles:\n  policy:\n    service: reg\n    resource: ${ref}\npersistence_directory: ${join(work, "opa-persist")}\n`);
  const child = spawn(opa, ["run", "--server", "--addr", `127.0.0.1:${port}`, "-c", conf], { stdio: "ignore" });
  try {
    let got: unknown;
    await until("opa's activation", async () => {
      try {
        got = await deny(`http://127.0.0.1:${port}`);
      } catch {
        return false;
      }
      return got !== undefined;
    });
    assert.deepEqual(got, ["pods are denied (rev 2)"]);
  } finally {
    child.kill("SIGTERM");
  }
  // and portcullis with OPA's configuration file, unchanged, answers the same
  const r2 = await run(["-c", conf]);
  try {
    await until("activation from opa's config", async () => (await fetch(`${r2.base}/health?bundles`)).status === 200);
    assert.deepEqual(await deny(r2.base), ["pods are denied (rev 2)"]);
  } finally {
    await r2.server.close();
    await r2.done;
  }
});

test("run --verify-key refuses an unsigned or re-pushed image before activation and takes a signed one", { skip: registryMissing(), timeout: 60000 }, async () => {
  process.env.COSIGN_PASSWORD = "";
  assert.equal((await cli(["generate-key-pair", "--output-key-prefix", join(work, "sec")])).code, 0);
  const ref = `${reg!.host}/org/policy-signed:1.0.0`;
  await buildPush(ref, "signed policy");
  const verify = ["--verify-key", join(work, "sec.pub"), "--insecure-ignore-tlog"];

  // unsigned: nothing activated, not ready, the refusal logged
  const r = await run(["-b", `oci://${ref}`, ...verify, ...FAST]);
  try {
    await until("the refusal", async () => r.logs.some((l) => /no signatures found for/.test(l)));
    assert.equal((await fetch(`${r.base}/health?bundles`)).status, 500);
    assert.equal(await deny(r.base), undefined);
    const line = JSON.parse(r.logs.find((l) => /no signatures found for/.test(l))!);
    assert.equal(line.level, "error");
    assert.match(line.err, /^Bundle activation failed: signature verification of .*org\/policy-signed:1\.0\.0@sha256:[a-f0-9]{64}: .*no signatures found/);

    // signed: activated on the next poll
    assert.equal((await cli(["sign", "--key", join(work, "sec.key"), ref])).code, 0);
    await until("the signed activation", async () => (await fetch(`${r.base}/health?bundles`)).status === 200);
    assert.deepEqual(await deny(r.base), ["signed policy"]);

    // re-pushed, unsigned, under the same tag: refused, the signed revision stays
    const n = r.logs.length;
    await buildPush(ref, "unsigned replacement");
    await until("the second refusal", async () => r.logs.slice(n).some((l) => /no signatures found for/.test(l)));
    assert.deepEqual(await deny(r.base), ["signed policy"]);
  } finally {
    await r.server.close();
    await r.done;
  }
});

test("persist: an activated OCI bundle is served from disk at the next start, the registry unreachable", { skip: registryMissing(), timeout: 60000 }, async () => {
  const ref = `${reg!.host}/org/policy-persist:1.0.0`;
  await buildPush(ref, "persisted policy");
  const persist = join(work, "persist");
  const conf = (url: string) => {
    const f = join(work, `persist-${url.replace(/[^0-9]/g, "")}.yaml`);
    writeFileSync(f, `services:\n  reg:\n    url: ${url}\n    type: oci\nbundles:\n  policy:\n    service: reg\n    resource: ${ref}\n    persist: true\npersistence_directory: ${persist}\n`);
    return f;
  };
  const r = await run(["-c", conf(`http://${reg!.host}`)]);
  try {
    await until("the activation", async () => (await fetch(`${r.base}/health?bundles`)).status === 200);
  } finally {
    await r.server.close();
    await r.done;
  }
  const r2 = await run(["-c", conf("http://127.0.0.1:1")]);
  try {
    assert.equal((await fetch(`${r2.base}/health?bundles`)).status, 200);
    assert.deepEqual(await deny(r2.base), ["persisted policy"]);
    await until("the failed pull logged", async () => r2.logs.some((l) => /failed to pull 127\.0\.0\.1:1\/org\/policy-persist:1\.0\.0/.test(l)));
  } finally {
    await r2.server.close();
    await r2.done;
  }
});

test("run: oci:// without -b, verification without an OCI bundle, a bad reference: clear errors", async () => {
  const a = await cli(["run", "-s", "oci://127.0.0.1:1/x:1"]);
  assert.equal(a.code, 1);
  assert.match(a.err, /^error: oci:\/\/ references are bundles: pass -b\/--bundle\n$/);
  const b = await cli(["run", "-s", "--verify-key", join(work, "nope.pub")]);
  assert.equal(b.code, 1);
  assert.match(b.err, /^error: reading the public key .*nope\.pub: ENOENT\n$/);
  writeFileSync(join(work, "k.pub"), generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }));
  const b2 = await cli(["run", "-s", "--verify-key", join(work, "k.pub"), "--insecure-ignore-tlog"]);
  assert.equal(b2.code, 1);
  assert.match(b2.err, /^error: --verify-key and the keyless flags check bundles pulled from OCI registries: configure a service of type oci or pass -b oci:\/\/REF\n$/);
  const c = await cli(["run", "-s", "-b", "oci://127.0.0.1:1/UPPER:1"]);
  assert.equal(c.code, 1);
  assert.match(c.err, /^error: .*repository name must be lowercase/);
  const conf = join(work, "bad.yaml");
  writeFileSync(conf, "services:\n  r:\n    url: http://127.0.0.1:1\n    type: oci\n    credentials:\n      bearer:\n        token: x\nbundles:\n  b:\n    service: r\n    resource: 127.0.0.1:1/x:1\n");
  const d = await cli(["run", "-s", "-c", conf]);
  assert.equal(d.code, 1);
  assert.match(d.err, /services\.r\.credentials is not supported by portcullis run for a service of type oci/);
});
