// Where the API server is and how to authenticate to it: a kubeconfig file (`--kubeconfig`,
// then $KUBECONFIG — a list of files merged as kubectl merges them — or ~/.kube/config) or the
// in-cluster service account. Our own small reader (the YAML is read with js-yaml): clusters
// (server, certificate-authority[-data], insecure-skip-tls-verify, tls-server-name), users
// (token, tokenFile, client-certificate[-data], client-key[-data], username/password, exec
// credential plugins), contexts (cluster, user, namespace), current-context. Anything it does
// not understand that would change how we connect (auth-provider, proxy-url, impersonation) is
// refused with a clear error rather than ignored. Token files are re-read as they rotate.

import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { RequestOptions } from "node:https";
import { homedir } from "node:os";
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import type jsyaml from "js-yaml";
import { lazyRequire } from "../lazy.ts";
import { KubeError, errorText } from "./errors.ts";

const yaml = lazyRequire<typeof jsyaml>("js-yaml");

export interface KubeConfigOptions {
  /** Path of a kubeconfig file; without it: in-cluster when running in a Pod, else $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  /** Context to use instead of the file's current-context. */
  context?: string;
  /** Only the in-cluster service account (an error outside a pod). */
  inCluster?: boolean;
}

export interface Connection {
  /** The API server's base URL, without a trailing slash. */
  server: string;
  /** The namespace of the context (in a Pod: the service account's namespace), "default" otherwise. */
  namespace: string;
  /** TLS material and headers (Authorization) for one request; tokens are re-read as they rotate. */
  options(): Promise<RequestOptions>;
  /** Where the configuration came from, for logs. */
  source: string;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** Largest kubeconfig, token or certificate file read. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Token files are re-read at most this often (client-go: one minute). */
const TOKEN_FILE_TTL_MS = 10_000;
/** An exec credential plugin's deadline and output limit. */
const EXEC_TIMEOUT_MS = 30_000;
const EXEC_MAX_OUTPUT = 1024 * 1024;

type Map = Record<string, unknown>;
const isMap = (v: unknown): v is Map => typeof v === "object" && v !== null && !Array.isArray(v);

function readLimited(path: string): Buffer {
  const st = statSync(path);
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
  if (st.size > MAX_FILE_BYTES) throw new Error(`${path}: larger than ${MAX_FILE_BYTES} bytes`);
  return readFileSync(path);
}

function str(m: Map, key: string, where: string): string | undefined {
  const v = m[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new Error(`${where}: ${key} must be a string`);
  return v;
}

function base64(m: Map, key: string, where: string): Buffer | undefined {
  const v = str(m, key, where);
  if (v === undefined) return undefined;
  const s = v.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new Error(`${where}: ${key} is not base64`);
  return Buffer.from(s, "base64");
}

/** One kubeconfig file: its named entries, with relative paths resolved against the file's directory. */
interface ParsedFile {
  clusters: [string, Map][];
  users: [string, Map][];
  contexts: [string, Map][];
  currentContext?: string;
}

function parseFile(path: string): ParsedFile {
  const text = readLimited(path).toString("utf8");
  let doc: unknown;
  try {
    doc = yaml().load(text, { filename: path, json: true });
  } catch (e) {
    throw new Error(`not valid YAML: ${errorText(e).split("\n")[0]}`);
  }
  if (doc === undefined || doc === null) return { clusters: [], users: [], contexts: [] };
  if (!isMap(doc)) throw new Error("not a kubeconfig (expected a mapping)");
  const dir = dirname(resolvePath(path));
  const named = (key: string, inner: string, pathKeys: string[]): [string, Map][] => {
    const list = doc[key];
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) throw new Error(`${key} must be a list`);
    return list.map((e, i) => {
      if (!isMap(e) || typeof e.name !== "string" || e.name === "") throw new Error(`${key}[${i}]: an entry needs a name`);
      const body = e[inner] ?? {};
      if (!isMap(body)) throw new Error(`${key}[${i}] ${JSON.stringify(e.name)}: ${inner} must be a mapping`);
      const copy: Map = { ...body };
      for (const k of pathKeys) {
        const p = copy[k];
        if (typeof p === "string" && p !== "" && !isAbsolute(p)) copy[k] = resolvePath(dir, p);
      }
      return [e.name, copy];
    });
  };
  const cc = doc["current-context"];
  if (cc !== undefined && cc !== null && typeof cc !== "string") throw new Error("current-context must be a string");
  return {
    clusters: named("clusters", "cluster", ["certificate-authority"]),
    users: named("users", "user", ["client-certificate", "client-key", "tokenFile"]),
    contexts: named("contexts", "context", []),
    currentContext: cc || undefined,
  };
}

/** Files merged as kubectl merges $KUBECONFIG: the first file that names an entry (or sets current-context) wins. */
function mergeFiles(paths: string[]): ParsedFile {
  const out: ParsedFile = { clusters: [], users: [], contexts: [] };
  for (const p of paths) {
    let f: ParsedFile;
    try {
      f = parseFile(p);
    } catch (e) {
      throw new Error(`${p}: ${errorText(e)}`);
    }
    for (const k of ["clusters", "users", "contexts"] as const) {
      for (const [name, body] of f[k]) if (!out[k].some(([n]) => n === name)) out[k].push([name, body]);
    }
    out.currentContext ??= f.currentContext;
  }
  return out;
}

interface ExecConfig {
  command: string;
  args: string[];
  env: [string, string][];
  apiVersion: string;
  provideClusterInfo: boolean;
}

interface Auth {
  token?: string;
  tokenFile?: string;
  cert?: Buffer;
  key?: Buffer;
  basic?: string;
  exec?: ExecConfig;
}

const UNSUPPORTED_USER_KEYS = ["auth-provider", "as", "as-uid", "as-groups", "as-user-extra"];
const UNSUPPORTED_CLUSTER_KEYS = ["proxy-url"];

function readUser(name: string, u: Map): Auth {
  const where = `user ${JSON.stringify(name)}`;
  for (const k of UNSUPPORTED_USER_KEYS) {
    const v = u[k];
    if (v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0) && !(isMap(v) && Object.keys(v).length === 0)) {
      const what = k === "auth-provider" ? `auth-provider ${JSON.stringify(isMap(v) ? v.name : v)} (use an exec credential plugin, e.g. the provider's kubelogin)` : `${k} (impersonation)`;
      throw new Error(`${where}: ${what} is not supported`);
    }
  }
  const a: Auth = {};
  a.token = str(u, "token", where);
  a.tokenFile = str(u, "tokenFile", where);
  a.cert = base64(u, "client-certificate-data", where);
  const certFile = str(u, "client-certificate", where);
  if (!a.cert && certFile) a.cert = readLimited(certFile);
  a.key = base64(u, "client-key-data", where);
  const keyFile = str(u, "client-key", where);
  if (!a.key && keyFile) a.key = readLimited(keyFile);
  if (!a.cert !== !a.key) throw new Error(`${where}: a client certificate needs both the certificate and the key`);
  const user = str(u, "username", where);
  const pass = str(u, "password", where);
  if (user !== undefined || pass !== undefined) a.basic = `${user ?? ""}:${pass ?? ""}`;
  if (u.exec !== undefined && u.exec !== null) {
    const e = u.exec;
    if (!isMap(e)) throw new Error(`${where}: exec must be a mapping`);
    const command = str(e, "command", `${where} exec`);
    if (!command) throw new Error(`${where}: exec needs a command`);
    const apiVersion = str(e, "apiVersion", `${where} exec`) ?? "";
    if (apiVersion !== "client.authentication.k8s.io/v1" && apiVersion !== "client.authentication.k8s.io/v1beta1") {
      throw new Error(`${where}: exec apiVersion ${JSON.stringify(apiVersion)} is not supported (client.authentication.k8s.io/v1 or v1beta1)`);
    }
    const args = e.args ?? [];
    if (!Array.isArray(args) || !args.every((x) => typeof x === "string")) throw new Error(`${where}: exec args must be a list of strings`);
    const envList = e.env ?? [];
    if (!Array.isArray(envList)) throw new Error(`${where}: exec env must be a list`);
    const env = envList.map((x, i): [string, string] => {
      if (!isMap(x) || typeof x.name !== "string" || typeof x.value !== "string") throw new Error(`${where}: exec env[${i}] needs a name and a value`);
      return [x.name, x.value];
    });
    if (e.interactiveMode === "Always") throw new Error(`${where}: exec plugin requires an interactive terminal (interactiveMode: Always)`);
    a.exec = { command, args: args as string[], env, apiVersion, provideClusterInfo: e.provideClusterInfo === true };
  }
  return a;
}

interface ExecCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  /** ms since the epoch; undefined: kept for the life of the process. */
  expires?: number;
}

function runExec(x: ExecConfig, cluster: { server: string; ca?: Buffer; insecure: boolean }): Promise<ExecCredential> {
  const info: Map = { apiVersion: x.apiVersion, kind: "ExecCredential", spec: { interactive: false } };
  if (x.provideClusterInfo) {
    (info.spec as Map).cluster = { server: cluster.server, "certificate-authority-data": cluster.ca?.toString("base64"), "insecure-skip-tls-verify": cluster.insecure };
  }
  const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  for (const [k, v] of x.env) env[k] = v;
  return new Promise((resolve, reject) => {
    execFile(x.command, x.args, { env, timeout: EXEC_TIMEOUT_MS, maxBuffer: EXEC_MAX_OUTPUT }, (err, stdout, stderr) => {
      if (err) {
        const why = (err as { killed?: boolean }).killed ? `no answer within ${EXEC_TIMEOUT_MS / 1000} s` : `${errorText(err).split("\n")[0]}${stderr ? `: ${String(stderr).trim().split("\n").pop()}` : ""}`;
        reject(new Error(`exec plugin ${x.command}: ${why}`));
        return;
      }
      try {
        const doc = JSON.parse(String(stdout));
        if (!isMap(doc) || doc.kind !== "ExecCredential" || !isMap(doc.status)) throw new Error("not an ExecCredential with a status");
        const s = doc.status;
        const cred: ExecCredential = {};
        if (typeof s.token === "string" && s.token !== "") cred.token = s.token;
        if (typeof s.clientCertificateData === "string" && typeof s.clientKeyData === "string") {
          cred.cert = Buffer.from(s.clientCertificateData);
          cred.key = Buffer.from(s.clientKeyData);
        }
        if (!cred.token && !cred.cert) throw new Error("status has neither a token nor a client certificate");
        if (typeof s.expirationTimestamp === "string") {
          const t = Date.parse(s.expirationTimestamp);
          if (Number.isNaN(t)) throw new Error(`expirationTimestamp ${JSON.stringify(s.expirationTimestamp)} is not a time`);
          cred.expires = t;
        }
        resolve(cred);
      } catch (e) {
        reject(new Error(`exec plugin ${x.command}: ${errorText(e)}`));
      }
    });
  });
}

interface Resolved {
  server: string;
  namespace: string;
  ca?: Buffer;
  insecure: boolean;
  servername?: string;
  auth: Auth;
}

function fromKubeconfig(paths: string[], context: string | undefined): Resolved {
  const cfg = mergeFiles(paths);
  const ctxName = context ?? cfg.currentContext;
  if (!ctxName) throw new Error("no current-context (set current-context or pass --context)");
  const ctx = cfg.contexts.find(([n]) => n === ctxName)?.[1];
  if (!ctx) throw new Error(`no context ${JSON.stringify(ctxName)}`);
  const where = `context ${JSON.stringify(ctxName)}`;
  const clusterName = str(ctx, "cluster", where);
  if (!clusterName) throw new Error(`${where}: no cluster`);
  const cluster = cfg.clusters.find(([n]) => n === clusterName)?.[1];
  if (!cluster) throw new Error(`${where}: no cluster ${JSON.stringify(clusterName)}`);
  const cw = `cluster ${JSON.stringify(clusterName)}`;
  for (const k of UNSUPPORTED_CLUSTER_KEYS) if (cluster[k]) throw new Error(`${cw}: ${k} is not supported`);
  const server = str(cluster, "server", cw);
  if (!server) throw new Error(`${cw}: no server`);
  let ca = base64(cluster, "certificate-authority-data", cw);
  const caFile = str(cluster, "certificate-authority", cw);
  if (!ca && caFile) ca = readLimited(caFile);
  const insecure = cluster["insecure-skip-tls-verify"] === true;
  const userName = str(ctx, "user", where);
  let auth: Auth = {};
  if (userName) {
    const user = cfg.users.find(([n]) => n === userName)?.[1];
    if (!user) throw new Error(`${where}: no user ${JSON.stringify(userName)}`);
    auth = readUser(userName, user);
  }
  return { server, namespace: str(ctx, "namespace", where) ?? "default", ca, insecure, servername: str(cluster, "tls-server-name", cw), auth };
}

function fromCluster(): Resolved {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !existsSync(`${SA_DIR}/token`)) throw new Error(`not running in a pod (no KUBERNETES_SERVICE_HOST or no ${SA_DIR}/token)`);
  if (!port) throw new Error("no KUBERNETES_SERVICE_PORT");
  const h = host.includes(":") ? `[${host}]` : host;
  const caPath = `${SA_DIR}/ca.crt`;
  let namespace = "default";
  if (existsSync(`${SA_DIR}/namespace`)) namespace = readLimited(`${SA_DIR}/namespace`).toString("utf8").trim() || namespace;
  return { server: `https://${h}:${port}`, namespace, ca: existsSync(caPath) ? readLimited(caPath) : undefined, insecure: false, auth: { tokenFile: `${SA_DIR}/token` } };
}

const inPod = () => Boolean(process.env.KUBERNETES_SERVICE_HOST) && existsSync(`${SA_DIR}/token`);

export async function loadKubeConfig(opts: KubeConfigOptions = {}): Promise<Connection> {
  let r: Resolved;
  let source: string;
  try {
    if (opts.inCluster || (!opts.kubeconfig && inPod())) {
      if (opts.context) throw new Error("--context needs a kubeconfig file");
      r = fromCluster();
      source = "in-cluster service account";
    } else {
      let paths: string[];
      if (opts.kubeconfig) {
        if (!existsSync(opts.kubeconfig)) throw new Error("no such file");
        paths = [opts.kubeconfig];
        source = opts.kubeconfig;
      } else if (process.env.KUBECONFIG) {
        paths = process.env.KUBECONFIG.split(":").filter((p) => p !== "" && existsSync(p));
        if (paths.length === 0) throw new Error("no file of $KUBECONFIG exists");
        source = process.env.KUBECONFIG;
      } else {
        const def = resolvePath(homedir(), ".kube", "config");
        if (!existsSync(def)) throw new Error(`no --kubeconfig, no $KUBECONFIG and no ${def}`);
        paths = [def];
        source = "~/.kube/config";
      }
      r = fromKubeconfig(paths, opts.context);
    }
  } catch (e) {
    if (opts.inCluster) throw new KubeError(`in-cluster configuration: ${errorText(e)}`);
    throw new KubeError(`kubeconfig ${opts.kubeconfig ?? process.env.KUBECONFIG ?? ""}: ${errorText(e)}`.replace("kubeconfig : ", "kubeconfig: "));
  }
  let server: string;
  try {
    const u = new URL(r.server);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error(`unsupported scheme ${u.protocol}`);
    server = u.href.replace(/\/+$/, "");
  } catch (e) {
    throw new KubeError(`kubeconfig ${source}: cluster server ${JSON.stringify(r.server)}: ${errorText(e)}`);
  }

  const auth = r.auth;
  let fileToken: { value: string; at: number } | undefined;
  let execCred: ExecCredential | undefined;
  let execRunning: Promise<ExecCredential> | undefined;
  return {
    server,
    namespace: r.namespace,
    source,
    async options() {
      const o: RequestOptions = {};
      if (r.ca) o.ca = r.ca;
      if (r.insecure) o.rejectUnauthorized = false;
      if (r.servername) o.servername = r.servername;
      const headers: Record<string, string> = {};
      try {
        if (auth.cert && auth.key) {
          o.cert = auth.cert;
          o.key = auth.key;
        }
        let token = auth.token;
        if (!token && auth.tokenFile) {
          if (!fileToken || Date.now() - fileToken.at > TOKEN_FILE_TTL_MS) {
            const buf = await readFile(auth.tokenFile);
            if (buf.length > MAX_FILE_BYTES) throw new Error(`${auth.tokenFile}: larger than ${MAX_FILE_BYTES} bytes`);
            fileToken = { value: buf.toString("utf8").trim(), at: Date.now() };
          }
          token = fileToken.value;
        }
        if (auth.exec && !token && !o.cert) {
          // Re-run the plugin a little before its credential expires; one run at a time.
          if (!execCred || (execCred.expires !== undefined && execCred.expires - Date.now() < 10_000)) {
            execRunning ??= runExec(auth.exec, { server, ca: r.ca, insecure: r.insecure }).finally(() => (execRunning = undefined));
            execCred = await execRunning;
          }
          token = execCred.token;
          if (execCred.cert) {
            o.cert = execCred.cert;
            o.key = execCred.key;
          }
        }
        if (token) headers.Authorization = `Bearer ${token}`;
        else if (auth.basic) headers.Authorization = `Basic ${Buffer.from(auth.basic).toString("base64")}`;
      } catch (e) {
        throw new KubeError(`kubeconfig ${source}: authentication: ${errorText(e)}`);
      }
      o.headers = headers;
      return o;
    },
  };
}
