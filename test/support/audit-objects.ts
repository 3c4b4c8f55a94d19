// Generated cluster objects for audit tests and the scale script: Namespaces, Pods,
// Deployments and ConfigMaps, made on demand page by page (a GeneratedLister holds none of
// them), and the count of violations the test templates must find.
import type { Lister, GVK, ListOptions, ListPage } from "../../src/gatekeeper/audit/lister.ts";

type Obj = Record<string, any>;

export const GEN_KINDS: GVK[] = [
  { group: "", version: "v1", kind: "Namespace" },
  { group: "", version: "v1", kind: "Pod" },
  { group: "apps", version: "v1", kind: "Deployment" },
  { group: "", version: "v1", kind: "ConfigMap" },
];

/** How many objects of each kind `total` objects are: 1 Namespace per 50 objects, the rest split between Pods, Deployments and ConfigMaps. */
export function genCounts(total: number): Record<string, number> {
  const ns = Math.max(1, Math.floor(total / 50));
  const rest = total - ns;
  const pods = Math.ceil(rest / 3);
  const deps = Math.ceil((rest - pods) / 2);
  return { Namespace: ns, Pod: pods, Deployment: deps, ConfigMap: rest - pods - deps };
}

const pad = (i: number) => String(i).padStart(6, "0");

function container(i: number): Obj {
  const c: Obj = { name: "app", image: i % 4 === 0 ? `docker.io/library/nginx:${i % 7}` : `registry.example.com/team/app:${i % 13}` };
  if (i % 5 !== 0) c.resources = { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "100m", memory: "64Mi" } };
  return c;
}

/** The namespace (index) of namespaced object i. */
export const nsIndex = (i: number, namespaces: number) => Math.floor(i / 3) % namespaces;

/** Object number i of a kind (names sort in generation order, as the API server lists them). */
export function genObject(kind: string, i: number, namespaces: number): Obj {
  const labels: Obj = i % 3 === 0 ? { app: `a${i % 17}` } : { app: `a${i % 17}`, owner: `team-${i % 9}` };
  const namespace = `ns-${pad(nsIndex(i, namespaces))}`;
  switch (kind) {
    case "Namespace":
      return { apiVersion: "v1", kind: "Namespace", metadata: { name: `ns-${pad(i)}`, labels: i % 4 === 0 ? { env: "dev" } : { env: "prod", owner: `team-${i % 9}` } } };
    case "Pod":
      return { apiVersion: "v1", kind: "Pod", metadata: { name: `pod-${pad(i)}`, namespace, labels }, spec: { containers: [container(i)] } };
    case "Deployment":
      return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: `deploy-${pad(i)}`, namespace, labels },
        spec: { replicas: 1 + (i % 3), selector: { matchLabels: { app: labels.app } }, template: { metadata: { labels: { app: labels.app } }, spec: { containers: [container(i)] } } },
      };
    default:
      return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${pad(i)}`, namespace, labels }, data: { key: "x".repeat(200 + (i % 300)) } };
  }
}

/** Lists generated objects without keeping them. */
export class GeneratedLister implements Lister {
  readonly counts: Record<string, number>;
  constructor(readonly total: number) {
    this.counts = genCounts(total);
  }
  async kinds(): Promise<GVK[]> {
    return GEN_KINDS;
  }
  async list(gvk: GVK, opts: ListOptions): Promise<ListPage> {
    const n = this.counts[gvk.kind] ?? 0;
    const start = opts.continue ? Number(opts.continue) : 0;
    const end = opts.limit > 0 ? Math.min(n, start + opts.limit) : n;
    const items: Obj[] = [];
    for (let i = start; i < end; i++) {
      const o = genObject(gvk.kind, i, this.counts.Namespace);
      // the API server leaves apiVersion and kind out of list items
      delete o.apiVersion;
      delete o.kind;
      items.push(o);
    }
    return { items, continue: end < n ? String(end) : "" };
  }
  async namespace(name: string): Promise<Obj | null> {
    const m = /^ns-(\d+)$/.exec(name);
    if (!m || Number(m[1]) >= this.counts.Namespace) return null;
    return genObject("Namespace", Number(m[1]), this.counts.Namespace);
  }
}

/** Violations of the test policy (testPolicy) among `total` generated objects, per constraint. */
export function expectedViolations(total: number): Record<string, number> {
  const c = genCounts(total);
  let owner = 0;
  let ownerNs = 0;
  let limits = 0;
  let repos = 0;
  for (const kind of ["Pod", "Deployment", "ConfigMap"]) {
    for (let i = 0; i < c[kind]; i++) {
      if (i % 3 === 0) owner++;
      if (kind !== "ConfigMap") {
        if (i % 5 === 0) limits++;
        if (i % 4 === 0 && nsIndex(i, c.Namespace) % 4 !== 0) repos++;
      }
    }
  }
  for (let i = 0; i < c.Namespace; i++) if (i % 4 === 0) ownerNs++;
  return { "must-have-owner": owner, "ns-must-have-owner": ownerNs, "container-must-have-limits": limits, "allowed-repos": repos };
}

const tmpl = (kind: string, rego: string, schema: Obj = { type: "object", "x-kubernetes-preserve-unknown-fields": true }) => ({
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: kind.toLowerCase() },
  spec: { crd: { spec: { names: { kind }, validation: { openAPIV3Schema: schema } } }, targets: [{ target: "admission.k8s.gatekeeper.sh", rego }] },
});

/** Templates and constraints whose violations expectedViolations() counts. */
export function testPolicy(): Obj[] {
  return [
    tmpl(
      "TestRequiredLabels",
      `package testrequiredlabels
violation[{"msg": msg, "details": {"missing": missing}}] {
  provided := {l | input.review.object.metadata.labels[l]}
  missing := {l | l := input.parameters.labels[_]} - provided
  count(missing) > 0
  msg := sprintf("missing labels: %v", [missing])
}
`,
    ),
    tmpl(
      "TestContainerLimits",
      `package testcontainerlimits
containers[c] { c := input.review.object.spec.containers[_] }
containers[c] { c := input.review.object.spec.template.spec.containers[_] }
violation[{"msg": msg}] {
  c := containers[_]
  not c.resources.limits.memory
  msg := sprintf("container <%v> has no memory limit", [c.name])
}
`,
    ),
    tmpl(
      "TestAllowedRepos",
      `package testallowedrepos
containers[c] { c := input.review.object.spec.containers[_] }
containers[c] { c := input.review.object.spec.template.spec.containers[_] }
violation[{"msg": msg}] {
  c := containers[_]
  not startswith(c.image, input.parameters.repo)
  msg := sprintf("container <%v> has an invalid image repo <%v>", [c.name, c.image])
}
`,
    ),
    {
      apiVersion: "constraints.gatekeeper.sh/v1beta1",
      kind: "TestRequiredLabels",
      metadata: { name: "must-have-owner" },
      spec: { match: { kinds: [{ apiGroups: ["", "apps"], kinds: ["Pod", "Deployment", "ConfigMap"] }] }, parameters: { labels: ["owner"] } },
    },
    {
      apiVersion: "constraints.gatekeeper.sh/v1beta1",
      kind: "TestRequiredLabels",
      metadata: { name: "ns-must-have-owner" },
      spec: { enforcementAction: "dryrun", match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] }, parameters: { labels: ["owner"] } },
    },
    {
      apiVersion: "constraints.gatekeeper.sh/v1beta1",
      kind: "TestContainerLimits",
      metadata: { name: "container-must-have-limits" },
      spec: { enforcementAction: "warn", match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }, { apiGroups: ["apps"], kinds: ["Deployment"] }] } },
    },
    {
      apiVersion: "constraints.gatekeeper.sh/v1beta1",
      kind: "TestAllowedRepos",
      metadata: { name: "allowed-repos" },
      spec: { match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }, { apiGroups: ["apps"], kinds: ["Deployment"] }], namespaceSelector: { matchLabels: { env: "prod" } } }, parameters: { repo: "registry.example.com/" } },
    },
  ];
}
