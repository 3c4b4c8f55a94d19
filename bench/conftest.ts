// `portcullis test` throughput: files per second over 1,000 generated Kubernetes manifests
// (Deployments, Services, ConfigMaps, CronJobs, some multi-document), checked with the built-in
// library when it exists (else examples/kubernetes/policy), then the same run with conftest when
// it is installed, and the ratio.
//   node --import tsx bench/conftest.ts            (BENCH_FILES=n to change the count)
// Portcullis runs in process (after a warm-up run); conftest as a command (its start-up is a few
// milliseconds). Portcullis's own process start-up is reported separately.

import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { runTest } from "../src/cli/test.ts";
import { LIBRARY_DIR } from "../src/conftest/library.ts";
import { findConftest } from "../test/formats/conftest.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FILES = Number(process.env.BENCH_FILES ?? 1000);

function manifest(i: number): string {
  const name = `app-${i}`;
  const image = i % 7 === 0 ? "nginx:latest" : `registry.example.com/team-${i % 13}/${name}:1.${i % 10}.0`;
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: team-${i % 13}
  labels:
    app.kubernetes.io/name: ${name}
    app.kubernetes.io/instance: ${name}-prod
    app.kubernetes.io/version: "1.${i % 10}.0"
    owner: team-${i % 13}
spec:
  replicas: ${1 + (i % 4)}
  selector:
    matchLabels:
      app.kubernetes.io/name: ${name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${name}
    spec:
      containers:
        - name: main
          image: ${image}
          ports:
            - containerPort: ${8000 + (i % 100)}
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              cpu: 500m
${i % 5 === 0 ? "" : "              memory: 256Mi\n"}          securityContext:
            privileged: ${i % 11 === 0}
            runAsNonRoot: ${i % 3 !== 0}
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
`;
  switch (i % 4) {
    case 0:
      return deployment;
    case 1:
      return `${deployment}---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: team-${i % 13}
spec:
  type: ${i % 8 === 1 ? "NodePort" : "ClusterIP"}
  selector:
    app.kubernetes.io/name: ${name}
  ports:
    - port: 80
      targetPort: ${8000 + (i % 100)}
`;
    case 2:
      return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}-config
  namespace: team-${i % 13}
data:
  LOG_LEVEL: info
  FEATURE_X: "${i % 2 === 0}"
`;
    default:
      return `apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${name}-job
  namespace: team-${i % 13}
spec:
  schedule: "*/15 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: job
              image: ${image}
`;
  }
}

const dir = mkdtempSync(join(tmpdir(), "portcullis-bench-"));
const inputs = join(dir, "manifests");
mkdirSync(inputs);
for (let i = 0; i < FILES; i++) writeFileSync(join(inputs, `m${String(i).padStart(4, "0")}.yaml`), manifest(i));

const library = existsSync(LIBRARY_DIR);
const examplePolicy = join(ROOT, "examples/kubernetes/policy");
console.log(`${FILES} manifests; policies: ${library ? `built-in library (${LIBRARY_DIR})` : "examples/kubernetes/policy"}`);

// Portcullis, in process, in a directory without ./policy (so the library is the default).
const cwd = process.cwd();
process.chdir(dir);
let out = "";
const sink = { out: (s: string) => void (out += s), err: () => {} };
const flags = library ? { output: "json" } : { output: "json", policy: [examplePolicy] };
await runTest([inputs], { flags, env: {} }, sink); // warm-up (JIT, module loading)
out = "";
const t0 = process.hrtime.bigint();
const code = await runTest([inputs], { flags, env: {} }, sink);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.chdir(cwd);
const ours = JSON.parse(out) as { failures?: unknown[]; warnings?: unknown[] }[];
const count = (k: "failures" | "warnings") => ours.reduce((n, r) => n + (r[k]?.length ?? 0), 0);
console.log(`portcullis test: ${ms.toFixed(0)} ms, ${((FILES / ms) * 1000).toFixed(0)} files/s (exit ${code}; ${count("failures")} failures, ${count("warnings")} warnings)`);

const s0 = process.hrtime.bigint();
spawnSync(process.execPath, [join(ROOT, "bin/portcullis.js"), "--help"]);
console.log(`portcullis process start-up: ${(Number(process.hrtime.bigint() - s0) / 1e6).toFixed(0)} ms`);

const bin = findConftest();
if (bin) {
  const args = ["test", "-o", "json", ...(library ? ["-p", LIBRARY_DIR, "--all-namespaces"] : ["-p", examplePolicy]), inputs];
  spawnSync(bin, args, { cwd: dir, maxBuffer: 1 << 30 }); // warm the file cache
  const c0 = process.hrtime.bigint();
  const r = spawnSync(bin, args, { cwd: dir, encoding: "utf8", maxBuffer: 1 << 30 });
  const cms = Number(process.hrtime.bigint() - c0) / 1e6;
  const theirs = JSON.parse(r.stdout) as { failures?: unknown[]; warnings?: unknown[] }[];
  const tc = (k: "failures" | "warnings") => theirs.reduce((n, x) => n + (x[k]?.length ?? 0), 0);
  console.log(`conftest test:   ${cms.toFixed(0)} ms, ${((FILES / cms) * 1000).toFixed(0)} files/s (exit ${r.status}; ${tc("failures")} failures, ${tc("warnings")} warnings)`);
  console.log(`ratio (portcullis files/s ÷ conftest files/s): ${(cms / ms).toFixed(2)}`);
} else {
  console.log("conftest not installed: no comparison");
}
rmSync(dir, { recursive: true, force: true });
