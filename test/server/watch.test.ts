// -w/--watch: a change to the files makes a new snapshot, switched atomically; a change that does
// not compile is refused (logged) and the server keeps answering from the previous one; policies
// uploaded through the API survive a reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPortcullis } from "./harness.ts";

async function until(f: () => Promise<boolean>, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("timed out waiting for the reload");
}

test("watch: reload on change, refuse a broken change, keep API policies", { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-watch-"));
  writeFileSync(join(dir, "p.rego"), "package p\n\nv := 1\n");
  writeFileSync(join(dir, "data.json"), '{"d": 1}');
  const logs: string[] = [];
  const s = await startPortcullis([dir], { workers: 1, watch: true, log: (l) => logs.push(l) });
  const value = async (path: string) => (await (await fetch(`${s.base}/v1/data/${path}`)).json()).result;
  try {
    assert.equal(await value("p/v"), 1);
    assert.equal((await fetch(`${s.base}/v1/policies/api`, { method: "PUT", body: "package api\n\nw := 1\n" })).status, 200);
    writeFileSync(join(dir, "p.rego"), "package p\n\nv := 2\n");
    await until(async () => (await value("p/v")) === 2);
    writeFileSync(join(dir, "data.json"), '{"d": 3}');
    await until(async () => (await value("d")) === 3);
    writeFileSync(join(dir, "p.rego"), "package p\n\nv := \n");
    await until(async () => logs.some((l) => /Failed to reload files/.test(l)));
    assert.equal(await value("p/v"), 2, "a broken change must leave the previous snapshot in place");
    writeFileSync(join(dir, "q.rego"), "package q\n\nu := 5\n");
    writeFileSync(join(dir, "p.rego"), "package p\n\nv := 4\n");
    await until(async () => (await value("p/v")) === 4 && (await value("q/u")) === 5);
    rmSync(join(dir, "q.rego"));
    await until(async () => (await value("q/u")) === undefined);
    assert.equal(await value("api/w"), 1, "the policy uploaded through the API survives reloads");
  } finally {
    await s.stop();
  }
});
