// -b with signed .tar.gz bundles and --verification-key: one built and signed by `opa build`, one
// built and signed by `portcullis build` (RS256 signatures are deterministic, so the archive made
// here is the one OPA was recorded with). Both servers answer the same requests the same way
// (recorded in test/server/recorded/opa-bundle-archive-*.json; PORTCULLIS_RECORD=1 re-records);
// tampered archives stop `portcullis run` at start with OPA's text (test/bundle's recording).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync, rmSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startServer } from "../../src/server/index.ts";
import { HAVE_OPA, OPA, differences, liveOPA, run, testServerOptions, type Recording } from "./harness.ts";
import type { DiffRequest } from "./diff-requests.ts";
import { cli } from "../cli/helpers.ts";
import { variants } from "../bundle/tamper.ts";
import { readKeyArgument, writeTarGz } from "../../src/bundle/index.ts";

const FIX = join(import.meta.dirname, "../bundle/fixtures");
const dir = mkdtempSync(join(tmpdir(), "bundle-archive-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const OPA_BUILT = join(dir, "opa-built.tar.gz");
const PCS_BUILT = join(dir, "pcs-built.tar.gz");
copyFileSync(join(FIX, "recorded/opa-rs256.tar.gz"), OPA_BUILT);
const PUB = join(FIX, "rsa.pub");

function requests(name: string): DiffRequest[] {
  return [
    { method: "GET", path: "/v1/policies" },
    { method: "GET", path: "/v1/data/system/bundles" },
    { method: "POST", path: "/v1/data/x/allow", body: JSON.stringify({ input: { user: "alice" } }) },
    { method: "POST", path: "/v1/data/x/allow", body: JSON.stringify({ input: { user: "mallory" } }) },
    { method: "GET", path: "/v1/data/x/limit" },
    { method: "GET", path: "/v1/data/y" },
    { method: "GET", path: "/health?bundles" },
    { method: "PUT", path: "/v1/data/x/admins", body: '["mallory"]' },
    { method: "PUT", path: "/v1/data/x", body: "{}" },
    { method: "PATCH", path: "/v1/data/y", body: JSON.stringify([{ op: "replace", path: "/enabled", value: false }]) },
    { method: "DELETE", path: "/v1/data/y/enabled" },
    { method: "PUT", path: "/v1/data/z", body: '{"free":true}' },
    { method: "GET", path: "/v1/data/z" },
    { method: "PUT", path: "/v1/policies/evil", body: "package x\n\nallow := true\n" },
    { method: "PUT", path: "/v1/policies/ok", body: "package z.q\n\nv := 1\n" },
    { method: "GET", path: "/v1/data/z/q/v" },
    { method: "DELETE", path: `/v1/policies${name}/policy/x/p.rego` },
    { method: "POST", path: "/v1/data/x/allow", body: JSON.stringify({ input: { user: "bob" } }) },
  ];
}

async function compare(archive: string, recording: string): Promise<void> {
  const rec = JSON.parse(readFileSync(recording, "utf8")) as Recording;
  const reqs = requests(archive);
  assert.deepEqual(rec.requests, reqs.map((r) => ({ method: r.method, path: r.path.split(dir).join("<fixtures>") })), "stale recording: re-record with PORTCULLIS_RECORD=1");
  const server = await startServer(
    testServerOptions([archive], { bundleMode: true, bundleOptions: { verification: { keys: { default: { key: readKeyArgument(PUB), algorithm: "RS256" } }, keyId: "default", scope: "", exclude: [] } } }),
  );
  let got;
  try {
    got = await run(`http://${server.addresses[0]}`, reqs, dir);
  } finally {
    await server.close();
  }
  const diffs = differences(reqs, rec.answers, got);
  assert.equal(diffs.length, 0, diffs.join("\n"));
  assert.equal(rec.answers[7].status, 400, "a write under a bundle root is refused");
  assert.deepEqual(rec.answers[2].body, { result: true });
}

test("a bundle built and signed by opa build: portcullis run -b --verification-key answers as opa run (recorded)", { timeout: 60000 }, async () => {
  await compare(OPA_BUILT, join(import.meta.dirname, "recorded/opa-bundle-archive-opa-built.json"));
});

test("a bundle built and signed by portcullis build: opa run loaded it (recorded) and portcullis answers the same", { timeout: 60000 }, async () => {
  const prev = process.cwd();
  process.chdir(FIX);
  try {
    const r = await cli(["build", "-b", "policy", "-r", "pcs-1", "--signing-key", "rsa.pem", "-o", PCS_BUILT]);
    assert.equal(r.code, 0, r.out);
  } finally {
    process.chdir(prev);
  }
  await compare(PCS_BUILT, join(import.meta.dirname, "recorded/opa-bundle-archive-pcs-built.json"));
});

test("live: the recordings match opa run --server -b --verification-key", { skip: HAVE_OPA ? false : `no OPA at ${OPA}`, timeout: 120000 }, async () => {
  for (const [archive, file] of [
    [OPA_BUILT, "opa-bundle-archive-opa-built.json"],
    [PCS_BUILT, "opa-bundle-archive-pcs-built.json"],
  ]) {
    const reqs = requests(archive);
    const { live, recorded } = await liveOPA(join(import.meta.dirname, "recorded", file), [archive], reqs, dir, ["-b", "--verification-key", PUB]);
    const diffs = differences(reqs, recorded.answers, live);
    assert.equal(diffs.length, 0, diffs.join("\n"));
  }
});

test("tampered archives: portcullis run refuses to start, with opa's error text, and activates nothing", { timeout: 60000 }, async () => {
  const rec = JSON.parse(readFileSync(join(FIX, "recorded/tamper.json"), "utf8")) as { cases: { name: string; status: number; stdout: string }[] };
  const vs = variants(readFileSync(OPA_BUILT));
  let refused = 0;
  for (const [i, v] of vs.entries()) {
    if (rec.cases[i].status === 0) continue;
    const f = join(dir, "tampered.tar.gz");
    writeFileSync(f, v.archive);
    const keyArgs = v.args.includes("--verification-key") ? [] : ["--verification-key", PUB];
    const args = v.args.map((a) => (a === "rsa2.pub" ? join(FIX, "rsa2.pub") : a));
    const r = await cli(["run", "-s", "-a", "127.0.0.1:0", "-b", f, ...keyArgs, ...args]);
    assert.equal(r.code, 1, v.name);
    assert.equal(r.err.split(f).join("BUNDLE"), rec.cases[i].stdout, v.name);
    refused++;
  }
  assert.equal(refused, 11);
});

test("--watch: replacing the archive switches to the new revision, keys it dropped are gone", { timeout: 60000 }, async () => {
  const f = join(dir, "watched.tar.gz");
  const mk = (rev: string, data: Record<string, unknown>) =>
    writeTarGz([
      { name: "/x/data.json", data: Buffer.from(JSON.stringify(data)) },
      { name: "/x/p.rego", data: Buffer.from(`package x\n\nrev := ${JSON.stringify(rev)}\n`) },
      { name: "/.manifest", data: Buffer.from(JSON.stringify({ revision: rev, roots: ["x"] })) },
    ]);
  writeFileSync(f, mk("w1", { a: 1, old: true }));
  const server = await startServer(testServerOptions([f], { bundleMode: true, watch: true }));
  const base = `http://${server.addresses[0]}`;
  const get = async (p: string) => (await (await fetch(base + p)).json()) as { result?: unknown };
  try {
    assert.deepEqual((await get("/v1/data/x")).result, { a: 1, old: true, rev: "w1" });
    writeFileSync(f, mk("w2", { a: 2 }));
    const end = Date.now() + 10000;
    while (Date.now() < end && (await get("/v1/data/x/rev")).result !== "w2") await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual((await get("/v1/data/x")).result, { a: 2, rev: "w2" });
    assert.equal(((await get(`/v1/data/system/bundles`)).result as Record<string, { manifest: { revision: string } }>)[f].manifest.revision, "w2");
  } finally {
    await server.close();
  }
});
