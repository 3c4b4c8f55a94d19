// The webhook restarting under kubectl traffic (issue 14): `portcullis controller
// --operation=webhook --policy-dir` as its own process behind a real Kubernetes API server
// (../shared/kube), registered with failurePolicy Fail. Four kubectl loops create Namespaces,
// every other one without the `owner` label a required-labels constraint demands; each review
// also asks an external-data provider that answers after 800 ms, so reviews are in flight when
// the controller gets SIGTERM. A new controller is started on the same port at once. Asserted:
// - the old controller logs how many requests it had in flight, answers them and exits 0; every
//   review the provider was serving at SIGTERM got its decision (created, or refused with
//   Gatekeeper's message), none a transport error;
// - every create kubectl reported as succeeded carried the label, and the Namespace exists;
//   every refusal of an unlabelled one is the constraint's message or, during the gap, the API
//   server's `failed calling webhook` (failurePolicy Fail); a labelled one is refused only by the
//   gap; the Namespaces in the cluster are exactly the ones kubectl reported created.
// Skipped without the API server, etcd, kubectl or openssl.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { kubeMissing, startKube, which, freePort, until, type RunResult } from "../support/kube.ts";
import { loopbackCert } from "../support/certs.ts";
import { SOURCE_CLI } from "../cli/portcullis-src.ts";
import { constraint } from "./webhook-fixtures.ts";

const skip = kubeMissing() || (which("openssl") ? false : "openssl is not installed");

const ownerTemplate = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8sowned" },
  spec: {
    crd: { spec: { names: { kind: "K8sOwned" } } },
    targets: [
      {
        target: "admission.k8s.gatekeeper.sh",
        rego: `package k8sowned
checked := external_data({"provider": "slow", "keys": [input.review.object.metadata.name]})
violation[{"msg": msg}] {
  not input.review.object.metadata.labels.owner
  msg := sprintf("namespace %v has no owner", [input.review.object.metadata.name])
}
violation[{"msg": msg}] {
  checked.system_error != ""
  msg := sprintf("provider slow failed: %v", [checked.system_error])
}`,
      },
    ],
  },
};

interface Outcome {
  name: string;
  labelled: boolean;
  r: RunResult;
}

test("the webhook restarting under kubectl traffic loses no acknowledged decision", { skip, timeout: 180000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-gk-restart-"));
  const policy = join(dir, "policy");
  const certs = join(dir, "certs");
  mkdirSync(policy);
  loopbackCert(certs);
  loopbackCert(join(dir, "provider"));

  // The provider: answers every key after 800 ms; `serving` holds the keys not yet answered.
  const serving = new Set<string>();
  let maxServing = 0;
  const provider = https.createServer({ cert: readFileSync(join(dir, "provider", "tls.crt")), key: readFileSync(join(dir, "provider", "tls.key")) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const keys: string[] = JSON.parse(Buffer.concat(chunks).toString()).request.keys;
      for (const k of keys) serving.add(k);
      maxServing = Math.max(maxServing, serving.size);
      setTimeout(() => {
        for (const k of keys) serving.delete(k);
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "ProviderResponse", response: { idempotent: false, items: keys.map((k) => ({ key: k, value: "seen" })) } }));
      }, 800);
    });
  });
  await new Promise<void>((r) => provider.listen(0, "127.0.0.1", r));
  const providerURL = `https://127.0.0.1:${(provider.address() as AddressInfo).port}/`;
  writeFileSync(
    join(policy, "policy.yaml"),
    [
      { apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "slow" }, spec: { url: providerURL, timeout: 2, caBundle: readFileSync(join(dir, "provider", "tls.crt")).toString("base64") } },
      ownerTemplate,
      constraint("K8sOwned", "all-must-have-owner", { match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }], excludedNamespaces: ["kube-*", "default"] } }),
    ]
      .map((o) => yaml.dump(o))
      .join("---\n"),
  );

  const port = await freePort();
  const start = () => {
    const c = spawn(process.execPath, [...SOURCE_CLI, "controller", "--operation=webhook", "--policy-dir", policy, "--cert-dir", certs, "--port", String(port), "--host", "127.0.0.1", "--metrics-addr", "0", "--health-addr", "0", "--max-serving-threads", "1"], { stdio: ["ignore", "ignore", "pipe"] });
    const h = { child: c, err: "" };
    c.stderr!.on("data", (d) => (h.err += d));
    return h;
  };
  const serving_ = (h: { child: ChildProcess; err: string }) => /"msg":"Webhook serving\."/.test(h.err) || h.child.exitCode !== null;

  let a = start();
  let b: ReturnType<typeof start> | undefined;
  let kube: Awaited<ReturnType<typeof startKube>> | undefined;
  try {
    kube = await startKube({ dir });
    const k = kube.kubectl;
    await until(() => serving_(a), "the first controller to serve", 60000, 50);
    assert.equal(a.child.exitCode, null, a.err);
    const vwc = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "gatekeeper-validating-webhook-configuration" },
      webhooks: [
        {
          name: "validation.gatekeeper.sh",
          admissionReviewVersions: ["v1", "v1beta1"],
          clientConfig: { url: `https://127.0.0.1:${port}/v1/admit`, caBundle: readFileSync(join(certs, "tls.crt")).toString("base64") },
          failurePolicy: "Fail",
          matchPolicy: "Exact",
          sideEffects: "None",
          timeoutSeconds: 5,
          rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["namespaces"] }],
        },
      ],
    };
    const applied = await k(["apply", "-f", "-"], JSON.stringify(vwc));
    assert.equal(applied.code, 0, applied.err);
    await until(async () => (await k(["create", "namespace", "probe", "--dry-run=server"])).code !== 0, "the webhook configuration to take effect", 60000, 50);

    // Four kubectl loops until `stop`.
    const outcomes: Outcome[] = [];
    let stop = false;
    const loop = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const name = `ns-${n}-${i}`;
        const labelled = i % 2 === 0;
        const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name, ...(labelled ? { labels: { owner: "me" } } : {}) } };
        outcomes.push({ name, labelled, r: await k(["create", "-f", "-"], JSON.stringify(ns)) });
      }
    };
    const loops = [0, 1, 2, 3].map(loop);

    // Traffic on the first controller, then SIGTERM while the provider serves reviews.
    await until(() => outcomes.length >= 6, "traffic on the first controller", 60000, 50);
    await until(() => serving.size > 0, "a review in flight", 60000, 50);
    const inFlightAtTerm = new Set(serving);
    a.child.kill("SIGTERM");
    b = start();
    await until(() => a.child.exitCode !== null, "the first controller to exit", 40000, 50);
    assert.equal(a.child.exitCode, 0, a.err);
    await until(() => serving_(b!), "the second controller to serve", 60000, 50);
    assert.equal(b.child.exitCode, null, b.err);
    const atRestart = outcomes.length;
    await until(() => outcomes.length >= atRestart + 6, "traffic on the second controller", 60000, 50);
    stop = true;
    await Promise.all(loops);

    const drainLog = a.err.split("\n").find((l) => l.includes("Shutting down: draining requests in flight."));
    assert.ok(drainLog, a.err);
    const drainedCount = JSON.parse(drainLog).in_flight as number;
    assert.ok(drainedCount >= 1, `in flight at SIGTERM: ${drainedCount}`);

    const denied = (name: string) => `Error from server (Forbidden): error when creating "STDIN": admission webhook "validation.gatekeeper.sh" denied the request: [all-must-have-owner] namespace ${name} has no owner`;
    const gap = new RegExp(`^Error from server \\(InternalError\\): error when creating "STDIN": Internal error occurred: failed calling webhook "validation\\.gatekeeper\\.sh": failed to call webhook: Post "https://127\\.0\\.0\\.1:${port}/v1/admit\\?timeout=5s": `);
    const created = new Set<string>();
    let refusedByPolicy = 0;
    let refusedInGap = 0;
    const gapReasons = new Set<string>();
    for (const o of outcomes) {
      const err = o.r.err.trim();
      if (o.r.code === 0) {
        assert.ok(o.labelled, `${o.name} has no owner but was created`);
        assert.equal(o.r.out.trim(), `namespace/${o.name} created`);
        created.add(o.name);
      } else if (gap.test(err)) {
        refusedInGap++;
        gapReasons.add(err.replace(gap, "").replace(/\d+/g, "N"));
        assert.ok(!inFlightAtTerm.has(o.name), `${o.name} was in flight at SIGTERM but not answered: ${err}`);
      } else {
        assert.ok(!o.labelled, `${o.name} has an owner but was refused: ${err}`);
        assert.equal(err, denied(o.name));
        refusedByPolicy++;
      }
    }
    for (const name of inFlightAtTerm) {
      const o = outcomes.find((x) => x.name === name);
      assert.ok(o, `no outcome for ${name}`);
      assert.ok(o.labelled ? o.r.code === 0 : o.r.err.trim() === denied(name), `${name}: ${o.r.err}`);
    }
    const inCluster = JSON.parse((await k(["get", "namespaces", "-o", "json"])).out)
      .items.map((n: { metadata: { name: string } }) => n.metadata.name)
      .filter((n: string) => n.startsWith("ns-"));
    assert.deepEqual(new Set(inCluster), created);
    // Nothing listens on the port during the gap, or the old process closed the connection.
    for (const r of gapReasons) assert.match(r, /^(dial tcp N\.N\.N\.N:N: connect: connection refused|EOF|.*connection reset by peer)$/);
    assert.ok(created.size > 0 && refusedByPolicy > 0, `created ${created.size}, refused by policy ${refusedByPolicy}`);
    console.log(
      `# restart under traffic: ${outcomes.length} creates, ${created.size} created, ${refusedByPolicy} refused by the constraint, ${refusedInGap} refused during the gap (failurePolicy Fail), ${drainedCount} in flight at SIGTERM drained (${inFlightAtTerm.size} of them at the provider, at most ${maxServing} at once); gap errors: ${[...gapReasons].join(" | ")}`,
    );
    b.child.kill("SIGTERM");
    await until(() => b!.child.exitCode !== null, "the second controller to exit", 40000, 50);
    assert.equal(b.child.exitCode, 0, b.err);
  } finally {
    for (const h of [a, b]) if (h && h.child.exitCode === null) h.child.kill("SIGKILL");
    provider.closeAllConnections();
    provider.close();
    await kube?.stop();
  }
});
