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

export interface ControllerOptions {
  operation: string[];
  policyDir?: string;
  kubeconfig?: string;
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
  logLevel: string;
  logFormat: string;
  shutdownGracePeriod: string;
}

class UsageError extends Error {}

/** The operations this build runs. */
export const OPERATIONS = ["webhook"];

/**
 * Where policy comes from, keyed by the flag that selects it: exactly one must be given. The
 * cluster source (--kubeconfig) plugs in here with one line.
 */
export const SOURCES: { flag: "policyDir" | "kubeconfig"; name: string; make?: (o: ControllerOptions, log: Logger) => Promise<PolicySource> }[] = [
  {
    flag: "policyDir",
    name: "--policy-dir",
    make: async (o, log) => {
      const dir = o.policyDir!;
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--policy-dir ${dir}: not a directory`);
      return new PolicyDirSource(dir, { onError: (file, message) => log.error("Policy file skipped; its last good content stays.", { file, err: message }) });
    },
  },
  { flag: "kubeconfig", name: "--kubeconfig" },
];

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
export const controllerHooks: { started?: (w: RunningWebhook, stop: () => void) => void } = {};

export async function runController(o: ControllerOptions, io: CliIO): Promise<number> {
  let webhook: RunningWebhook;
  let log: Logger;
  let graceMs: number;
  try {
    const ops = o.operation.length ? o.operation.flatMap((x) => x.split(",")) : ["webhook"];
    for (const op of ops) {
      if (!OPERATIONS.includes(op)) throw new UsageError(`--operation=${op}: this build runs only ${OPERATIONS.join(", ")} (Gatekeeper's audit, status, mutation-webhook and generate operations are not part of it)`);
    }
    const level = LEVELS[o.logLevel.toLowerCase()];
    if (!level) throw new UsageError(`invalid argument "${o.logLevel}" for "--log-level" flag: want DEBUG, INFO, WARNING or ERROR`);
    log = new Logger(level, o.logFormat === "text" ? "text" : "json", (line) => io.err(line));
    if (!/^[0-9]+$/.test(o.port) || Number(o.port) > 65535) throw new UsageError(`invalid argument "${o.port}" for "--port" flag: want a port number`);
    if (!/^-?[0-9]+$/.test(o.maxServingThreads)) throw new UsageError(`invalid argument "${o.maxServingThreads}" for "--max-serving-threads" flag: want a whole number`);
    const n = Number(o.maxServingThreads);
    if (n > 256) throw new UsageError(`--max-serving-threads ${n}: at most 256`);
    const threads = n < 1 ? availableParallelism() : n;
    if (!/^[0-9]+$/.test(o.shutdownGracePeriod)) throw new UsageError(`invalid argument "${o.shutdownGracePeriod}" for "--shutdown-grace-period" flag: want whole seconds`);
    graceMs = Number(o.shutdownGracePeriod) * 1000;
    const metricsAddr = o.metricsAddr !== undefined ? addr("--metrics-addr", o.metricsAddr) : addr("--prometheus-port", o.prometheusPort);
    const healthAddr = addr("--health-addr", o.healthAddr);
    let certs: string | { cert: string; key: string } = o.certDir;
    if (o.selfSigned) {
      const hosts = o.selfSignedHosts.split(",").map((h) => h.trim()).filter((h) => h !== "");
      if (hosts.length === 0) throw new UsageError("--self-signed-hosts: give at least one DNS name or IP address");
      const made = generateWebhookCertificates(hosts);
      certs = { cert: made.cert, key: made.key };
      // The caBundle of a ValidatingWebhookConfiguration: base64 of the CA's PEM.
      io.out(`caBundle: ${Buffer.from(made.caCert).toString("base64")}\n`);
    } else if (!existsSync(o.certDir)) throw new UsageError(`--cert-dir ${o.certDir}: no such directory (it must hold tls.crt and tls.key)`);
    const chosen = SOURCES.filter((s) => o[s.flag] !== undefined);
    if (chosen.length !== 1) throw new UsageError(`give exactly one of ${SOURCES.map((s) => s.name).join(", ")} (where the ConstraintTemplates and constraints come from)`);
    const src = chosen[0];
    if (!src.make) throw new UsageError(`${src.name}: the cluster source is not in this build; use --policy-dir`);
    const source = await src.make(o, log);
    const podNs = process.env.POD_NAMESPACE;
    webhook = await startWebhookServer({
      addr: `${o.host.includes(":") ? `[${o.host}]` : o.host}:${o.port}`,
      certDir: certs,
      metricsAddr,
      healthAddr,
      threads,
      source,
      webhook: {
        serviceAccount: o.gatekeeperServiceAccount ?? defaultServiceAccount(podNs && podNs !== "" ? podNs : undefined),
        exemptNamespaces: o.exemptNamespace,
        exemptNamespacePrefixes: o.exemptNamespacePrefix,
        exemptNamespaceSuffixes: o.exemptNamespaceSuffix,
      },
      metricsPerConstraint: Boolean(o.metricsPerConstraint),
      logger: log,
      drainTimeoutMs: graceMs,
    });
  } catch (e) {
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
      log.info("Shutting down: draining requests in flight.", { in_flight: webhook.inFlight() });
      void webhook.stop().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    controllerHooks.started?.(webhook, stop);
  });
  return 0;
}
