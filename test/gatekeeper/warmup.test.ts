// A new admission worker's warm-up (src/gatekeeper/warmup.ts): its synthetic reviews are
// answered like real ones, it never calls an external data provider, and it keeps to its budget.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { buildSnapshot } from "../../src/gatekeeper/snapshot.ts";
import { admit } from "../../src/gatekeeper/webhook.ts";
import { warmUp, warmupReviews } from "../../src/gatekeeper/warmup.ts";
import { classify } from "../../src/gatekeeper/policydir.ts";
import { readManifests } from "../../src/gatekeeper/manifestfiles.ts";
import { objects, constraint } from "./webhook-fixtures.ts";
import { writePolicyDir } from "../../bench/lib/webhook-load.ts";

const LIBRARY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../shared/gatekeeper-library/library");

/** The load test's policy set (every template and sample constraint of the library), as objects. */
function libraryObjects() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmup-library-"));
  try {
    writePolicyDir(LIBRARY, dir);
    return classify(readManifests(dir));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("the warm-up reviews are answered on the gatekeeper-library without errors", { skip: fs.existsSync(LIBRARY) ? false : `no gatekeeper library at ${LIBRARY}` }, async () => {
  const snap = buildSnapshot(libraryObjects());
  let denied = 0;
  for (const body of warmupReviews()) {
    const out = await admit(snap, body, { serviceAccount: "" }, { offline: true });
    const review = out.review as { response: { uid: string; allowed: boolean; status?: { message?: string } } };
    assert.equal(out.error, undefined, `review ${review.response.uid}: ${out.error}`);
    assert.match(review.response.uid, /^warmup-/);
    if (!review.response.allowed) denied++;
  }
  // The reviews exercise the policies: the non-conforming objects are denied.
  assert.ok(denied >= 4, `denied ${denied}`);
  const w = await warmUp(snap, 2000);
  assert.ok(w.reviews >= warmupReviews().length, JSON.stringify(w));
});

test("warm-up makes no external data call and keeps to its budget", async (t) => {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    req.resume();
    req.on("end", () => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "ProviderResponse", response: { idempotent: true, items: [] } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const template = {
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: "k8swarmexternal" },
    spec: {
      crd: { spec: { names: { kind: "K8sWarmExternal" } } },
      targets: [
        {
          target: "admission.k8s.gatekeeper.sh",
          rego: `package k8swarmexternal
violation[{"msg": msg}] {
  images := [c.image | c := input.review.object.spec.containers[_]]
  resp := external_data({"provider": "checker", "keys": images})
  count(resp.errors) > 0
  msg := "rejected"
}`,
        },
      ],
    },
  };
  const provider = { apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "checker" }, spec: { url: `http://127.0.0.1:${port}/`, timeout: 1 } };
  const objs = objects({ constraints: [constraint("K8sWarmExternal", "warm-external")] });
  objs.templates.push(template);
  objs.providers.push(provider);
  const snap = buildSnapshot(objs, { allowHTTPProviders: true });

  // A real review of the same snapshot does call the provider (so the template is live) …
  const real = warmupReviews()[0];
  await admit(snap, real, { serviceAccount: "" });
  assert.equal(calls, 1);
  calls = 0;
  // … and the warm-up, with the same reviews, does not.
  const w = await warmUp(snap, 150);
  assert.equal(calls, 0);
  assert.ok(w.reviews > 0, JSON.stringify(w));
  assert.ok(w.ms < 150 + 1000, `warm-up took ${w.ms} ms for a 150 ms budget`);
  assert.deepEqual(await warmUp(snap, 0), { rounds: 0, reviews: 0, ms: 0 });
});

test("a worker serves during its warm-up, which stops once real reviews have warmed it", async () => {
  const { AdmissionHandler } = await import("../../src/server/admission/handler.ts");
  const { WARMUP_REAL_REVIEWS, WARMUP_MAX_ROUNDS } = await import("../../src/gatekeeper/warmup.ts");
  const h = new AdmissionHandler({ webhook: { serviceAccount: "" }, allowHTTPProviders: false, warmupMs: 60_000 }, { version: 1, objects: objects({ constraints: [constraint("K8sNeedLabels", "need-owner", { parameters: { labels: ["owner"] } })] }) }, () => {});
  let finished = false;
  const warming = h.warm().then((w) => ((finished = true), w));
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const body = JSON.stringify(warmupReviews()[1]);
  const first = await h.run({ path: "admit", body, deadline: Date.now() + 3000, perConstraint: false }, flag);
  assert.equal(finished, false, "the real review was answered while the warm-up runs");
  assert.match(first.body!, /"uid":"warmup-deploy-true"/);
  for (let i = 1; i < WARMUP_REAL_REVIEWS; i++) await h.run({ path: "admit", body, deadline: Date.now() + 3000, perConstraint: false }, flag);
  const w = await warming;
  assert.ok(w.rounds < WARMUP_MAX_ROUNDS && w.ms < 60_000, JSON.stringify(w));
});
