// Templates, constraints and AdmissionReviews for the webhook tests (written for these tests).
import type { Obj } from "../../src/gatekeeper/yaml.ts";
import { emptyObjects, type GatekeeperObjects } from "../../src/gatekeeper/state.ts";

export const needLabels: Obj = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8sneedlabels" },
  spec: {
    crd: { spec: { names: { kind: "K8sNeedLabels" }, validation: { openAPIV3Schema: { type: "object", properties: { labels: { type: "array", items: { type: "string" } } } } } } },
    targets: [
      {
        target: "admission.k8s.gatekeeper.sh",
        rego: `package k8sneedlabels
violation[{"msg": msg, "details": {"missing": missing}}] {
  provided := {l | input.review.object.metadata.labels[l]}
  required := {l | l := input.parameters.labels[_]}
  missing := required - provided
  count(missing) > 0
  msg := sprintf("you must provide labels: %v", [missing])
}`,
      },
    ],
  },
};

export const noLatest: Obj = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8snolatest" },
  spec: {
    crd: { spec: { names: { kind: "K8sNoLatest" } } },
    targets: [
      {
        target: "admission.k8s.gatekeeper.sh",
        rego: `package k8snolatest
violation[{"msg": msg}] {
  c := input.review.object.spec.containers[_]
  endswith(c.image, ":latest")
  msg := sprintf("container <%v> uses the latest tag", [c.name])
}`,
      },
    ],
  },
};

/** A template whose evaluation fails at run time (conflicting values). */
export const boom: Obj = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8sboom" },
  spec: {
    crd: { spec: { names: { kind: "K8sBoom" } } },
    targets: [
      {
        target: "admission.k8s.gatekeeper.sh",
        rego: `package k8sboom
x = 1 { true }
x = 2 { true }
violation[{"msg": sprintf("x is %v", [x])}] { true }`,
      },
    ],
  },
};

export function constraint(kind: string, name: string, spec: Obj = {}): Obj {
  return { apiVersion: "constraints.gatekeeper.sh/v1beta1", kind, metadata: { name }, spec };
}

export function objects(over: Partial<GatekeeperObjects> = {}): GatekeeperObjects {
  return { ...emptyObjects(), templates: [needLabels, noLatest, boom], ...over };
}

export function pod(name: string, ns: string, image: string, labels: Obj = {}): Obj {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns, labels }, spec: { containers: [{ name: "app", image }] } };
}

export function namespace(name: string, labels: Obj = {}): Obj {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

let seq = 0;
/** An AdmissionReview as the API server sends it. */
export function review(object: Obj | null, opts: { operation?: string; oldObject?: Obj; username?: string; dryRun?: boolean; apiVersion?: string } = {}): Obj {
  const o = object ?? opts.oldObject!;
  const [g, v] = String(o.apiVersion).includes("/") ? String(o.apiVersion).split("/") : ["", String(o.apiVersion)];
  return {
    apiVersion: opts.apiVersion ?? "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `uid-${++seq}`,
      kind: { group: g, version: v, kind: o.kind },
      resource: { group: g, version: v, resource: `${String(o.kind).toLowerCase()}s` },
      name: o.metadata?.name,
      ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
      operation: opts.operation ?? "CREATE",
      userInfo: { username: opts.username ?? "kubernetes-admin", groups: ["system:masters", "system:authenticated"] },
      object,
      oldObject: opts.oldObject ?? null,
      dryRun: opts.dryRun ?? false,
    },
  };
}
