// Benchmark: reviews per second for every gatekeeper-library template with its sample
// constraints, against a stream of Pods and Deployments.
//
//   node --import tsx bench/gatekeeper.ts [--n 2000] [--library ../shared/gatekeeper-library/library]
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "../src/gatekeeper/client.ts";
import type { Obj } from "../src/gatekeeper/yaml.ts";
import { readManifests } from "../src/gatekeeper/manifestfiles.ts";
import { isTemplate } from "../src/gatekeeper/template.ts";
import { isConstraint } from "../src/gatekeeper/constraint.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const N = Number(arg("n", "2000"));
const LIBRARY = path.resolve(arg("library", path.join(here, "../../shared/gatekeeper-library/library")));
if (!fs.existsSync(LIBRARY)) {
  console.error(`no gatekeeper library at ${LIBRARY} (pass --library DIR)`);
  process.exit(2);
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

const client = new Client();
let templates = 0,
  constraints = 0;
const skipped: string[] = [];
const t0 = performance.now();
const files = walk(LIBRARY).sort();
for (const f of files.filter((f) => path.basename(f) === "template.yaml")) {
  for (const o of readManifests(f)) {
    if (!isTemplate(o)) continue;
    try {
      client.addTemplate(o, f);
      templates++;
    } catch (e) {
      skipped.push(`${path.relative(LIBRARY, f)}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
}
for (const f of files.filter((f) => /\/samples\//.test(f) && path.basename(f).startsWith("constraint"))) {
  for (const o of readManifests(f)) {
    if (!isConstraint(o) || !client.templates.has(o.kind)) continue;
    try {
      client.addConstraint(o, f);
      constraints++;
    } catch (e) {
      skipped.push(`${path.relative(LIBRARY, f)}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
}
const loadMs = performance.now() - t0;

// Namespaces for namespaceSelector constraints.
const NAMESPACES = ["default", "prod", "dev", "kube-system"];
client.setInventory(NAMESPACES.map((n, i) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: n, labels: { env: i % 2 ? "dev" : "prod", owner: "team" } } })));

function container(i: number): Obj {
  const images = ["nginx", "nginx:latest", "openpolicyagent/opa:0.9.2", "gcr.io/project/app@sha256:abc", "registry.example.com/app:1.2"];
  const c: Obj = {
    name: `c${i}`,
    image: images[i % images.length],
    ports: [{ containerPort: 8080 + (i % 3), ...(i % 4 === 0 ? { hostPort: 80 } : {}) }],
  };
  if (i % 2 === 0) c.resources = { limits: { cpu: "500m", memory: "512Mi" }, requests: { cpu: "100m", memory: "128Mi" } };
  if (i % 3 === 0) c.securityContext = { privileged: i % 6 === 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"], add: i % 5 === 0 ? ["NET_ADMIN"] : [] } };
  if (i % 4 === 1) c.livenessProbe = { httpGet: { path: "/", port: 8080 } };
  return c;
}

function podSpec(i: number): Obj {
  return {
    containers: [container(i), container(i + 1)],
    ...(i % 3 === 0 ? { initContainers: [container(i + 2)] } : {}),
    ...(i % 7 === 0 ? { hostNetwork: true, hostPID: true } : {}),
    volumes: [{ name: "v", ...(i % 5 === 0 ? { hostPath: { path: "/var" } } : { emptyDir: {} }) }],
    ...(i % 2 === 0 ? { securityContext: { runAsUser: 1000, fsGroup: 2000, seccompProfile: { type: "RuntimeDefault" } } } : {}),
  };
}

function object(i: number): Obj {
  const ns = NAMESPACES[i % NAMESPACES.length];
  const labels: Obj = { app: `app${i % 10}`, ...(i % 2 ? { owner: "me" } : {}) };
  if (i % 2 === 0) return { apiVersion: "v1", kind: "Pod", metadata: { name: `pod-${i}`, namespace: ns, labels }, spec: podSpec(i) };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: `deploy-${i}`, namespace: ns, labels },
    spec: { replicas: 1 + (i % 5), selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec(i) } },
  };
}

const stream = Array.from({ length: N }, (_, i) => object(i));
// Warm up.
for (let i = 0; i < Math.min(100, N); i++) await client.review(stream[i]);
let violations = 0;
const start = performance.now();
let lap = performance.now();
for (let i = 0; i < stream.length; i++) {
  violations += (await client.review(stream[i])).results.length;
  if (process.env.LAPS && (i + 1) % 200 === 0) {
    console.log(`  ${i + 1}: ${((200 * 1000) / (performance.now() - lap)).toFixed(0)} reviews/s`);
    lap = performance.now();
  }
}
const ms = performance.now() - start;
console.log(`gatekeeper bench: ${templates} templates, ${constraints} constraints loaded in ${(loadMs / 1000).toFixed(2)}s${skipped.length ? ` (${skipped.length} skipped)` : ""}`);
for (const s of skipped) console.log(`  skipped ${s}`);
console.log(`${N} reviews (Pods and Deployments) in ${(ms / 1000).toFixed(2)}s: ${((N * 1000) / ms).toFixed(0)} reviews/s, ${(ms / N).toFixed(3)} ms/review, ${violations} violations`);
