// A real Kubernetes API server for end-to-end tests (../shared/kube: kube-apiserver v1.34.3 +
// etcd, started on loopback by start-apiserver.sh), and kubectl against it. `KUBE_MISSING` says
// why a test must skip ("" when everything is there).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const KUBE_DIR = join(ROOT, "..", "shared", "kube");
const START = join(KUBE_DIR, "start-apiserver.sh");

export function which(cmd: string): boolean {
  return (process.env.PATH ?? "").split(":").some((d) => existsSync(join(d, cmd)));
}

export const KUBE_MISSING = !existsSync(START) ? `no API server at ${KUBE_DIR}` : !which("etcd") ? "etcd is not installed (apt-get install etcd-server)" : !which("kubectl") ? "kubectl is not installed" : "";

export interface Ran {
  code: number;
  out: string;
  err: string;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 120000 }, (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM, then SIGKILL whatever is still running after 15 s (the API server drains slowly). */
export async function stopAll(pids: number[]): Promise<void> {
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGTERM");
  for (let i = 0; i < 150 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
}

export interface Kube {
  /** KUBECONFIG, KUBE_APISERVER_URL, KUBE_TOKEN, KUBE_PIDS. */
  env: NodeJS.ProcessEnv;
  kubectl(args: string[], input?: string): Promise<Ran>;
  stop(): Promise<void>;
}

/** Start etcd and kube-apiserver with their files in `dir` (extra flags: KUBE_APISERVER_EXTRA_ARGS). */
export async function startKube(dir: string, port: number, extraArgs = ""): Promise<Kube> {
  const started = await run("bash", [START, dir, String(port)], extraArgs ? { KUBE_APISERVER_EXTRA_ARGS: extraArgs } : {});
  if (started.code !== 0) throw new Error(`start-apiserver.sh failed (${started.code}): ${started.err}`);
  const env: NodeJS.ProcessEnv = {};
  for (const m of started.out.matchAll(/(\w+)='([^']*)'/g)) env[m[1]] = m[2];
  return {
    env,
    kubectl: (args, input) => run("kubectl", args, env, input),
    stop: () => stopAll((env.KUBE_PIDS ?? "").split(" ").filter(Boolean).map(Number)),
  };
}
