import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../../src/gatekeeper/client.ts";
import {
  runAudit,
  ManifestLister,
  FileReportSink,
  CollectingSink,
  LimitQueue,
  auditStatus,
  truncateMessage,
  goCompare,
  selectKinds,
  toCheckResults,
  compareReport,
  AUDIT_ENFORCEMENT_POINT,
  type AuditLogEvent,
  type StatusViolation,
} from "../../src/gatekeeper/audit/index.ts";

// A required-labels template in the shape of the gatekeeper-library's (own Rego).
const labelsTemplate = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8srequiredlabels" },
  spec: {
    crd: {
      spec: {
        names: { kind: "K8sRequiredLabels" },
        validation: { openAPIV3Schema: { type: "object", properties: { labels: { type: "array", items: { type: "string" } } } } },
      },
    },
    targets: [
      {
        target: "admission.k8s.gatekeeper.sh",
        rego: `package k8srequiredlabels
violation[{"msg": msg, "details": {"missing_labels": missing}}] {
  provided := {l | input.review.object.metadata.labels[l]}
  required := {l | l := input.parameters.labels[_]}
  missing := required - provided
  count(missing) > 0
  msg := sprintf("you must provide labels: %v", [missing])
}
`,
      },
    ],
  },
};

const nsTemplate = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8snsecho" },
  spec: {
    crd: { spec: { names: { kind: "K8sNsEcho" } } },
    targets: [
      {
        target: "admission.k8s.gatekeeper.sh",
        rego: `package k8snsecho
violation[{"msg": msg}] {
  msg := sprintf("op=%q user=%v ns-team=%v", [input.review.operation, input.review.userInfo, object.get(input.review.namespaceObject, ["metadata", "labels", "team"], "none")])
}
`,
      },
    ],
  },
};

const constraint = (name: string, spec: object, kind = "K8sRequiredLabels") => ({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind, metadata: { name }, spec });
const ns = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
const deploy = (name: string, namespace: string, labels: Record<string, string> = {}) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace, labels } });

function client(...constraints: object[]): Client {
  const c = new Client({ enforcementPoint: AUDIT_ENFORCEMENT_POINT });
  c.addTemplate(labelsTemplate);
  c.addTemplate(nsTemplate);
  for (const k of constraints) c.addConstraint(k as never);
  return c;
}

const seed = () => [
  ns("prod", { owner: "a" }),
  ns("dev"),
  ns("kube-system"),
  deploy("web", "prod"),
  deploy("api", "prod", { app: "api" }),
  deploy("job", "dev", { app: "job" }),
  deploy("ok", "dev", { app: "ok" }),
  { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "dev" } },
];

test("audit: per-constraint totals, capped sorted status violations, actions as written", async () => {
  const c = client(
    constraint("all-must-have-owner", { match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] }, parameters: { labels: ["owner"] } }),
    constraint("deploy-must-have-app", { enforcementAction: "dryrun", match: { kinds: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] }, parameters: { labels: ["app"] } }),
  );
  const s = await runAudit({ lister: new ManifestLister(seed()), client: c, now: () => new Date("2026-12-06T10:00:00.123Z") });
  assert.equal(s.auditId, "2026-12-06T10:00:00Z");
  // ConfigMaps are selected by no constraint: not listed.
  assert.deepEqual(s.kinds, ["/v1/Namespace", "apps/v1/Deployment"]);
  assert.equal(s.objectsAudited, 7);
  const owner = s.constraints.find((x) => x.name === "all-must-have-owner")!;
  assert.equal(owner.totalViolations, 2);
  assert.deepEqual(owner.violations, [
    { group: "", version: "v1", kind: "Namespace", name: "dev", message: 'you must provide labels: {"owner"}', enforcementAction: "deny" },
    { group: "", version: "v1", kind: "Namespace", name: "kube-system", message: 'you must provide labels: {"owner"}', enforcementAction: "deny" },
  ]);
  const app = s.constraints.find((x) => x.name === "deploy-must-have-app")!;
  assert.equal(app.totalViolations, 1);
  assert.deepEqual(app.violations, [{ group: "apps", version: "v1", kind: "Deployment", namespace: "prod", name: "web", message: 'you must provide labels: {"app"}', enforcementAction: "dryrun" }]);
  assert.deepEqual(s.violationsByAction, { deny: 2, dryrun: 1, warn: 0, scoped: 0, unrecognized: 0 });
  assert.equal(s.totalViolations, 3);
  assert.deepEqual(s.errors, []);
});

test("audit reviews have no operation and no userInfo, and carry the Namespace", async () => {
  const c = client(constraint("echo", { match: { kinds: [{ apiGroups: ["apps"], kinds: ["Deployment"] }], namespaceSelector: { matchLabels: { owner: "a" } } } }, "K8sNsEcho"));
  const objs = [ns("prod", { owner: "a", team: "blue" }), ns("dev"), deploy("web", "prod"), deploy("x", "dev")];
  const sink = new CollectingSink();
  const s = await runAudit({ lister: new ManifestLister(objs), client: c, sink });
  assert.equal(s.totalViolations, 1);
  assert.deepEqual(
    sink.violations.map((v) => [v.namespace, v.name, v.message]),
    [["prod", "web", 'op="" user={} ns-team=blue']],
  );
});

test("a namespaced object whose Namespace is unknown: a namespaceSelector match error is reported, not skipped", async () => {
  const c = client(constraint("sel", { match: { namespaceSelector: { matchLabels: { a: "b" } } }, parameters: { labels: ["x"] } }));
  const sink = new CollectingSink();
  const s = await runAudit({ lister: new ManifestLister([deploy("orphan", "gone")]), client: c, sink });
  assert.equal(s.totalViolations, 1);
  assert.equal(sink.violations[0].error, true);
  assert.match(sink.violations[0].message, /unable to match constraints/);
});

test("cap and order: the first N of (group, version, kind, namespace, name, message, action), independent of listing order and chunk size", async () => {
  const objs: object[] = [ns("a"), ns("b"), ns("c")];
  for (let i = 0; i < 30; i++) objs.push(deploy(`d${String((i * 7) % 30).padStart(2, "0")}`, ["c", "a", "b"][i % 3]));
  const k = constraint("need-app", { match: { kinds: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] }, parameters: { labels: ["app"] } });
  const runs = [];
  for (const chunkSize of [0, 1, 7, 500]) {
    const sink = new CollectingSink();
    const s = await runAudit({ lister: new ManifestLister(objs), client: client(k), chunkSize, violationsLimit: 5, sink });
    runs.push({ s, sink });
  }
  const [first] = runs;
  const st = first.s.constraints[0];
  assert.equal(st.totalViolations, 30);
  assert.deepEqual(
    st.violations.map((v) => `${v.namespace}/${v.name}`),
    ["a/d01", "a/d04", "a/d07", "a/d10", "a/d13"],
  );
  for (const r of runs) {
    assert.deepEqual(r.s.constraints, first.s.constraints);
    assert.deepEqual(r.sink.violations, first.sink.violations);
  }
  // the full report is uncapped
  assert.equal(first.sink.violations.length, 30);
  // status: Gatekeeper writes its kept violations last-first
  const status = auditStatus({ byPod: [{ id: "other" }] }, { auditTimestamp: first.s.auditId, totalViolations: 30, violations: st.violations }, { id: "portcullis-audit", constraintUID: "u1", enforced: true, observedGeneration: 2, operations: ["audit"] });
  assert.deepEqual(
    (status.violations as StatusViolation[]).map((v) => v.name),
    ["d13", "d10", "d07", "d04", "d01"],
  );
  assert.equal(status.totalViolations, 30);
  assert.deepEqual(status.byPod, [{ id: "other" }, { id: "portcullis-audit", constraintUID: "u1", enforced: true, observedGeneration: 2, operations: ["audit"] }]);
  assert.equal("violations" in auditStatus({ violations: [1] }, { auditTimestamp: "t", totalViolations: 0, violations: [] }), false);
  assert.equal(runs.find((r) => r.s.chunkSize === 0)!.s.constraints[0].totalViolations, 30);
});

test("LimitQueue keeps the smallest N whatever the insertion order", () => {
  const mk = (name: string): StatusViolation => ({ group: "", version: "v1", kind: "Pod", name, message: "m", enforcementAction: "deny" });
  const names = Array.from({ length: 200 }, (_, i) => `p${String(i).padStart(3, "0")}`);
  for (const seedN of [1, 7, 13]) {
    const shuffled = names.map((n, i) => ({ n, k: (i * seedN * 7919) % 211 })).sort((a, b) => a.k - b.k).map((x) => x.n);
    const q = new LimitQueue(10);
    for (const n of shuffled) q.offer(mk(n));
    assert.deepEqual(q.sorted().map((v) => v.name), names.slice(0, 10));
  }
  const z = new LimitQueue(0);
  z.offer(mk("a"));
  assert.equal(z.size, 0);
});

test("Go string order and Gatekeeper's 256-byte message truncation", () => {
  // U+FF5E (3 bytes, EF BD 9E) sorts before U+1F600 (4 bytes, F0 ...) in Go; UTF-16 says otherwise.
  assert.equal(goCompare("\uFF5E", "\u{1F600}"), -1);
  assert.equal(goCompare("a", "ab"), -1);
  assert.equal(goCompare("b", "ab"), 1);
  assert.equal(truncateMessage("x".repeat(256)), "x".repeat(256));
  assert.equal(truncateMessage("x".repeat(257)), "x".repeat(253) + "...");
  // 252 ASCII bytes then "é" (2 bytes) cut after its first byte: one U+FFFD, as Go's JSON writes it.
  assert.equal(truncateMessage("x".repeat(252) + "é".repeat(10)), "x".repeat(252) + "\uFFFD...");
  // a 3-byte character cut after two bytes: two U+FFFD
  assert.equal(truncateMessage("x".repeat(251) + "€".repeat(10)), "x".repeat(251) + "\uFFFD\uFFFD...");
});

test("scoped enforcement actions at audit.gatekeeper.sh; a constraint scoped to the webhook only is not audited", async () => {
  const c = client(
    constraint("scoped-audit", {
      enforcementAction: "scoped",
      scopedEnforcementActions: [{ action: "warn", enforcementPoints: [{ name: "audit.gatekeeper.sh" }] }, { action: "deny", enforcementPoints: [{ name: "validation.gatekeeper.sh" }] }],
      match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] },
      parameters: { labels: ["owner"] },
    }),
    constraint("webhook-only", {
      enforcementAction: "scoped",
      scopedEnforcementActions: [{ action: "deny", enforcementPoints: [{ name: "validation.gatekeeper.sh" }] }],
      match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] },
      parameters: { labels: ["owner"] },
    }),
  );
  const s = await runAudit({ lister: new ManifestLister([ns("dev")]), client: c });
  const a = s.constraints.find((x) => x.name === "scoped-audit")!;
  assert.equal(a.totalViolations, 1);
  assert.deepEqual(a.violations[0].enforcementActions, ["warn"]);
  assert.equal(a.violations[0].enforcementAction, "scoped");
  assert.equal(s.constraints.find((x) => x.name === "webhook-only")!.totalViolations, 0);
  assert.equal(s.violationsByAction.scoped, 1);
});

test("kind selection: every kind a constraint can select; --audit-match-kind-only by kind name", () => {
  const kinds = [
    { group: "", version: "v1", kind: "Pod" },
    { group: "", version: "v1", kind: "ConfigMap" },
    { group: "apps", version: "v1", kind: "Deployment" },
    { group: "extensions", version: "v1beta1", kind: "Deployment" },
  ];
  const c1 = client(constraint("d", { match: { kinds: [{ apiGroups: ["*"], kinds: ["Deployment"] }] }, parameters: { labels: ["a"] } }));
  assert.deepEqual(selectKinds(kinds, c1, false).map((g) => `${g.group}/${g.kind}`), ["apps/Deployment", "extensions/Deployment"]);
  assert.deepEqual(selectKinds(kinds, c1, true).map((g) => `${g.group}/${g.kind}`), ["apps/Deployment", "extensions/Deployment"]);
  const c2 = client(constraint("all", { parameters: { labels: ["a"] } }));
  assert.equal(selectKinds(kinds, c2, true).length, 4);
  assert.equal(selectKinds(kinds, client(), false).length, 0);
});

test("log events share the audit id; the report file is whole JSON/NDJSON, replaced atomically", async () => {
  const dir = mkdtempSync(join(tmpdir(), "audit-report-"));
  try {
    const k = constraint("all-must-have-owner", { match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] }, parameters: { labels: ["owner"] } });
    const events: AuditLogEvent[] = [];
    const nd = join(dir, "r.ndjson");
    const s = await runAudit({ lister: new ManifestLister(seed()), client: client(k), sink: new FileReportSink(nd), log: (e) => events.push(e) });
    assert.deepEqual(
      events.map((e) => e.event_type),
      ["audit_started", "violation_audited", "violation_audited", "constraint_audited", "audit_finished"],
    );
    assert.ok(events.every((e) => e.audit_id === s.auditId));
    assert.equal(events[1].resource_name, "dev");
    const lines = readFileSync(nd, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.type), ["audit_started", "violation", "violation", "summary"]);
    assert.deepEqual(lines[1].details, { missing_labels: ["owner"] });
    assert.equal(lines[3].totalViolations, 2);
    const js = join(dir, "r.json");
    await runAudit({ lister: new ManifestLister(seed()), client: client(k), sink: new FileReportSink(js) });
    const doc = JSON.parse(readFileSync(js, "utf8"));
    assert.equal(doc.violations.length, 2);
    assert.equal(doc.summary.constraints[0].totalViolations, 2);
    assert.equal(existsSync(`${js}.tmp-${process.pid}`), false);
    // no violations: an empty array, still valid JSON
    const empty = join(dir, "e.json");
    await runAudit({ lister: new ManifestLister([ns("x", { owner: "o" })]), client: client(k), sink: new FileReportSink(empty) });
    assert.deepEqual(JSON.parse(readFileSync(empty, "utf8")).violations, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("conftest result model: deny → failures, dryrun → warnings, passing constraints → successes", async () => {
  const c = client(
    constraint("all-must-have-owner", { match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] }, parameters: { labels: ["owner"] } }),
    constraint("deploy-must-have-app", { enforcementAction: "dryrun", match: { kinds: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] }, parameters: { labels: ["app"] } }),
    constraint("cm-label", { match: { kinds: [{ apiGroups: [""], kinds: ["Secret"] }] }, parameters: { labels: ["x"] } }),
  );
  const sink = new CollectingSink();
  const s = await runAudit({ lister: new ManifestLister(seed()), client: c, sink });
  const rs = toCheckResults(sink.violations.sort(compareReport), s);
  assert.deepEqual(
    rs.map((r) => [r.filename, r.namespace, r.successes, r.failures.map((x) => x.msg), r.warnings.map((x) => x.msg)]),
    [
      ["v1/Namespace dev", "all-must-have-owner", 0, ['[all-must-have-owner] you must provide labels: {"owner"}'], []],
      ["v1/Namespace kube-system", "all-must-have-owner", 0, ['[all-must-have-owner] you must provide labels: {"owner"}'], []],
      ["apps/v1/Deployment prod/web", "deploy-must-have-app", 0, [], ['[deploy-must-have-app] you must provide labels: {"app"}']],
      ["all objects", "cm-label", 1, [], []],
    ],
  );
});

test("offline audit (portcullis audit -f): data.inventory from the Config's syncOnly kinds; exit codes and formats", async () => {
  const { auditOnce } = await import("../../src/gatekeeper/audit/oneshot.ts");
  const { cli } = await import("../cli/helpers.ts");
  const { writeFileSync, mkdirSync } = await import("node:fs");
  const yaml = (await import("js-yaml")).default;
  const dir = mkdtempSync(join(tmpdir(), "audit-offline-"));
  try {
    const uniq = {
      apiVersion: "templates.gatekeeper.sh/v1",
      kind: "ConstraintTemplate",
      metadata: { name: "k8suniqueselector" },
      spec: {
        crd: { spec: { names: { kind: "K8sUniqueSelector" } } },
        targets: [
          {
            target: "admission.k8s.gatekeeper.sh",
            rego: `package k8suniqueselector
violation[{"msg": msg}] {
  sel := input.review.object.spec.selector
  other := data.inventory.namespace[ns][_]["Service"][name]
  not itself(ns, name)
  other.spec.selector == sel
  msg := sprintf("same selector as service <%v> in namespace <%v>", [name, ns])
}
itself(ns, name) {
  ns == input.review.object.metadata.namespace
  name == input.review.object.metadata.name
}
`,
          },
        ],
      },
    };
    const svc = (name: string, app: string) => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "team-a" }, spec: { selector: { app } } });
    mkdirSync(join(dir, "policy"));
    writeFileSync(
      join(dir, "policy", "p.yaml"),
      [uniq, { apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sUniqueSelector", metadata: { name: "unique-selector" }, spec: { match: { kinds: [{ apiGroups: [""], kinds: ["Service"] }] } } }, labelsTemplate, constraint("ns-owner", { enforcementAction: "dryrun", match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] }, parameters: { labels: ["owner"] } }), { apiVersion: "config.gatekeeper.sh/v1alpha1", kind: "Config", metadata: { name: "config", namespace: "gatekeeper-system" }, spec: { sync: { syncOnly: [{ group: "", version: "v1", kind: "Service" }] } } }]
        .map((d) => yaml.dump(d))
        .join("---\n"),
    );
    writeFileSync(join(dir, "objs.yaml"), [ns("team-a"), svc("web", "web"), svc("web-copy", "web"), svc("api", "api")].map((d) => yaml.dump(d)).join("---\n"));
    const r = await auditOnce({ policyPaths: [join(dir, "policy")], files: [join(dir, "objs.yaml")] });
    assert.deepEqual(
      r.violations.map((v) => `${v.constraint.name} ${v.name}: ${v.message}`),
      ["ns-owner team-a: you must provide labels: {\"owner\"}", "unique-selector web: same selector as service <web-copy> in namespace <team-a>", "unique-selector web-copy: same selector as service <web> in namespace <team-a>"],
    );
    const out = await cli(["audit", "--policy-dir", join(dir, "policy"), "-f", join(dir, "objs.yaml"), "--no-color", "--audit-report", join(dir, "r.json")]);
    assert.equal(out.code, 1, out.err);
    assert.match(out.out, /^FAIL - v1\/Service team-a\/web - unique-selector - \[unique-selector\] same selector as service <web-copy> in namespace <team-a>$/m);
    assert.match(out.out, /^WARN - v1\/Namespace team-a - ns-owner - \[ns-owner\] you must provide labels: \{"owner"\}$/m);
    assert.match(out.out, /3 tests, 0 passed, 1 warning, 2 failures, 0 exceptions/);
    assert.equal(JSON.parse(readFileSync(join(dir, "r.json"), "utf8")).violations.length, 3);
    // only a dryrun violation (the Namespace without owner): exit 0
    writeFileSync(join(dir, "ok.yaml"), yaml.dump(ns("team-a")));
    assert.equal((await cli(["audit", "--policy-dir", join(dir, "policy"), "-f", join(dir, "ok.yaml")])).code, 0);
    // bad flags and bad input: clear errors
    const bad = await cli(["audit", "--policy-dir", join(dir, "policy"), "-f", join(dir, "ok.yaml"), "--audit-chunk-size", "-3"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^Error: --audit-chunk-size must be a whole number, got "-3"/);
    assert.equal((await cli(["audit", "-f", join(dir, "ok.yaml"), "-o", "nope"])).code, 2);
    const none = await cli(["audit", "-f", join(dir, "ok.yaml")]);
    assert.equal(none.code, 1);
    assert.match(none.err, /^Error: no ConstraintTemplate to audit with/);
    const missing = await cli(["audit", "--policy-dir", join(dir, "nope"), "-f", join(dir, "ok.yaml")]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^Error: .*nope/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
