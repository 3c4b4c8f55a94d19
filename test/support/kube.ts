// A real Kubernetes API server for end-to-end tests (../shared/kube: kube-apiserver v1.34.3 +
// etcd, started on loopback by start-apiserver.sh), and kubectl against it. Tests call
// `kubeMissing()` for their skip reason and `startKube()` to get a running server.
import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const KUBE_DIR = join(ROOT, "..", "shared", "kube");
const START = join(KUBE_DIR, "start-apiserver.sh");

export function which(cmd: string): boolean {
  return (process.env.PATH ?? "").split(":").some((d) => d && existsSync(join(d, cmd)));
}

/** Why the API server cannot run here ("" when it can). */
export function kubeMissing(): string {
  if (!existsSync(START)) return `no API server at ${KUBE_DIR}`;
  if (!which("etcd")) return "etcd is not installed (apt-get install etcd-server)";
  if (!which("kubectl")) return "kubectl is not installed";
  return "";
}

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string, timeoutMs = 120000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
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

/** SIGTERM, then SIGKILL whatever is still running after graceMs (the API server drains slowly). */
export async function stopAll(pids: number[], graceMs = 15000): Promise<void> {
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGTERM");
  for (let i = 0; i < graceMs / 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
}

/** A free TCP port on loopback (for a webhook, a provider, a controller). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Poll f every pollMs until it gives a truthy value (returned), or fail after ms. */
export async function until<T>(f: () => T | null | false | undefined | Promise<T | null | false | undefined>, what: string, ms = 40000, pollMs = 200): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Three free consecutive ports (API server, etcd client, etcd peer), from a random start. */
async function freePortRun(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const ok = await Promise.all([0, 1, 2].map((d) => portFree(base + d)));
    if (ok.every(Boolean)) return base;
  }
  return 20000 + ((await freePort()) % 20000);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

export interface Kube {
  /** KUBECONFIG, KUBE_APISERVER_URL, KUBE_TOKEN, KUBE_PIDS, for child processes. */
  env: NodeJS.ProcessEnv;
  kubeconfig: string;
  url: string;
  dir: string;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  /**
   * Stops etcd and the API server: SIGTERM, SIGKILL after 3 s; their data (`dir/k`, ~160 MB of
   * etcd files and certificates) is removed, and `dir` too when startKube made it.
   */
  stop(): Promise<void>;
}

/** Start etcd and kube-apiserver (extra flags in `extraArgs`); ready in a few seconds. */
export async function startKube(opts: { extraArgs?: string; dir?: string } = {}): Promise<Kube> {
  const owned = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "portcullis-kube-"));
  const port = await freePortRun();
  const started = await run("bash", [START, join(dir, "k"), String(port)], opts.extraArgs ? { KUBE_APISERVER_EXTRA_ARGS: opts.extraArgs } : {});
  if (started.code !== 0) throw new Error(`start-apiserver.sh failed (${started.code}): ${started.err}`);
  const env: NodeJS.ProcessEnv = {};
  for (const m of started.out.matchAll(/(\w+)='([^']*)'/g)) env[m[1]] = m[2];
  const pids = (env.KUBE_PIDS ?? "").split(" ").filter(Boolean).map(Number);
  let stopped = false;
  return {
    env,
    dir,
    kubeconfig: env.KUBECONFIG!,
    url: env.KUBE_APISERVER_URL!,
    kubectl: (args, input) => run("kubectl", args, env, input),
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll(pids, 3000);
      rmSync(owned ? dir : join(dir, "k"), { recursive: true, force: true });
    },
  };
}
