// Warm-up of a new admission worker: from the moment it is ready, while it has nothing else to do,
// it runs synthetic AdmissionReviews through its snapshot (results discarded), so that V8 has
// compiled the evaluation code by the time real reviews come in numbers. It serves meanwhile: a
// real request waits for one warm-up review at most.
//
// Why: a worker whose code is still interpreted costs several times more per review. With two
// workers and packed dispatch (server/workerpool.ts) the second worker sees few reviews at low
// rates; when the rate rose, its first second built a backlog of 0.1–0.4 s (measured:
// docs/gatekeeper-webhook.md, "Warm-up"). Compiled code is shared by later snapshots of the same
// worker (closures made at the same place share their feedback and optimized code), so only a
// new worker warms up, not a policy change.
//
// The reviews never leave the worker: no external data call is made (`offline`: external_data
// fails as for an undefined provider), nothing is counted or logged, and the time is bounded.

import { admit } from "./webhook.ts";
import type { Snapshot } from "./snapshot.ts";

type Obj = Record<string, unknown>;

/**
 * Default wall-clock budget of a worker's warm-up (ms); 0 turns it off. Measured on the
 * gatekeeper-library set: a fresh worker needs ~500 reviews before its CPU per review settles
 * (5.5 → 3 ms per review in the webhook, one at a time; docs/gatekeeper-webhook.md, "Warm-up").
 */
export const WARMUP_BUDGET_MS = 2000;
/** At most this many rounds (every warm-up review once per round: 9 reviews). */
export const WARMUP_MAX_ROUNDS = 80;
/** A worker that has answered this many real reviews is warm: its warm-up stops. */
export const WARMUP_REAL_REVIEWS = 300;

function container(name: string, image: string, full: boolean): Obj {
  return {
    name,
    image,
    imagePullPolicy: "Always",
    ports: [{ name: "http", containerPort: 8080, protocol: "TCP", ...(full ? { hostPort: 8080 } : {}) }],
    resources: full
      ? { limits: { cpu: "500m", memory: "512Mi", "ephemeral-storage": "1Gi" }, requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "500Mi" } }
      : { limits: { cpu: "1", memory: "1Gi" } },
    securityContext: full
      ? { privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, procMount: "Default", capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] }, seccompProfile: { type: "RuntimeDefault" } }
      : { privileged: true, capabilities: { add: ["SYS_ADMIN"] } },
    ...(full ? { livenessProbe: { httpGet: { path: "/healthz", port: 8080 } }, readinessProbe: { tcpSocket: { port: 8080 } } } : {}),
    volumeMounts: [{ name: "data", mountPath: "/data", readOnly: full }],
    env: [{ name: "MODE", value: "warm" }],
  };
}

function podSpec(full: boolean): Obj {
  return {
    containers: [container("app", full ? "registry.example.com/team/app:1.2.3" : "nginx:latest", full), container("sidecar", full ? "registry.example.com/team/proxy@sha256:0123456789abcdef" : "busybox", !full)],
    initContainers: [container("init", "busybox:1.36", full)],
    volumes: full ? [{ name: "data", emptyDir: {} }, { name: "config", configMap: { name: "cfg" } }] : [{ name: "data", hostPath: { path: "/var/lib/data" } }],
    serviceAccountName: full ? "app" : "default",
    automountServiceAccountToken: !full,
    ...(full ? { securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000, supplementalGroups: [3000], seccompProfile: { type: "RuntimeDefault" } } } : { hostNetwork: true, hostPID: true, hostIPC: true }),
  };
}

function review(uid: string, operation: string, object: Obj, oldObject: Obj | null, resource: { group: string; version: string; kind: string; resource: string }): Obj {
  const meta = object.metadata as Obj;
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: resource.group, version: resource.version, kind: resource.kind },
      resource: { group: resource.group, version: resource.version, resource: resource.resource },
      name: meta.name,
      ...(typeof meta.namespace === "string" ? { namespace: meta.namespace } : {}),
      operation,
      userInfo: { username: "system:portcullis:warmup", groups: ["system:authenticated"] },
      object,
      oldObject,
      dryRun: false,
    },
  };
}

/** The synthetic reviews: Pods (one conforming to most library policies, one violating many), a Deployment, a Service, an Ingress and a Namespace. */
export function warmupReviews(): Obj[] {
  const out: Obj[] = [];
  for (const full of [true, false]) {
    const labels = full ? { app: "warm", owner: "platform", "app.kubernetes.io/name": "warm" } : { app: "warm" };
    const annotations = full ? { "container.apparmor.security.beta.kubernetes.io/app": "runtime/default" } : {};
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: `warmup-${full ? "a" : "b"}`, namespace: "default", labels, annotations }, spec: podSpec(full) };
    out.push(review(`warmup-pod-${full}`, "CREATE", pod, null, { group: "", version: "v1", kind: "Pod", resource: "pods" }));
    const deploy = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: `warmup-${full ? "a" : "b"}`, namespace: "default", labels },
      spec: { replicas: full ? 3 : 1, selector: { matchLabels: labels }, template: { metadata: { labels, annotations }, spec: podSpec(full) } },
    };
    out.push(review(`warmup-deploy-${full}`, full ? "CREATE" : "UPDATE", deploy, full ? null : deploy, { group: "apps", version: "v1", kind: "Deployment", resource: "deployments" }));
    const svc = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `warmup-${full ? "a" : "b"}`, namespace: "default", labels },
      spec: { type: full ? "ClusterIP" : "LoadBalancer", selector: labels, ports: [{ port: 80, targetPort: 8080, ...(full ? {} : { nodePort: 30080 }) }], ...(full ? {} : { externalIPs: ["203.0.113.1"] }) },
    };
    out.push(review(`warmup-svc-${full}`, "CREATE", svc, null, { group: "", version: "v1", kind: "Service", resource: "services" }));
    const ingress = {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: `warmup-${full ? "a" : "b"}`, namespace: "default", labels },
      spec: { ...(full ? { tls: [{ hosts: ["warm.example.com"], secretName: "tls" }] } : {}), rules: [{ host: "warm.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "warmup", port: { number: 80 } } } }] } }] },
    };
    out.push(review(`warmup-ingress-${full}`, "CREATE", ingress, null, { group: "networking.k8s.io", version: "v1", kind: "Ingress", resource: "ingresses" }));
  }
  const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "portcullis-warmup", labels: { owner: "platform" } } };
  out.push(review("warmup-ns", "CREATE", ns, null, { group: "", version: "v1", kind: "Namespace", resource: "namespaces" }));
  return out;
}

export interface WarmUpOptions {
  /** Let the event loop run between two reviews (a worker that serves meanwhile: its requests wait for one warm-up review at most). */
  yieldBetween?: boolean;
  /** Checked before each review: true ends the warm-up (real reviews have warmed the code by then). */
  stop?: () => boolean;
}

/**
 * Run the warm-up reviews against the snapshot (`snap`, or a function giving the current one),
 * round after round, until `budgetMs` of wall time has passed, WARMUP_MAX_ROUNDS rounds ran or
 * `stop` says so. Never throws: warm-up is an optimisation, and a review that fails here fails
 * the same way for real (where it is answered and logged).
 */
export async function warmUp(snap: Snapshot | (() => Snapshot), budgetMs: number = WARMUP_BUDGET_MS, opts: WarmUpOptions = {}): Promise<{ rounds: number; reviews: number; ms: number }> {
  const start = performance.now();
  let reviews = 0;
  let rounds = 0;
  if (!(budgetMs > 0)) return { rounds, reviews, ms: 0 };
  const current = typeof snap === "function" ? snap : () => snap;
  const bodies = warmupReviews();
  const deadline = Date.now() + budgetMs;
  try {
    for (; rounds < WARMUP_MAX_ROUNDS && performance.now() - start < budgetMs; rounds++) {
      for (const body of bodies) {
        if (opts.stop?.()) return { rounds, reviews, ms: performance.now() - start };
        await admit(current(), body, { serviceAccount: "" }, { deadline, offline: true });
        reviews++;
        if (opts.yieldBetween) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  } catch {
    // the budget's deadline (a DeadlineError), or a review that fails: the warm-up ends
  }
  return { rounds, reviews, ms: performance.now() - start };
}
