// Registry credentials where docker, oras, conftest and cosign keep them: the docker config file
// (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) with `auths` entries (base64
// `user:password` in `auth`, or `username`/`password`, or an `identitytoken`), and credential
// helpers (`credHelpers` per registry, else `credsStore`) run as `docker-credential-NAME get|store|erase`.

import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { DOCKER_HUB } from "./reference.ts";

export class CredentialsError extends Error {}

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`; a helper's `<token>` user). */
  identityToken?: string;
}

/** Where a run finds its credentials (the CLI builds one from flags and the environment). */
export interface CredentialSource {
  get(registry: string): Promise<Credential | undefined>;
}

/** Docker's key for Docker Hub in `auths`. */
export const DOCKER_HUB_KEY = "https://index.docker.io/v1/";
/** How long a credential helper may run. */
export const HELPER_TIMEOUT_MS = 30_000;
/** The largest config file read. */
const MAX_CONFIG_BYTES = 4 << 20;

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

/** The docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG && env.DOCKER_CONFIG !== "" ? env.DOCKER_CONFIG : join(env.HOME ?? homedir(), ".docker");
  return join(dir, "config.json");
}

/** The key a registry has in `auths`/`credHelpers` (Docker Hub's is its v1 URL). */
export function configKey(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
}

/** `https://host:port/path` or `host` → `host:port` (how docker matches `auths` keys). */
function normalizeKey(key: string): string {
  let k = key.replace(/^[a-z]+:\/\//i, "");
  const slash = k.indexOf("/");
  if (slash >= 0) k = k.slice(0, slash);
  if (k === "index.docker.io" || k === "registry-1.docker.io") return DOCKER_HUB;
  return k;
}

function readConfig(path: string): DockerConfig {
  if (!existsSync(path)) return {};
  const text = readFileSync(path);
  if (text.length > MAX_CONFIG_BYTES) throw new CredentialsError(`${path}: larger than ${MAX_CONFIG_BYTES} bytes`);
  if (text.toString("utf8").trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text.toString("utf8"));
  } catch (e) {
    throw new CredentialsError(`${path}: invalid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new CredentialsError(`${path}: not a JSON object`);
  return v as DockerConfig;
}

function findEntry<T>(map: Record<string, T> | undefined, registry: string): [string, T] | undefined {
  if (!map) return undefined;
  const want = configKey(registry);
  if (Object.hasOwn(map, want)) return [want, map[want]];
  for (const [k, v] of Object.entries(map)) if (normalizeKey(k) === registry) return [k, v];
  return undefined;
}

/** Runs `docker-credential-NAME ACTION` with `input` on stdin; its stdout, or an error. */
export function runHelper(name: string, action: "get" | "store" | "erase", input: string, timeoutMs = HELPER_TIMEOUT_MS): Promise<{ ok: boolean; out: string }> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return Promise.reject(new CredentialsError(`invalid credential helper name ${JSON.stringify(name)}`));
  const program = `docker-credential-${name}`;
  return new Promise((resolveP, rejectP) => {
    const child = spawn(program, [action], { stdio: ["pipe", "pipe", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    timer.unref();
    const out: Buffer[] = [];
    let size = 0;
    child.stdout.on("data", (b: Buffer) => {
      size += b.length;
      if (size <= 1 << 20) out.push(b);
    });
    child.stderr.on("data", () => {});
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      rejectP(new CredentialsError(e.code === "ENOENT" ? `credential helper ${program} not found in PATH` : `credential helper ${program}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal) return rejectP(new CredentialsError(`credential helper ${program} ${action}: killed by ${signal} (time limit ${timeoutMs} ms)`));
      resolveP({ ok: code === 0, out: Buffer.concat(out).toString("utf8") });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

async function helperGet(helper: string, registry: string): Promise<Credential | undefined> {
  // docker passes the key it stores under: Docker Hub's v1 URL, else the host
  const { ok, out } = await runHelper(helper, "get", configKey(registry));
  if (!ok) {
    if (/credentials not found/i.test(out)) return undefined;
    throw new CredentialsError(`credential helper docker-credential-${helper} get ${configKey(registry)}: ${out.trim() || "failed"}`);
  }
  let v: { Username?: string; Secret?: string };
  try {
    v = JSON.parse(out);
  } catch {
    throw new CredentialsError(`credential helper docker-credential-${helper}: output is not JSON`);
  }
  if (v.Username === "<token>") return { identityToken: v.Secret ?? "" };
  return { username: v.Username ?? "", password: v.Secret ?? "" };
}

/** The credentials of the docker config file (and its helpers). */
export class DockerConfigCredentials implements CredentialSource {
  readonly path: string;
  constructor(path = dockerConfigPath()) {
    this.path = path;
  }

  async get(registry: string): Promise<Credential | undefined> {
    const cfg = readConfig(this.path);
    const helper = findEntry(cfg.credHelpers, registry)?.[1] ?? (cfg.credsStore || undefined);
    if (helper) {
      const c = await helperGet(helper, registry);
      if (c) return c;
    }
    const entry = findEntry(cfg.auths, registry)?.[1];
    if (!entry) return undefined;
    if (entry.identitytoken) return { identityToken: entry.identitytoken };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw new CredentialsError(`${this.path}: auths[${JSON.stringify(configKey(registry))}].auth is not base64 of user:password`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username !== undefined || entry.password !== undefined) return { username: entry.username ?? "", password: entry.password ?? "" };
    return undefined;
  }

  /** Stores a login as docker does: in the registry's helper when one is configured, else base64 in `auths`. Returns where. */
  async store(registry: string, username: string, password: string): Promise<string> {
    const cfg = readConfig(this.path);
    const helper = findEntry(cfg.credHelpers, registry)?.[1] ?? (cfg.credsStore || undefined);
    const key = configKey(registry);
    if (helper) {
      const { ok, out } = await runHelper(helper, "store", JSON.stringify({ ServerURL: key, Username: username, Secret: password }));
      if (!ok) throw new CredentialsError(`credential helper docker-credential-${helper} store: ${out.trim() || "failed"}`);
      // docker leaves an empty entry in auths so that the registry is listed
      cfg.auths = { ...(cfg.auths ?? {}), [key]: {} };
      this.write(cfg);
      return `credential helper docker-credential-${helper}`;
    }
    const existing = findEntry(cfg.auths, registry);
    const auths = { ...(cfg.auths ?? {}) };
    if (existing) delete auths[existing[0]];
    auths[key] = { auth: Buffer.from(`${username}:${password}`, "utf8").toString("base64") };
    cfg.auths = auths;
    this.write(cfg);
    return this.path;
  }

  /** Removes a login; false when there was none. */
  async erase(registry: string): Promise<boolean> {
    const cfg = readConfig(this.path);
    const helper = findEntry(cfg.credHelpers, registry)?.[1] ?? (cfg.credsStore || undefined);
    let removed = false;
    if (helper) {
      const { ok, out } = await runHelper(helper, "erase", configKey(registry));
      if (ok) removed = true;
      else if (!/credentials not found/i.test(out)) throw new CredentialsError(`credential helper docker-credential-${helper} erase: ${out.trim() || "failed"}`);
    }
    const existing = findEntry(cfg.auths, registry);
    if (existing) {
      const auths = { ...(cfg.auths ?? {}) };
      delete auths[existing[0]];
      cfg.auths = auths;
      this.write(cfg);
      removed = true;
    }
    return removed;
  }

  private write(cfg: DockerConfig): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(cfg, null, "\t")}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

/** A fixed credential for one registry (`--username/--password` flags), else another source. */
export class StaticCredentials implements CredentialSource {
  constructor(
    private readonly registry: string,
    private readonly cred: Credential,
    private readonly fallback?: CredentialSource,
  ) {}
  async get(registry: string): Promise<Credential | undefined> {
    if (registry === this.registry) return this.cred;
    return this.fallback?.get(registry);
  }
}
