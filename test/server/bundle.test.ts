// -b/--bundle with a bundle directory: the manifest's revision and roots, data only from data.json
// files, policy ids named after the bundle, data.system.bundles, provenance, and writes under the
// bundle's roots refused (data and policies). Recorded from `opa run --server -b`
// (test/server/recorded/opa-bundle.json).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startServer } from "../../src/server/index.ts";
import { HAVE_OPA, OPA, differences, liveOPA, run, testServerOptions, type Recording } from "./harness.ts";
import type { DiffRequest } from "./diff-requests.ts";

const BUNDLE = fileURLToPath(new URL("./fixtures/bundle", import.meta.url));
const RECORDED = fileURLToPath(new URL("./recorded/opa-bundle.json", import.meta.url));

function requests(): DiffRequest[] {
  return [
    { method: "GET", path: "/v1/policies" },
    { method: "GET", path: "/v1/data" },
    { method: "GET", path: "/v1/data/app/x?provenance" },
    { method: "POST", path: "/v1/data/app/x?provenance", body: "{}" },
    { method: "GET", path: "/v1/data/system/bundles" },
    { method: "GET", path: "/v1/data/ignored" },
    { method: "PUT", path: "/v1/data/config/v", body: "2" },
    { method: "PUT", path: "/v1/data/config", body: "{}" },
    { method: "PUT", path: "/v1/data/app", body: "{}" },
    { method: "PUT", path: "/v1/data", body: "{}" },
    { method: "PATCH", path: "/v1/data", body: JSON.stringify([{ op: "add", path: "/config/w", value: 1 }]) },
    { method: "DELETE", path: "/v1/data/config/v" },
    { method: "PUT", path: "/v1/data/other", body: "2" },
    { method: "GET", path: "/v1/data/other" },
    { method: "PUT", path: "/v1/policies/zz", body: "package app.z\n\ny := 1\n" },
    { method: "PUT", path: "/v1/policies/misc", body: "package misc\n\ny := 1\n" },
    { method: "GET", path: "/v1/data/misc/y" },
    { method: "PUT", path: "/v1/policies/bad", body: "package \n" },
    { method: "DELETE", path: `/v1/policies${BUNDLE}/${BUNDLE.replace(/^\/+/, "")}/sub/p.rego` },
    { method: "DELETE", path: "/v1/policies/misc" },
    { method: "GET", path: "/v1/data/app/x" },
  ];
}

test("bundle directory: portcullis answers as OPA does (recorded)", { timeout: 120000 }, async () => {
  const rec = JSON.parse(readFileSync(RECORDED, "utf8")) as Recording;
  const reqs = requests();
  assert.deepEqual(rec.requests, reqs.map((r) => ({ method: r.method, path: r.path.split(BUNDLE).join("<fixtures>") })), "stale recording: re-record with PORTCULLIS_RECORD=1");
  const server = await startServer(testServerOptions([BUNDLE], { bundleMode: true }));
  let got;
  try {
    got = await run(`http://${server.addresses[0]}`, reqs, BUNDLE);
  } finally {
    await server.close();
  }
  const diffs = differences(reqs, rec.answers, got);
  assert.equal(diffs.length, 0, diffs.join("\n"));
  assert.equal(rec.answers[6].status, 400);
});

test("bundle directory: the recording matches a live opa run --server -b", { skip: HAVE_OPA ? false : `no OPA at ${OPA}`, timeout: 120000 }, async () => {
  const reqs = requests();
  const { live, recorded } = await liveOPA(RECORDED, [BUNDLE], reqs, BUNDLE, ["-b"]);
  const diffs = differences(reqs, recorded.answers, live);
  assert.equal(diffs.length, 0, diffs.join("\n"));
});
