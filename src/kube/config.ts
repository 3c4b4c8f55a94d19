// Where the API server is and how to authenticate to it: a kubeconfig file (`--kubeconfig`,
// then $KUBECONFIG / ~/.kube/config) or the in-cluster service account. The parsing and the
// authentication (client certificates, bearer tokens, token files that rotate, exec plugins)
// are @kubernetes/client-node's KubeConfig; it is an ES module of several megabytes, so it is
// imported when a connection is first made, never at start-up.

import { existsSync, readFileSync } from "node:fs";
import type { RequestOptions } from "node:https";
import { KubeError, errorText } from "./errors.ts";

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

type ClientNode = typeof import("@kubernetes/client-node");
let clientNode: Promise<ClientNode> | undefined;
/** @kubernetes/client-node, imported on first use. */
export function loadClientNode(): Promise<ClientNode> {
  return (clientNode ??= import("@kubernetes/client-node"));
}

export async function loadKubeConfig(opts: KubeConfigOptions = {}): Promise<Connection> {
  const k8s = await loadClientNode();
  const kc = new k8s.KubeConfig();
  let source: string;
  try {
    if (opts.inCluster) {
      if (!process.env.KUBERNETES_SERVICE_HOST || !existsSync(`${SA_DIR}/token`)) throw new Error(`not running in a pod (no KUBERNETES_SERVICE_HOST or no ${SA_DIR}/token)`);
      kc.loadFromCluster();
      source = "in-cluster service account";
    } else if (opts.kubeconfig) {
      if (!existsSync(opts.kubeconfig)) throw new Error(`no such file`);
      kc.loadFromFile(opts.kubeconfig);
      source = opts.kubeconfig;
    } else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(`${SA_DIR}/token`)) {
      kc.loadFromCluster();
      source = "in-cluster service account";
    } else {
      kc.loadFromDefault();
      source = process.env.KUBECONFIG || "~/.kube/config";
    }
    if (opts.context) {
      if (!kc.getContextObject(opts.context)) throw new Error(`no context ${JSON.stringify(opts.context)}`);
      kc.setCurrentContext(opts.context);
    }
  } catch (e) {
    if (opts.inCluster) throw new KubeError(`in-cluster configuration: ${errorText(e)}`);
    throw new KubeError(`kubeconfig ${opts.kubeconfig ?? process.env.KUBECONFIG ?? ""}: ${errorText(e)}`.replace("kubeconfig : ", "kubeconfig: "));
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster || !cluster.server) throw new KubeError(`kubeconfig ${source}: no current cluster (set current-context or pass --context)`);
  let server: string;
  try {
    const u = new URL(cluster.server);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error(`unsupported scheme ${u.protocol}`);
    server = u.href.replace(/\/+$/, "");
  } catch (e) {
    throw new KubeError(`kubeconfig ${source}: cluster server ${JSON.stringify(cluster.server)}: ${errorText(e)}`);
  }
  const ctx = kc.getContextObject(kc.getCurrentContext());
  let namespace = ctx?.namespace || "default";
  if (source === "in-cluster service account" && existsSync(`${SA_DIR}/namespace`)) {
    namespace = readFileSync(`${SA_DIR}/namespace`, "utf8").trim() || namespace;
  }
  return {
    server,
    namespace,
    source,
    async options() {
      const o: RequestOptions = {};
      try {
        await kc.applyToHTTPSOptions(o);
      } catch (e) {
        throw new KubeError(`kubeconfig ${source}: authentication: ${errorText(e)}`);
      }
      return o;
    },
  };
}
