// Writes N Deployments of realistic shape (~600 bytes each) as one multi-document YAML file,
// for measuring the built-in library's speed on large inputs:
//
//   node --import tsx scripts/library-bigfile.ts 84981 /tmp/big.yaml
//   /usr/bin/time -v portcullis test /tmp/big.yaml
//
// Like most real manifests checked without settings, every Deployment has a few findings (required
// labels, service account, spread, ...); every tenth also uses the latest tag or lacks probes.

import { createWriteStream } from "node:fs";

const MAX = 10_000_000;

function deployment(i: number): string {
  const name = `svc-${i}`;
  const ns = `team-${i % 97}`;
  const tag = i % 10 === 3 ? "latest" : `1.${i % 40}.${i % 7}`;
  const probes =
    i % 10 === 7
      ? ""
      : `          livenessProbe: {tcpSocket: {port: 8080}}
          readinessProbe: {tcpSocket: {port: 8080}}
`;
  return `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
  labels: {app: ${name}, owner: team-${i % 97}}
spec:
  replicas: ${2 + (i % 3)}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: app
          image: registry.k8s.io/app:${tag}
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 256Mi}}
${probes}`;
}

async function main(): Promise<void> {
  const [nText, out] = process.argv.slice(2);
  const n = Number(nText);
  if (!Number.isInteger(n) || n < 1 || n > MAX || !out) {
    process.stderr.write(`usage: library-bigfile.ts N OUT.yaml   (1 <= N <= ${MAX})\n`);
    process.exit(2);
  }
  const w = createWriteStream(out);
  for (let i = 0; i < n; i++) {
    if (!w.write(deployment(i))) await new Promise((r) => w.once("drain", r));
  }
  await new Promise<void>((r, j) => w.end((e?: Error | null) => (e ? j(e) : r())));
}

main().catch((e) => {
  process.stderr.write(`library-bigfile: ${(e as Error).message}\n`);
  process.exit(1);
});
