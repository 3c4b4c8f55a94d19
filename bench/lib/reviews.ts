// The mixed Pod/Deployment AdmissionReviews both admission benches send (bench/gatekeeper-webhook.ts
// over HTTPS, bench/cel-admit.ts in process): review i is the same document in both.
type Obj = Record<string, unknown>;

/** The namespaces the reviews are spread over (the benches create them with labels). */
export const NAMESPACES = ["default", "prod", "dev", "shop"];

function container(i: number): Obj {
  const images = ["nginx", "nginx:latest", "openpolicyagent/opa:0.9.2", "gcr.io/project/app@sha256:abc", "registry.example.com/app:1.2"];
  const c: Obj = { name: `c${i}`, image: images[i % images.length], ports: [{ containerPort: 8080 + (i % 3), ...(i % 4 === 0 ? { hostPort: 80 } : {}) }] };
  if (i % 2 === 0) c.resources = { limits: { cpu: "500m", memory: "512Mi" }, requests: { cpu: "100m", memory: "128Mi" } };
  if (i % 3 === 0) c.securityContext = { privileged: i % 6 === 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } };
  if (i % 4 === 1) c.livenessProbe = { httpGet: { path: "/", port: 8080 } };
  return c;
}
function podSpec(i: number): Obj {
  return {
    containers: [container(i), container(i + 1)],
    ...(i % 7 === 0 ? { hostNetwork: true } : {}),
    volumes: [{ name: "v", ...(i % 5 === 0 ? { hostPath: { path: "/var" } } : { emptyDir: {} }) }],
    ...(i % 2 === 0 ? { securityContext: { runAsUser: 1000, fsGroup: 2000, seccompProfile: { type: "RuntimeDefault" } } } : {}),
  };
}
/** The AdmissionReview (v1) text of review i: even i a Pod, odd i a Deployment. */
export function reviewBody(i: number): string {
  const ns = NAMESPACES[i % NAMESPACES.length];
  const labels: Obj = { app: `app${i % 10}`, ...(i % 2 ? { owner: "me" } : {}) };
  const pod = i % 2 === 0;
  const object = pod
    ? { apiVersion: "v1", kind: "Pod", metadata: { name: `pod-${i}`, namespace: ns, labels }, spec: podSpec(i) }
    : { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: `deploy-${i}`, namespace: ns, labels }, spec: { replicas: 1 + (i % 5), selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec(i) } } };
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `bench-${i}`,
      kind: pod ? { group: "", version: "v1", kind: "Pod" } : { group: "apps", version: "v1", kind: "Deployment" },
      resource: pod ? { group: "", version: "v1", resource: "pods" } : { group: "apps", version: "v1", resource: "deployments" },
      name: object.metadata.name,
      namespace: ns,
      operation: "CREATE",
      userInfo: { username: "bench", groups: ["system:authenticated"] },
      object,
      oldObject: null,
      dryRun: false,
    },
  });
}
