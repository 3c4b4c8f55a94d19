// The built-in policy library (library/) against its corpus (examples/library/).
//
// Every corpus file is evaluated the way `conftest test --all-namespaces` does: the deny and
// warn rules of every library package, once per document (multi-document YAML is split), and
// once more with the combined input of `conftest test --combine` ([{path, contents}]), where
// the cross-document rules (K8S-016 PodDisruptionBudget, K8S-017 NetworkPolicy) also report.
// The expected findings are written below as "<rule id> <resource>". When conftest is installed
// (on PATH or in ~/go/bin), its output for the same runs must match ours exactly.
// The library's Rego unit tests (library/**/*_test.rego) run here on Portcullis's engine too.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { homedir } from "node:os";
import yaml from "js-yaml";
import { Engine } from "../../src/index.ts";
import type { Result } from "../../src/index.ts";
import type { Module } from "../../src/rego/ast.ts";
import { parseFile } from "../../src/formats/index.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const LIBRARY = join(ROOT, "library");
const CORPUS = join(ROOT, "examples/library");

type Level = "deny" | "warn";

interface Finding {
  level: Level;
  namespace: string;
  msg: string;
  metadata: Record<string, unknown>;
}

function regoFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...regoFiles(p));
    else if (name.endsWith(".rego")) out.push(p);
  }
  return out;
}

const policyFiles = regoFiles(LIBRARY).filter((f) => !f.endsWith("_test.rego"));
const testFiles = regoFiles(LIBRARY).filter((f) => f.endsWith("_test.rego"));

function packageOf(m: Module): string {
  return m.package.terms
    .slice(1)
    .map((t) => String((t as { value?: unknown }).value))
    .join(".");
}

function query(engine: Engine, q: string, input?: unknown): Result[] {
  const rs = engine.query(q, input === undefined ? {} : { input });
  assert.ok(Array.isArray(rs), "the library does no I/O");
  return rs;
}

function libraryEngine(data?: unknown): { engine: Engine; namespaces: string[] } {
  const engine = new Engine();
  const mods = engine.addModules(policyFiles.map((f) => ({ file: relative(ROOT, f), source: readFileSync(f, "utf8") })));
  if (data !== undefined) engine.addData(data);
  return { engine, namespaces: [...new Set(mods.map(packageOf))].sort() };
}

/** deny/warn of every namespace for one input, as conftest --all-namespaces collects them. */
function evaluate(lib: { engine: Engine; namespaces: string[] }, input: unknown): Finding[] {
  const out: Finding[] = [];
  for (const namespace of lib.namespaces) {
    for (const level of ["deny", "warn"] as Level[]) {
      for (const row of query(lib.engine, `x = data.${namespace}.${level}`, input)) {
        for (const v of row.bindings.x as unknown[]) {
          if (typeof v === "string") out.push({ level, namespace, msg: v, metadata: {} });
          else {
            const { msg, ...metadata } = v as { msg: string };
            out.push({ level, namespace, msg, metadata });
          }
        }
      }
    }
  }
  return out;
}

/** The documents conftest checks one by one: a top-level array is split. */
function documents(parsed: unknown): unknown[] {
  return Array.isArray(parsed) ? parsed : [parsed];
}

const perDocumentCache = new WeakMap<object, Map<string, Finding[]>>();

function perDocument(lib: ReturnType<typeof libraryEngine>, file: string): Finding[] {
  let cache = perDocumentCache.get(lib);
  if (!cache) perDocumentCache.set(lib, (cache = new Map()));
  let found = cache.get(file);
  if (!found) cache.set(file, (found = documents(parseFile(join(ROOT, file))).flatMap((doc) => evaluate(lib, doc))));
  return found;
}

function combined(lib: ReturnType<typeof libraryEngine>, files: string[]): Finding[] {
  const input = files.flatMap((file) => documents(parseFile(join(ROOT, file))).map((contents) => ({ path: file, contents })));
  return evaluate(lib, input);
}

/** "K8S-001 Deployment/web" (resource only for Kubernetes findings). */
function key(f: Finding): string {
  const { id, resource } = f.metadata as { id: string; resource?: string };
  return resource ? `${id} ${resource}` : id;
}

function keys(findings: Finding[], level: Level): string[] {
  return findings
    .filter((f) => f.level === level)
    .map(key)
    .sort();
}

interface Expected {
  deny?: string[];
  warn?: string[];
  /** Findings that only the combined run adds (cross-document rules). */
  combined?: { deny?: string[]; warn?: string[] };
}

const K = "examples/library/kubernetes/";
const D = "examples/library/dockerfile/";

// The verdict table: what each corpus file reports, per document and (extra) combined.
const EXPECTED: Record<string, Expected> = {
  // Kubernetes
  [`${K}bad-availability-probes-spread-strategy.yaml`]: {
    deny: ["K8S-051 Deployment/search"],
    warn: [
      "K8S-049 Deployment/search", "K8S-050 Deployment/search", "K8S-054 Deployment/search",
      "K8S-055 Deployment/search", "K8S-084 Deployment/search"
    ],
    combined: { deny: ["K8S-017 Deployment/search"], warn: ["K8S-016 Deployment/search"] },
  },
  [`${K}bad-capabilities-added-not-dropped.yaml`]: {
    deny: ["K8S-025 Deployment/api", "K8S-025 Deployment/api", "K8S-026 Deployment/api"],
  },
  [`${K}bad-cronjob-insecure.yaml`]: {
    deny: [
      "K8S-002 CronJob/report", "K8S-003 CronJob/report", "K8S-003 CronJob/report",
      "K8S-004 CronJob/report", "K8S-005 CronJob/report", "K8S-005 CronJob/report",
      "K8S-006 CronJob/report", "K8S-006 CronJob/report", "K8S-010 CronJob/report",
      "K8S-011 CronJob/report", "K8S-012 CronJob/report", "K8S-013 CronJob/report",
      "K8S-014 CronJob/report", "K8S-014 ServiceAccount/report", "K8S-025 CronJob/report",
      "K8S-026 CronJob/report", "K8S-028 CronJob/report", "K8S-029 CronJob/report"
    ],
    warn: [
      "K8S-033 CronJob/report", "K8S-033 CronJob/report", "K8S-049 CronJob/report",
      "K8S-049 CronJob/report"
    ],
    combined: { deny: ["K8S-017 CronJob/report"] },
  },
  [`${K}bad-default-namespace.yaml`]: {
    deny: [
      "K8S-014 Deployment/api", "K8S-014 Deployment/worker", "K8S-014 NetworkPolicy/api",
      "K8S-014 NetworkPolicy/worker", "K8S-014 PodDisruptionBudget/api",
      "K8S-014 PodDisruptionBudget/worker", "K8S-014 ServiceAccount/api",
      "K8S-014 ServiceAccount/worker"
    ],
  },
  [`${K}bad-exemption-without-reason.yaml`]: {
    deny: ["K8S-004 Deployment/legacy-cache", "K8S-086 Deployment/legacy-cache"],
    combined: { deny: ["K8S-017 Deployment/legacy-cache"], warn: ["K8S-016 Deployment/legacy-cache"] },
  },
  [`${K}bad-host-namespaces-and-hostpath.yaml`]: {
    deny: [
      "K8S-021 Deployment/api", "K8S-022 Deployment/api", "K8S-023 Deployment/api",
      "K8S-024 Deployment/api", "K8S-027 Deployment/api", "K8S-041 Deployment/api"
    ],
    warn: ["K8S-040 Deployment/api"],
  },
  [`${K}bad-hpa-pdb-and-references.yaml`]: {
    deny: ["K8S-080 PodDisruptionBudget/checkout"],
    warn: ["K8S-074 HorizontalPodAutoscaler/checkout"],
    combined: { warn: [
        "K8S-075 Deployment/checkout", "K8S-076 HorizontalPodAutoscaler/payments",
        "K8S-079 Deployment/checkout", "K8S-081 PodDisruptionBudget/payments"
      ] },
  },
  [`${K}bad-image-latest-and-unapproved-registry.yaml`]: {
    deny: ["K8S-009 Deployment/api", "K8S-010 Deployment/api", "K8S-010 Deployment/api"],
  },
  [`${K}bad-list-privileged-without-networkpolicy.yaml`]: {
    deny: ["K8S-001 Deployment/api", "K8S-017 Deployment/api"],
  },
  [`${K}bad-missing-pdb-and-networkpolicy.yaml`]: {
    combined: { deny: ["K8S-017 Deployment/api", "K8S-017 Deployment/worker"], warn: ["K8S-016 Deployment/api", "K8S-078 NetworkPolicy/worker"] },
  },
  [`${K}bad-missing-probes.yaml`]: {
    warn: ["K8S-007 Deployment/api", "K8S-008 Deployment/api"],
  },
  [`${K}bad-missing-prometheus-annotations.yaml`]: {
    warn: ["K8S-018 Deployment/api", "K8S-018 Deployment/worker"],
  },
  [`${K}bad-missing-required-labels.yaml`]: {
    deny: [
      "K8S-011 Deployment/api", "K8S-011 Namespace/shop", "K8S-012 Deployment/api",
      "K8S-012 Namespace/shop", "K8S-013 Deployment/api", "K8S-013 Namespace/shop"
    ],
    combined: { warn: ["K8S-085 Namespace/shop", "K8S-085 Namespace/shop"] },
  },
  [`${K}bad-missing-resource-requests-and-limits.yaml`]: {
    deny: ["K8S-005 Deployment/api", "K8S-006 Deployment/api", "K8S-006 Deployment/api"],
    warn: ["K8S-049 Deployment/api"],
  },
  [`${K}bad-persistent-volume-hostpath.yaml`]: {
    deny: ["K8S-021 PersistentVolume/node-local-data"],
    warn: ["K8S-020 PersistentVolume/node-local-data"],
  },
  [`${K}bad-pod-hardening.yaml`]: {
    deny: [
      "K8S-034 Deployment/agent", "K8S-034 Deployment/agent", "K8S-035 Deployment/agent",
      "K8S-036 Deployment/agent", "K8S-037 Deployment/agent", "K8S-038 Deployment/agent",
      "K8S-039 Deployment/win"
    ],
    warn: ["K8S-033 Deployment/agent", "K8S-033 Deployment/agent"],
    combined: { deny: ["K8S-017 Deployment/agent", "K8S-017 Deployment/win"], warn: ["K8S-016 Deployment/agent", "K8S-016 Deployment/win"] },
  },
  [`${K}bad-ports-and-pull-policy.yaml`]: {
    deny: ["K8S-047 Deployment/gateway"],
    warn: ["K8S-032 Deployment/gateway", "K8S-048 Deployment/gateway"],
    combined: { deny: ["K8S-017 Deployment/gateway"], warn: ["K8S-016 Deployment/gateway"] },
  },
  [`${K}bad-privilege-escalation-allowed.yaml`]: {
    deny: ["K8S-002 Deployment/api"],
  },
  [`${K}bad-privileged-container.yaml`]: {
    deny: ["K8S-001 Deployment/api"],
  },
  [`${K}bad-production-namespace-replicas-combined.yaml`]: {
    combined: { deny: ["K8S-015 Deployment/ledger"], warn: ["K8S-085 Namespace/payments", "K8S-085 Namespace/payments"] },
  },
  [`${K}bad-production-single-replica.yaml`]: {
    deny: ["K8S-015 Deployment/api"],
  },
  [`${K}bad-rbac.yaml`]: {
    deny: [
      "K8S-067 ClusterRole/ops", "K8S-067 ClusterRole/ops", "K8S-067 ClusterRole/ops",
      "K8S-069 ClusterRole/ops", "K8S-069 ClusterRole/ops", "K8S-071 ClusterRoleBinding/ops-admin",
      "K8S-072 RoleBinding/public-read"
    ],
    warn: [
      "K8S-068 ClusterRole/ops", "K8S-068 ClusterRole/ops", "K8S-070 ClusterRole/ops",
      "K8S-070 ClusterRole/ops", "K8S-070 ClusterRole/ops", "K8S-070 ClusterRole/ops",
      "K8S-073 ClusterRole/ops", "K8S-073 ClusterRole/ops", "K8S-073 ClusterRole/ops",
      "K8S-073 ClusterRole/ops"
    ],
  },
  [`${K}bad-runs-as-root.yaml`]: {
    deny: ["K8S-003 Deployment/api", "K8S-003 Deployment/api"],
    warn: ["K8S-033 Deployment/api"],
  },
  [`${K}bad-seccomp-unconfined.yaml`]: {
    deny: ["K8S-028 Deployment/api"],
  },
  [`${K}bad-secret-in-env-value.yaml`]: {
    deny: ["K8S-029 Deployment/api"],
    warn: ["K8S-046 Deployment/api"],
  },
  [`${K}bad-service-accounts-and-secret-env.yaml`]: {
    warn: [
      "K8S-043 Deployment/legacy", "K8S-044 Deployment/legacy", "K8S-045 Deployment/billing",
      "K8S-046 Deployment/billing"
    ],
    combined: { deny: ["K8S-017 Deployment/billing", "K8S-017 Deployment/legacy"], warn: ["K8S-016 Deployment/billing", "K8S-016 Deployment/legacy"] },
  },
  [`${K}bad-services-and-ingress.yaml`]: {
    deny: ["K8S-064 Service/web-external", "K8S-065 Ingress/web", "K8S-066 Ingress/web"],
    warn: ["K8S-062 Service/web-nodeport", "K8S-063 Service/web-public"],
    combined: { warn: ["K8S-077 Service/orders", "K8S-078 NetworkPolicy/orders"] },
  },
  [`${K}bad-statefulset-and-pvc-unacknowledged.yaml`]: {
    warn: ["K8S-019 StatefulSet/db", "K8S-020 PersistentVolumeClaim/uploads"],
    combined: { warn: ["K8S-059 StatefulSet/db"] },
  },
  [`${K}bad-volumes-runtime-socket-and-host-etc.yaml`]: {
    deny: [
      "K8S-021 Deployment/collector", "K8S-021 Deployment/collector", "K8S-041 Deployment/collector",
      "K8S-042 Deployment/collector"
    ],
    warn: [
      "K8S-040 Deployment/collector", "K8S-040 Deployment/collector", "K8S-040 Deployment/collector"
    ],
    combined: { deny: ["K8S-017 Deployment/collector"], warn: ["K8S-016 Deployment/collector"] },
  },
  [`${K}bad-workload-hygiene.yaml`]: {
    deny: [
      "K8S-009 Deployment/tiller-deploy", "K8S-052 Deployment/mismatch", "K8S-053 Deployment/dupenv",
      "K8S-060 Deployment/sysapp", "K8S-061 Deployment/old-api", "K8S-082 ConfigMap/settings",
      "K8S-083 Deployment/tiller-deploy"
    ],
    warn: [
      "K8S-056 CronJob/nightly", "K8S-057 Job/migrate", "K8S-058 Pod/debug",
      "K8S-059 StatefulSet/cache"
    ],
    combined: { deny: [
        "K8S-017 CronJob/nightly", "K8S-017 Deployment/dupenv", "K8S-017 Deployment/mismatch",
        "K8S-017 Deployment/old-api", "K8S-017 Deployment/sysapp", "K8S-017 Deployment/tiller-deploy",
        "K8S-017 Job/migrate", "K8S-017 Pod/debug", "K8S-017 StatefulSet/cache"
      ], warn: [
        "K8S-016 Deployment/dupenv", "K8S-016 Deployment/mismatch", "K8S-016 Deployment/old-api",
        "K8S-016 Deployment/sysapp", "K8S-016 Deployment/tiller-deploy", "K8S-016 StatefulSet/cache"
      ] },
  },
  [`${K}bad-writable-root-filesystem.yaml`]: {
    deny: ["K8S-004 Deployment/api"],
  },
  [`${K}cross-file-deployment.yaml`]: {
    combined: { deny: ["K8S-017 Deployment/catalog"], warn: ["K8S-016 Deployment/catalog"] },
  },
  [`${K}cross-file-pdb-and-networkpolicy.yaml`]: {
    combined: { warn: ["K8S-078 NetworkPolicy/catalog", "K8S-081 PodDisruptionBudget/catalog"] },
  },
  [`${K}good-deployment-complete.yaml`]: {},
  [`${K}good-exemption-with-reason.yaml`]: {},
  [`${K}good-pod-scrape-opt-out.yaml`]: {},
  [`${K}good-rbac-least-privilege.yaml`]: {},
  [`${K}good-statefulset-acknowledged.yaml`]: {},
  // Dockerfiles
  [`${D}good-multistage-distroless.Dockerfile`]: {},
  [`${D}good-alpine-service.Dockerfile`]: {},
  [`${D}bad-unapproved-registry.Dockerfile`]: { deny: ["DF-001", "DF-001"] },
  [`${D}bad-latest-and-untagged-base.Dockerfile`]: { deny: ["DF-002", "DF-002"] },
  [`${D}bad-no-healthcheck-digest-required.Dockerfile`]: { warn: ["DF-008"] },
  [`${D}bad-no-user-runs-as-root.Dockerfile`]: { deny: ["DF-004"] },
  [`${D}bad-user-switched-back-to-root.Dockerfile`]: { deny: ["DF-004"] },
  [`${D}bad-secrets-in-env-and-arg.Dockerfile`]: { deny: ["DF-006", "DF-006", "DF-007"] },
  [`${D}bad-remote-add-and-curl-pipe.Dockerfile`]: { deny: ["DF-009", "DF-012"], warn: ["DF-010", "DF-030"] },
  [`${D}bad-sudo-chmod-777-ssh.Dockerfile`]: { deny: ["DF-011", "DF-011", "DF-015", "DF-019"] },
  [`${D}bad-apt-package-hygiene.Dockerfile`]: { warn: ["DF-005", "DF-013", "DF-020", "DF-033"] },
  [`${D}bad-apk-without-no-cache.Dockerfile`]: { warn: ["DF-005", "DF-014"] },
  [`${D}bad-legacy-instructions.Dockerfile`]: { warn: ["DF-008", "DF-016", "DF-017", "DF-017", "DF-018"] },
  [`${D}bad-multistage-mistakes.Dockerfile`]: { deny: ["DF-024", "DF-025", "DF-026", "DF-028"], warn: ["DF-021", "DF-022", "DF-023"] },
  [`${D}bad-run-hygiene.Dockerfile`]: { deny: ["DF-027"], warn: ["DF-029", "DF-030", "DF-031", "DF-040", "DF-044"] },
  [`${D}bad-package-installs.Dockerfile`]: { warn: ["DF-032", "DF-033", "DF-034", "DF-034", "DF-036", "DF-037", "DF-038"] },
  [`${D}bad-rpm-and-zypper.Dockerfile`]: { deny: ["DF-001"], warn: ["DF-035", "DF-035", "DF-039"] },
  [`${D}bad-insecure-downloads-and-credentials.Dockerfile`]: { deny: ["DF-041", "DF-041", "DF-042", "DF-043"] },
};

// Runs with user data (--data): the file, the data file, and the findings then expected per document.
const CONFIGURED: { file: string; data: string; deny?: string[]; warn?: string[] }[] = [
  { file: `${D}bad-no-healthcheck-digest-required.Dockerfile`, data: "require-digests.yaml", deny: ["DF-003"], warn: ["DF-008"] },
  { file: `${D}good-alpine-service.Dockerfile`, data: "require-digests.yaml" },
  { file: `${K}good-deployment-complete.yaml`, data: "require-digests.yaml", deny: ["K8S-030 Deployment/web"] },
  { file: `${K}good-deployment-complete.yaml`, data: "golden-images.yaml", deny: ["K8S-031 Deployment/web"] },
  { file: `${K}bad-privileged-container.yaml`, data: "exemptions.yaml", deny: ["K8S-086 Deployment/api"] },
  { file: `${D}bad-unapproved-registry.Dockerfile`, data: "acme-organization.yaml" },
  { file: `${D}good-multistage-distroless.Dockerfile`, data: "golden-base-images.yaml" },
  { file: `${D}good-alpine-service.Dockerfile`, data: "golden-base-images.yaml", deny: ["DF-045"] },
  { file: `${D}bad-no-healthcheck-digest-required.Dockerfile`, data: "acme-organization.yaml" },
  { file: `${K}bad-missing-probes.yaml`, data: "acme-organization.yaml", deny: ["K8S-007 Deployment/api", "K8S-008 Deployment/api"] },
  { file: `${K}bad-production-single-replica.yaml`, data: "acme-organization.yaml", deny: ["K8S-015 Deployment/api"] },
  { file: `${K}bad-missing-required-labels.yaml`, data: "acme-organization.yaml", deny: [
    "K8S-011 Deployment/api", "K8S-011 Namespace/shop", "K8S-012 Namespace/shop", "K8S-013 Deployment/api", "K8S-013 Namespace/shop",
  ] },
];

function corpusFiles(): string[] {
  const out: string[] = [];
  for (const sub of ["kubernetes", "dockerfile"]) {
    for (const name of readdirSync(join(CORPUS, sub)).sort()) out.push(`examples/library/${sub}/${name}`);
  }
  return out;
}

function loadData(name: string): unknown {
  return yaml.load(readFileSync(join(CORPUS, "data", name), "utf8"));
}

const lib = libraryEngine();

describe("library corpus", () => {
  test("every corpus file has an expectation and every expectation a file", () => {
    assert.deepEqual(corpusFiles().sort(), Object.keys(EXPECTED).sort());
    assert.ok(corpusFiles().length >= 20);
  });

  for (const [file, exp] of Object.entries(EXPECTED)) {
    const name = file.replace("examples/library/", "");
    test(`${name}: per document`, () => {
      const found = perDocument(lib, file);
      assert.deepEqual(keys(found, "deny"), [...(exp.deny ?? [])].sort(), "deny");
      assert.deepEqual(keys(found, "warn"), [...(exp.warn ?? [])].sort(), "warn");
      for (const f of found) assert.match(f.msg, /^\[(DF|K8S)-\d{3}\] /);
    });

    test(`${name}: combined`, () => {
      const single = perDocument(lib, file);
      const found = combined(lib, [file]);
      for (const level of ["deny", "warn"] as Level[]) {
        const want = [...keys(single, level), ...(exp.combined?.[level] ?? [])].sort();
        assert.deepEqual(keys(found, level), want, level);
      }
      // Combined messages are the per-document ones with the file's path after the rule id.
      const msgs = new Set(found.map((f) => f.msg));
      for (const f of single) {
        const withPath = f.msg.replace(/^(\[[A-Z0-9-]+\] )/, `$1${file}: `);
        assert.ok(msgs.has(withPath), `combined run lacks: ${withPath}`);
      }
      for (const f of found) assert.equal(f.metadata.path, file);
    });
  }

  test("good files pass and bad files fail", () => {
    for (const [file, exp] of Object.entries(EXPECTED)) {
      const total = (exp.deny?.length ?? 0) + (exp.warn?.length ?? 0) + (exp.combined?.deny?.length ?? 0) + (exp.combined?.warn?.length ?? 0);
      if (/\/good-/.test(file)) assert.equal(total, 0, file);
      if (/\/bad-/.test(file)) assert.ok(total > 0, file);
    }
  });

  test("cross-file: a workload's PodDisruptionBudget and NetworkPolicy may live in another file", () => {
    const files = [`${K}cross-file-deployment.yaml`, `${K}cross-file-pdb-and-networkpolicy.yaml`];
    assert.deepEqual(combined(lib, files), []);
  });

  test("messages say what to change", () => {
    const found = perDocument(lib, `${K}bad-privileged-container.yaml`);
    assert.deepEqual(
      found.map((f) => [f.level, f.namespace, f.msg, f.metadata]),
      [[
        "deny",
        "kubernetes.security",
        "[K8S-001] Deployment/api: container 'api': runs privileged; remove securityContext.privileged or set it to false",
        { id: "K8S-001", title: "No privileged containers", resource: "Deployment/api" },
      ]],
    );
    const df = perDocument(lib, `${D}bad-no-user-runs-as-root.Dockerfile`);
    assert.deepEqual(df.map((f) => f.msg), [
      "[DF-004] the final stage sets no USER and runs as root; add USER with a non-root user (e.g. USER 10001:10001) after the last FROM",
    ]);
  });

  for (const run of CONFIGURED) {
    test(`${run.file.replace("examples/library/", "")} with data/${run.data}`, () => {
      const configured = libraryEngine(loadData(run.data));
      const found = perDocument(configured, run.file);
      assert.deepEqual(keys(found, "deny"), [...(run.deny ?? [])].sort(), "deny");
      assert.deepEqual(keys(found, "warn"), [...(run.warn ?? [])].sort(), "warn");
    });
  }
});

describe("library rules", () => {
  test("every rule id of the catalog is documented, reported by the corpus and unit-tested", () => {
    const rs = query(lib.engine, "x = data.portcullis_lib.rules.catalog");
    const ids = Object.keys(rs[0].bindings.x as Record<string, unknown>).sort();
    assert.ok(ids.length >= 30);
    const readme = readFileSync(join(LIBRARY, "README.md"), "utf8");
    const tests = testFiles.map((f) => readFileSync(f, "utf8")).join("\n");
    const reported = new Set<string>();
    for (const exp of Object.values(EXPECTED)) {
      for (const k of [...(exp.deny ?? []), ...(exp.warn ?? []), ...(exp.combined?.deny ?? []), ...(exp.combined?.warn ?? [])]) reported.add(k.split(" ")[0]);
    }
    for (const run of CONFIGURED) for (const k of [...(run.deny ?? []), ...(run.warn ?? [])]) reported.add(k.split(" ")[0]);
    for (const id of ids) {
      assert.ok(readme.includes(`| ${id} |`), `${id} is in library/README.md`);
      assert.ok(reported.has(id), `${id} is reported by some corpus file`);
      const testName = id.toLowerCase().replace("-", "_");
      assert.ok(new RegExp(`^test_${testName}_`, "m").test(tests), `${id} has unit tests`);
    }
  });

  test("Rego unit tests pass on Portcullis's engine", () => {
    const engine = new Engine();
    const mods = engine.addModules([...policyFiles, ...testFiles].map((f) => ({ file: relative(ROOT, f), source: readFileSync(f, "utf8") })));
    let ran = 0;
    const failed: string[] = [];
    for (const m of mods) {
      if (!m.file.endsWith("_test.rego")) continue;
      const pkg = packageOf(m);
      const names = new Set<string>();
      for (const r of m.rules) {
        const first = r.head.ref[0] as { type: string; name?: string };
        const name = first.type === "var" ? String(first.name) : "";
        if (r.head.kind === "single" && r.head.ref.length === 1 && name.startsWith("test_")) names.add(name);
      }
      for (const name of names) {
        ran++;
        const rs = query(engine, `x = data.${pkg}.${name}`);
        if (!(rs.length === 1 && rs[0].bindings.x === true)) failed.push(`${pkg}.${name}`);
      }
    }
    assert.ok(ran >= 100, `ran ${ran} tests`);
    assert.deepEqual(failed, []);
  });
});

// ---------------------------------------------------------------------------------------------
// conftest as an oracle

function findConftest(): string | undefined {
  const candidates = [join(homedir(), "go/bin/conftest")];
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir) candidates.push(join(dir, "conftest"));
  return candidates.find((c) => existsSync(c));
}

const CONFTEST = findConftest();

interface ConftestResult {
  filename: string;
  namespace: string;
  warnings?: { msg: string; metadata?: Record<string, unknown> }[];
  failures?: { msg: string; metadata?: Record<string, unknown> }[];
}

function conftest(args: string[]): ConftestResult[] {
  const r = spawnSync(CONFTEST!, ["test", "--all-namespaces", "--no-color", "-o", "json", "-p", "library", ...args], { cwd: ROOT, encoding: "utf8" });
  assert.ok(r.stdout.trim().startsWith("["), `conftest ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as ConftestResult[];
}

/** "deny|namespace|msg|metadata" lines, sorted, for one file's results. */
function conftestLines(results: ConftestResult[], filename?: string): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (filename !== undefined && r.filename !== filename) continue;
    for (const [level, list] of [["deny", r.failures], ["warn", r.warnings]] as const) {
      for (const f of list ?? []) {
        const { query: _q, ...metadata } = f.metadata ?? {};
        out.push(`${level}|${r.namespace}|${f.msg}|${JSON.stringify(sortKeys(metadata))}`);
      }
    }
  }
  return out.sort();
}

function ourLines(found: Finding[]): string[] {
  return found.map((f) => `${f.level}|${f.namespace}|${f.msg}|${JSON.stringify(sortKeys(f.metadata))}`).sort();
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

describe("library matches conftest", { skip: CONFTEST ? false : "conftest not installed" }, () => {
  const files = Object.keys(EXPECTED);

  test("per document: conftest test --all-namespaces", () => {
    const results = conftest(files);
    for (const file of files) assert.deepEqual(ourLines(perDocument(lib, file)), conftestLines(results, file), file);
  });

  test("combined: conftest test --combine --all-namespaces, file by file", () => {
    for (const file of files) assert.deepEqual(ourLines(combined(lib, [file])), conftestLines(conftest(["--combine", file])), file);
  });

  test("combined: the cross-file pair together", () => {
    const pair = [`${K}cross-file-deployment.yaml`, `${K}cross-file-pdb-and-networkpolicy.yaml`];
    assert.deepEqual(conftestLines(conftest(["--combine", ...pair])), []);
  });

  test("with --data", () => {
    for (const run of CONFIGURED) {
      const configured = libraryEngine(loadData(run.data));
      const results = conftest(["--data", `examples/library/data/${run.data}`, run.file]);
      assert.deepEqual(ourLines(perDocument(configured, run.file)), conftestLines(results, run.file), `${run.file} with ${run.data}`);
    }
  });
});
