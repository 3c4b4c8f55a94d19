// `portcullis controller`: flags, their checks and the policy source; the webhook process is
// src/server/admission/, the webhook's logic src/gatekeeper/webhook.ts.
import { availableParallelism } from "node:os";
import { existsSync, statSync } from "node:fs";
import type { CliIO } from "./io.ts";
import { Logger, splitHostPort, type LogLevel } from "../server/index.ts";
import { startWebhookServer, type RunningWebhook } from "../server/admission/server.ts";
import { PolicyDirSource } from "../gatekeeper/policydir.ts";
import { defaultServiceAccount } from "../gatekeeper/webhook.ts";
import { generateWebhookCertificates } from "../gatekeeper/certs.ts";
import type { PolicySource } from "../gatekeeper/state.ts";
import { ClusterController } from "../gatekeeper/controller/cluster.ts";
import { startAuditProcess, TeeSource, type RunningAudit } from "../server/audit.ts";

export interface ControllerOptions {
  operation: string[];
  policyDir?: string;
  kubeconfig?: string;
  inCluster?: boolean;
  gatekeeperNamespace?: string;
  certSecret: string;
  certServiceName: string;
  validatingWebhookConfigurationName: string;
  mutatingWebhookConfigurationName?: string;
  disableCertRotation?: boolean;
  certExtraName: string[];
  port: string;
  host: string;
  certDir: string;
  selfSigned?: boolean;
  selfSignedHosts: string;
  metricsAddr?: string;
  prometheusPort: string;
  healthAddr: string;
  maxServingThreads: string;
  exemptNamespace: string[];
  exemptNamespacePrefix: string[];
  exemptNamespaceSuffix: string[];
  gatekeeperServiceAccount?: string;
  metricsPerConstraint?: boolean;
  workerWarmupMs?: string;
  /** --enable-k8s-native-validation (=false: templates' Rego even when they carry CEL). */
  enableK8sNativeValidation?: boolean;
  logLevel: string;
  logFormat: string;
  shutdownGracePeriod: string;
  auditInterval: string;
  auditWorkers: string;
  auditChunkSize: string;
  constraintViolationsLimit: string;
  auditMatchKindOnly?: boolean;
  auditFromCache?: boolean;
  auditReport?: string;
  auditLeaseName: string;
  auditLeaseNamespace?: string;
}

class UsageError extends Error {}

/** The operations this build runs. */
export const OPERATIONS = ["webhook", "mutation-webhook", "audit"];

/** The namespace of the controller's own objects: --gatekeeper-namespace, $POD_NAMESPACE, gatekeeper-system. */
function gatekeeperNamespace(o: ControllerOptions): string {
  return o.gatekeeperNamespace || process.env.POD_NAMESPACE || "gatekeeper-system";
}

/**
 * Where policy comes from, keyed by the flag that selects it: exactly one must be given (in a
 * pod, none means --in-cluster).
 */
export const SOURCES: { flag: "policyDir" | "kubeconfig" | "inCluster"; name: string; make?: (o: ControllerOptions, log: Logger) => Promise<PolicySource> }[] = [
  {
    flag: "policyDir",
    name: "--policy-dir",
    make: async (o, log) => {
      const dir = o.policyDir!;
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--policy-dir ${dir}: not a directory`);
      return new PolicyDirSource(dir, { onError: (file, message) => log.error("Policy file skipped; its last good content stays.", { file, err: message }) });
    },
  },
  { flag: "kubeconfig", name: "--kubeconfig", make: (o, log) => clusterSource(o, log) },
  { flag: "inCluster", name: "--in-cluster", make: (o, log) => clusterSource(o, log) },
];

/** The cluster: watches, constraint CRDs, status, and (unless --disable-cert-rotation or --self-signed) the certificates in --cert-dir. */
async function clusterSource(o: ControllerOptions, log: Logger): Promise<PolicySource> {
  if (o.kubeconfig !== undefined && !existsSync(o.kubeconfig)) throw new UsageError(`--kubeconfig ${o.kubeconfig}: no such file`);
  const ns = gatekeeperNamespace(o);
  try {
    return await ClusterController.create({
      kubeconfig: o.kubeconfig,
      inCluster: o.kubeconfig === undefined,
      namespace: ns,
      certDir: o.certDir,
      disableCertRotation: Boolean(o.disableCertRotation || o.selfSigned),
      certSecret: o.certSecret,
      certServiceName: o.certServiceName,
      webhookConfigurationName: o.validatingWebhookConfigurationName,
      mutatingWebhookConfigurationName: o.mutatingWebhookConfigurationName,
      extraCertNames: o.certExtraName,
      operations: o.operation.length ? o.operation.flatMap((x) => x.split(",")) : ["webhook"],
      log: (level, msg, fields) => (level === "error" ? log.error(msg, fields) : level === "debug" ? log.debug(msg, fields) : log.info(msg, fields)),
    });
  } catch (e) {
    throw new UsageError(`cluster: ${(e as Error).message}`);
  }
}

const LEVELS: Record<string, LogLevel> = { debug: "debug", info: "info", warning: "warn", warn: "warn", error: "error" };

function addr(flag: string, v: string): string | null {
  if (v === "0") return null;
  const a = /^[0-9]+$/.test(v) ? `:${v}` : v;
  try {
    const { port } = splitHostPort(a);
    if (port > 65535) throw new Error("port out of range");
  } catch (e) {
    throw new UsageError(`invalid argument "${v}" for "${flag}" flag: ${(e as Error).message}`);
  }
  return a;
}

/** Hooks for tests: called with the running webhook (the command then waits for a signal or stop()). */
export const controllerHooks: { started?: (w: RunningWebhook | null, stop: () => void, audit: RunningAudit | null) => void } = {};

export async function runController(o: ControllerOptions, io: CliIO): Promise<number> {
  let webhook: RunningWebhook | null;
  let audit: RunningAudit | null = null;
  let log: Logger;
  let graceMs: number;
  try {
    const ops = o.operation.length ? o.operation.flatMap((x) => x.split(",")) : ["webhook"];
    for (const op of ops) {
      if (!OPERATIONS.includes(op)) throw new UsageError(`--operation=${op}: this build runs only ${OPERATIONS.join(", ")} (Gatekeeper's status, mutation-status and generate operations are not part of it)`);
    }
    const level = LEVELS[o.logLevel.toLowerCase()];
    if (!level) throw new UsageError(`invalid argument "${o.logLevel}" for "--log-level" flag: want DEBUG, INFO, WARNING or ERROR`);
    log = new Logger(level, o.logFormat === "text" ? "text" : "json", (line) => io.err(line));
    if (!/^[0-9]+$/.test(o.port) || Number(o.port) > 65535) throw new UsageError(`invalid argument "${o.port}" for "--port" flag: want a port number`);
    if (o.workerWarmupMs !== undefined && !/^[0-9]+$/.test(o.workerWarmupMs)) throw new UsageError(`invalid argument "${o.workerWarmupMs}" for "--worker-warmup-ms" flag: want a whole number of milliseconds`);
    if (!/^-?[0-9]+$/.test(o.maxServingThreads)) throw new UsageError(`invalid argument "${o.maxServingThreads}" for "--max-serving-threads" flag: want a whole number`);
    const n = Number(o.maxServingThreads);
    if (n > 256) throw new UsageError(`--max-serving-threads ${n}: at most 256`);
    const threads = n < 1 ? availableParallelism() : n;
    const warmupMs = o.workerWarmupMs !== undefined ? Number(o.workerWarmupMs) : undefined;
    if (!/^[0-9]+$/.test(o.shutdownGracePeriod)) throw new UsageError(`invalid argument "${o.shutdownGracePeriod}" for "--shutdown-grace-period" flag: want whole seconds`);
    graceMs = Number(o.shutdownGracePeriod) * 1000;
    const metricsAddr = o.metricsAddr !== undefined ? addr("--metrics-addr", o.metricsAddr) : addr("--prometheus-port", o.prometheusPort);
    const healthAddr = addr("--health-addr", o.healthAddr);
    const auditing = ops.includes("audit");
    // One HTTPS server holds the validating (/v1/admit, /v1/admitlabel) and the mutating (/v1/mutate) endpoints.
    const webhooking = ops.includes("webhook") || ops.includes("mutation-webhook");
    const whole = (flag: string, v: string, min: number) => {
      if (!/^[0-9]+$/.test(v) || Number(v) < min) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: want a whole number${min ? ` ≥ ${min}` : ""}`);
      return Number(v);
    };
    const auditFlags = {
      intervalSeconds: whole("--audit-interval", o.auditInterval, 0),
      chunkSize: whole("--audit-chunk-size", o.auditChunkSize, 0),
      violationsLimit: whole("--constraint-violations-limit", o.constraintViolationsLimit, 0),
      workers: whole("--audit-workers", o.auditWorkers, 0),
    };
    if (auditFlags.workers > 64) throw new UsageError(`--audit-workers ${auditFlags.workers}: at most 64`);
    let certs: string | { cert: string; key: string } = o.certDir;
    if (webhooking && o.selfSigned) {
      const hosts = o.selfSignedHosts.split(",").map((h) => h.trim()).filter((h) => h !== "");
      if (hosts.length === 0) throw new UsageError("--self-signed-hosts: give at least one DNS name or IP address");
      const made = generateWebhookCertificates(hosts);
      certs = { cert: made.cert, key: made.key };
      // The caBundle of a ValidatingWebhookConfiguration: base64 of the CA's PEM.
      io.out(`caBundle: ${Buffer.from(made.caCert).toString("base64")}\n`);
    }
    const given = SOURCES.filter((s) => o[s.flag] !== undefined && o[s.flag] !== false);
    // In a pod, no source flag means the cluster the pod runs in (as Gatekeeper runs).
    const inPod = Boolean(process.env.KUBERNETES_SERVICE_HOST) && existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token");
    const chosen = given.length === 0 && inPod ? SOURCES.filter((s) => s.flag === "inCluster") : given;
    // The webhook alone needs exactly one source. The audit lists the cluster (--kubeconfig or
    // in-cluster) and takes its policy from --policy-dir when given, else from the webhook's
    // source when both run, else from the cluster at each run.
    if (!auditing && chosen.length !== 1) throw new UsageError(`give exactly one of ${SOURCES.map((s) => s.name).join(", ")} (where the ConstraintTemplates and constraints come from)`);
    const src = o.policyDir !== undefined ? SOURCES[0] : webhooking ? chosen[0] : undefined;
    if (webhooking && !src) throw new UsageError(`give ${SOURCES.map((s) => s.name).join(" or ")} (where the webhook's ConstraintTemplates and constraints come from)`);
    // The cluster source with rotation writes the certificates into --cert-dir itself.
    const rotating = src !== undefined && src.flag !== "policyDir" && !o.disableCertRotation && !o.selfSigned;
    if (webhooking && !o.selfSigned && !rotating && !existsSync(o.certDir)) throw new UsageError(`--cert-dir ${o.certDir}: no such directory (it must hold tls.crt and tls.key)`);
    if (src && !src.make) throw new UsageError(`${src.name}: the cluster source is not in this build; use --policy-dir`);
    const source = src ? new TeeSource(await src.make!(o, log)) : undefined;
    if (auditing) {
      audit = await startAuditProcess({
        kubeconfig: o.kubeconfig,
        source,
        sourceShared: webhooking,
        ...auditFlags,
        matchKindOnly: Boolean(o.auditMatchKindOnly),
        fromCache: Boolean(o.auditFromCache),
        reportFile: o.auditReport,
        leaseName: o.auditLeaseName,
        leaseNamespace: o.auditLeaseNamespace,
        k8sNativeValidation: o.enableK8sNativeValidation !== false,
        operations: ops,
        logger: log,
        metricsAddr: webhooking ? null : metricsAddr,
        healthAddr: webhooking ? null : healthAddr,
      });
    }
    if (!webhooking) {
      webhook = null;
    } else {
      const podNs = process.env.POD_NAMESPACE;
      const running = audit as RunningAudit | null;
      webhook = await startWebhookServer({
        addr: `${o.host.includes(":") ? `[${o.host}]` : o.host}:${o.port}`,
        certDir: certs,
        metricsAddr,
        healthAddr,
        threads,
        source: source!,
        webhook: {
          serviceAccount: o.gatekeeperServiceAccount ?? defaultServiceAccount(podNs && podNs !== "" ? podNs : undefined),
          exemptNamespaces: o.exemptNamespace,
          exemptNamespacePrefixes: o.exemptNamespacePrefix,
          exemptNamespaceSuffixes: o.exemptNamespaceSuffix,
        },
        endpoints: { validation: ops.includes("webhook"), mutation: ops.includes("mutation-webhook") },
        metricsPerConstraint: Boolean(o.metricsPerConstraint),
        k8sNativeValidation: o.enableK8sNativeValidation !== false,
        ...(warmupMs !== undefined ? { warmupMs } : {}),
        logger: log,
        drainTimeoutMs: graceMs,
        ...(running ? { routes: running.routes, extraMetrics: () => running.metricsText() } : {}),
      });
    }
  } catch (e) {
    await audit?.stop();
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (e instanceof UsageError || (e instanceof Error && (/^--|^invalid address/.test(e.message) || /EADDRINUSE|EACCES|ENOENT|EADDRNOTAVAIL/.test(code)))) {
      io.err(`error: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      log.info("Shutting down: draining requests in flight.", { in_flight: webhook?.inFlight() ?? 0 });
      void Promise.all([webhook?.stop(), audit?.stop()]).then(() => resolve());
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    controllerHooks.started?.(webhook, stop, audit);
  });
  return 0;
}
