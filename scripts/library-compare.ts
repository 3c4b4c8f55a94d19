// The built-in library against the peers' own test fixtures: per topic, how often the library's
// verdict (do the mapped rules fire?) agrees with the peer's expected verdict.
//
//   # fetch the peers first (mirrors: /work/.mirror/<owner>+<name>/repo), then:
//   node --import tsx scripts/library-compare.ts [--mirrors DIR] [--cache DIR] [--json]
//
// Fixtures are read from the mirrors with `git show` and copied into the cache directory
// (default: $XDG_CACHE_HOME or ~/.cache, /portcullis-library-compare), never into the repository.
// Each fixture file is checked as one combined input (`portcullis test --combine`), as the peers
// read all the objects of a file together.
//
// Expected verdicts:
//  - Polaris: test/checks/<check>/success*.yaml must pass, failure*.yaml must fail.
//  - kube-score: testExpectedScore(t, "<file>", "<check name>", scorecard.Grade<X>) calls in
//    score/*_test.go: GradeCritical/GradeWarning fail, GradeAllOK/GradeAlmostOK pass.
//  - kube-linter: tests/checks/<check>.yml; objects named dont-fire* must not fire, the other
//    objects of the kinds the check looks at must fire (the convention of its e2e tests).
// A disagreement is a fixture where the verdicts differ; library/README.md explains them.

import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { homedir } from "node:os";
import { loadPolicies, readConfigs, runChecks, type TestOptions } from "../src/conftest/runner.ts";

const ROOT = resolve(import.meta.dirname, "..");

/** Peer check -> the library rules that cover the same topic. */
const POLARIS: Record<string, string[]> = {
  automountServiceAccountToken: ["K8S-043"],
  clusterrolePodExecAttach: ["K8S-070"],
  rolePodExecAttach: ["K8S-070"],
  clusterrolebindingClusterAdmin: ["K8S-071"],
  rolebindingClusterAdminClusterRole: ["K8S-071"],
  cpuLimitsMissing: ["K8S-006"],
  memoryLimitsMissing: ["K8S-006"],
  cpuRequestsMissing: ["K8S-005"],
  memoryRequestsMissing: ["K8S-005"],
  dangerousCapabilities: ["K8S-025"],
  insecureCapabilities: ["K8S-025", "K8S-026"],
  hostIPCSet: ["K8S-024"],
  hostNetworkSet: ["K8S-022"],
  hostPIDSet: ["K8S-023"],
  hostPathSet: ["K8S-021"],
  hostPortSet: ["K8S-027"],
  hostProcess: ["K8S-039"],
  hpaMaxAvailability: ["K8S-074"],
  hpaMinAvailability: ["K8S-074"],
  linuxHardening: ["K8S-028", "K8S-035", "K8S-036"],
  livenessProbeMissing: ["K8S-007"],
  readinessProbeMissing: ["K8S-008"],
  missingNetworkPolicy: ["K8S-017"],
  missingPodDisruptionBudget: ["K8S-016"],
  notReadOnlyRootFilesystem: ["K8S-004"],
  pdbDisruptionsIsZero: ["K8S-080"],
  priorityClassNotSet: ["K8S-084"],
  privilegeEscalationAllowed: ["K8S-002"],
  procMount: ["K8S-037"],
  pullPolicyNotAlways: ["K8S-032"],
  runAsPrivileged: ["K8S-001"],
  runAsRootAllowed: ["K8S-003"],
  sensitiveConfigmapContent: ["K8S-082"],
  sensitiveContainerEnvVar: ["K8S-029"],
  tagNotSpecified: ["K8S-010"],
  tlsSettingsMissing: ["K8S-065"],
  topologySpreadConstraint: ["K8S-054"],
};

const KUBE_SCORE: Record<string, string[]> = {
  "Stable version": ["K8S-061"],
  "Service Targets Pod": ["K8S-077"],
  "Pod NetworkPolicy": ["K8S-017"],
  "Pod Probes": ["K8S-007", "K8S-008"],
  "NetworkPolicy targets Pod": ["K8S-078"],
  "Pod Topology Spread Constraints": ["K8S-054"],
  "Deployment has PodDisruptionBudget": ["K8S-016"],
  "StatefulSet has ServiceName": ["K8S-059"],
  "HorizontalPodAutoscaler has target": ["K8S-076"],
  "Deployment has host PodAntiAffinity": ["K8S-054"],
  "StatefulSet has host PodAntiAffinity": ["K8S-054"],
  "Container Resources": ["K8S-005", "K8S-006"],
  "Container Image Pull Policy": ["K8S-032"],
  "StatefulSet has PodDisruptionBudget": ["K8S-016"],
  "Service Type": ["K8S-062"],
  "Pod Probes Identical": ["K8S-050"],
  "Deployment Strategy": ["K8S-055"],
  "Container Ephemeral Storage Request and Limit": ["K8S-049"],
  "PodDisruptionBudget has policy": ["K8S-080"],
  "Deployment targeted by HPA does not have replicas configured": ["K8S-075"],
  "Container Image Tag": ["K8S-010"],
  "StatefulSet Pod Selector labels match template metadata labels": ["K8S-052"],
  "HorizontalPodAutoscaler Replicas": ["K8S-074"],
  "Deployment Replicas": ["K8S-015"],
};

const KUBE_LINTER: Record<string, string[]> = {
  "access-to-create-pods": ["K8S-070"],
  "access-to-secrets": ["K8S-068"],
  "cluster-admin-role-binding": ["K8S-071"],
  "dangling-hpa": ["K8S-076"],
  "dangling-networkpolicy": ["K8S-078"],
  "dangling-service": ["K8S-077"],
  "default-service-account": ["K8S-044"],
  "deprecated-service-account-field": ["K8S-045"],
  "docker-sock": ["K8S-041"],
  "drop-net-raw-capability": ["K8S-026"],
  "duplicate-env-var": ["K8S-053"],
  "env-var-secret": ["K8S-029"],
  "host-ipc": ["K8S-024"],
  "host-network": ["K8S-022"],
  "host-pid": ["K8S-023"],
  "job-ttl-seconds-after-finished": ["K8S-057"],
  "latest-tag": ["K8S-010"],
  "liveness-port": ["K8S-051"],
  "readiness-port": ["K8S-051"],
  "startup-port": ["K8S-051"],
  "mismatching-selector": ["K8S-052"],
  "no-anti-affinity": ["K8S-054"],
  "no-extensions-v1beta": ["K8S-061"],
  "no-liveness-probe": ["K8S-007"],
  "no-readiness-probe": ["K8S-008"],
  "no-read-only-root-fs": ["K8S-004"],
  "non-existent-service-account": ["K8S-079"],
  "non-isolated-pod": ["K8S-017"],
  "pdb-max-unavailable": ["K8S-080"],
  "pdb-min-available": ["K8S-080"],
  "priority-class-name": ["K8S-084"],
  "privilege-escalation-container": ["K8S-002"],
  "privileged-container": ["K8S-001"],
  "privileged-ports": ["K8S-048"],
  "run-as-non-root": ["K8S-003", "K8S-034"],
  "sensitive-host-mounts": ["K8S-042"],
  "ssh-port": ["K8S-047"],
  "unsafe-proc-mount": ["K8S-037"],
  "unsafe-sysctls": ["K8S-038"],
  "unset-cpu-requirements": ["K8S-005", "K8S-006"],
  "unset-memory-requirements": ["K8S-005", "K8S-006"],
  "use-namespace": ["K8S-014"],
  "wildcard-in-rules": ["K8S-067"],
  "exposed-services": ["K8S-062"],
  "minimum-three-replicas": ["K8S-015"],
};

interface Case {
  peer: string;
  topic: string;
  file: string;
  /** The object the verdict is about (kube-linter), else the whole file. */
  object?: string;
  expectFail: boolean;
  rules: string[];
}

function args(): { mirrors: string; cache: string; json: boolean } {
  const a = process.argv.slice(2);
  const get = (flag: string) => {
    const i = a.indexOf(flag);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const cacheBase = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return { mirrors: get("--mirrors") ?? "/work/.mirror", cache: get("--cache") ?? join(cacheBase, "portcullis-library-compare"), json: a.includes("--json") };
}

function git(repo: string, ...a: string[]): string {
  return execFileSync("git", ["--git-dir", repo, ...a], { encoding: "utf8", maxBuffer: 64 << 20 });
}

/** Copy one mirrored file into the cache; returns the cache path. */
function fetchFile(repo: string, path: string, cache: string, peer: string): string {
  const out = join(cache, peer, path);
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, git(repo, "show", `HEAD:${path}`));
  }
  return out;
}

function polarisCases(repo: string, cache: string): Case[] {
  const out: Case[] = [];
  for (const path of git(repo, "ls-tree", "-r", "--name-only", "HEAD", "test/checks").split("\n")) {
    const m = /^test\/checks\/([^/]+)\/(success|failure)[^/]*\.ya?ml$/.exec(path);
    if (!m || !POLARIS[m[1]]) continue;
    out.push({ peer: "polaris", topic: m[1], file: fetchFile(repo, path, cache, "polaris"), expectFail: m[2] === "failure", rules: POLARIS[m[1]] });
  }
  return out;
}

function kubeScoreCases(repo: string, cache: string): Case[] {
  const out: Case[] = [];
  const tests = git(repo, "ls-tree", "--name-only", "HEAD", "score/").split("\n").filter((f) => f.endsWith("_test.go"));
  const call = /testExpectedScore\(t, "([^"]+)", "([^"]+)", scorecard\.Grade([A-Za-z]+)\)/g;
  for (const t of tests) {
    for (const m of git(repo, "show", `HEAD:${t}`).matchAll(call)) {
      const rules = KUBE_SCORE[m[2]];
      if (!rules) continue;
      const file = fetchFile(repo, `score/testdata/${m[1]}`, cache, "kube-score");
      out.push({ peer: "kube-score", topic: m[2], file, expectFail: m[3] === "Critical" || m[3] === "Warning", rules });
    }
  }
  return out;
}

function kubeLinterCases(repo: string, cache: string): Case[] {
  const out: Case[] = [];
  for (const path of git(repo, "ls-tree", "--name-only", "HEAD", "tests/checks/").split("\n")) {
    const m = /^tests\/checks\/(.+)\.ya?ml$/.exec(path);
    if (!m || !KUBE_LINTER[m[1]]) continue;
    const file = fetchFile(repo, path, cache, "kube-linter");
    out.push({ peer: "kube-linter", topic: m[1], file, expectFail: true, rules: KUBE_LINTER[m[1]] });
  }
  return out;
}

interface Verdicts {
  /** rule ids per resource ("Kind/name") of the file. */
  byResource: Map<string, Set<string>>;
  /** every resource of the file. */
  resources: { kind: string; name: string }[];
}

async function evaluate(files: string[]): Promise<Map<string, Verdicts>> {
  const opts: TestOptions = { policy: [join(ROOT, "library")], allNamespaces: true, skipTestFiles: true, library: true, combine: false };
  const loaded = loadPolicies(opts);
  const out = new Map<string, Verdicts>();
  for (const file of files) {
    let configs;
    try {
      configs = readConfigs([file], { ...opts, combine: true });
    } catch {
      continue; // a fixture our YAML reader refuses (e.g. Helm templates): no verdict
    }
    const docs = ((configs[0].documents[0] as { contents: unknown }[]) ?? []).map((d) => d.contents as { kind?: string; metadata?: { name?: string } });
    const resources = docs.filter((d) => d && typeof d === "object" && typeof d.kind === "string").map((d) => ({ kind: d.kind!, name: d.metadata?.name ?? "" }));
    const results = await runChecks(loaded, configs, { ...opts, combine: true });
    const byResource = new Map<string, Set<string>>();
    for (const r of results) {
      for (const f of [...r.failures, ...r.warnings]) {
        const id = String(f.metadata?.id ?? "");
        const res = String(f.metadata?.resource ?? "");
        if (!byResource.has(res)) byResource.set(res, new Set());
        byResource.get(res)!.add(id);
      }
    }
    out.set(file, { byResource, resources });
  }
  return out;
}

async function main(): Promise<void> {
  const o = args();
  const repos = {
    polaris: join(o.mirrors, "FairwindsOps+polaris/repo"),
    "kube-score": join(o.mirrors, "zegl+kube-score/repo"),
    "kube-linter": join(o.mirrors, "stackrox+kube-linter/repo"),
  };
  const cases: Case[] = [];
  for (const [peer, repo] of Object.entries(repos)) {
    if (!existsSync(repo)) {
      process.stderr.write(`library-compare: ${repo} is missing (fetch github:${peer === "polaris" ? "FairwindsOps/polaris" : peer === "kube-score" ? "zegl/kube-score" : "stackrox/kube-linter"}); skipped\n`);
      continue;
    }
    if (peer === "polaris") cases.push(...polarisCases(repo, o.cache));
    if (peer === "kube-score") cases.push(...kubeScoreCases(repo, o.cache));
    if (peer === "kube-linter") cases.push(...kubeLinterCases(repo, o.cache));
  }
  const verdicts = await evaluate([...new Set(cases.map((c) => c.file))]);
  // kube-linter: one case per object of the file (dont-fire* must pass, the others fail).
  const expanded: (Case & { got: boolean | undefined })[] = [];
  for (const c of cases) {
    const v = verdicts.get(c.file);
    if (c.peer === "kube-linter") {
      for (const r of v?.resources ?? []) {
        const key = `${r.kind}/${r.name}`;
        const got = [...(v!.byResource.get(key) ?? [])].some((id) => c.rules.includes(id));
        expanded.push({ ...c, object: key, expectFail: !r.name.startsWith("dont-fire"), got });
      }
      continue;
    }
    const got = v ? [...v.byResource.values()].some((ids) => [...ids].some((id) => c.rules.includes(id))) : undefined;
    expanded.push({ ...c, got });
  }
  const topics = new Map<string, { agree: number; total: number; disagreements: string[] }>();
  for (const c of expanded) {
    if (c.got === undefined) continue;
    const k = `${c.peer}\t${c.topic}\t${c.rules.join(",")}`;
    if (!topics.has(k)) topics.set(k, { agree: 0, total: 0, disagreements: [] });
    const t = topics.get(k)!;
    t.total++;
    if (c.got === c.expectFail) t.agree++;
    else t.disagreements.push(`${c.file.replace(o.cache + "/", "")}${c.object ? ` ${c.object}` : ""}: peer ${c.expectFail ? "fails" : "passes"}, library ${c.got ? "fails" : "passes"}`);
  }
  if (o.json) {
    process.stdout.write(JSON.stringify([...topics].map(([k, v]) => ({ key: k, ...v })), null, 1) + "\n");
    return;
  }
  let agree = 0;
  let total = 0;
  for (const [k, t] of [...topics].sort()) {
    const [peer, topic, rules] = k.split("\t");
    agree += t.agree;
    total += t.total;
    process.stdout.write(`${peer}\t${topic}\t${rules}\t${t.agree}/${t.total}\n`);
    for (const d of t.disagreements) process.stdout.write(`    ${d}\n`);
  }
  process.stdout.write(`total\t${agree}/${total} fixtures agree (${((100 * agree) / Math.max(total, 1)).toFixed(1)} %)\n`);
}

main().catch((e) => {
  process.stderr.write(`library-compare: ${(e as Error).message}\n`);
  process.exit(1);
});
