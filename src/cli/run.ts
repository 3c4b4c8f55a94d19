// `portcullis run --server`: flags and their checks; the server itself is src/server/.
import { availableParallelism } from "node:os";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import type { CliIO } from "./io.ts";
import { parseDuration, DurationError } from "../gotext/duration.ts";
import { PACKAGE_VERSION } from "../package.ts";
import { startServer, loadConfig, ConfigError, Logger, LoadError, splitHostPort, readCAFile, CAFileError, type LogLevel, type LogFormat, type RunningServer } from "../server/index.ts";
import { RegoError } from "../rego/errors.ts";
import { readKeyArgument } from "../bundle/index.ts";
import { policyFromFlags, wantsVerification, type VerificationFlags } from "./verification-flags.ts";

export interface RunOptions {
  server?: boolean;
  addr?: string[];
  diagnosticAddr: string[];
  configFile?: string;
  set: string[];
  setFile: string[];
  readyTimeout: string;
  watch?: boolean;
  bundle?: boolean;
  verificationKey?: string;
  verificationKeyId: string;
  signingAlg: string;
  scope?: string;
  excludeFilesVerify: string[];
  skipVerify?: boolean;
  v0Compatible?: boolean;
  v1Compatible?: boolean;
  logLevel: string;
  logFormat: string;
  shutdownGracePeriod: string;
  authentication: string;
  authorization: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tlsCaCertFile?: string;
  minTlsVersion: string;
  requestTimeout: string;
  evalWorkers?: string;
  enableNetworkBuiltins?: boolean;
}

export type RunCommandOptions = RunOptions & VerificationFlags;

class UsageError extends Error {}

function oneOf(flag: string, v: string, allowed: string[]): string {
  if (!allowed.includes(v)) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: must be one of {${allowed.join(",")}}`);
  return v;
}

/** Hooks for tests: called with the running server (the command then waits for a signal or stop()). */
export const runHooks: { started?: (s: RunningServer) => void } = {};

export async function runServer(allPaths: string[], o: RunCommandOptions, io: CliIO): Promise<number> {
  let server: RunningServer;
  try {
    if (!o.server) throw new UsageError("portcullis run has no interactive mode: pass -s/--server (use `portcullis repl` for a REPL)");
    if (o.v0Compatible && o.v1Compatible) throw new UsageError("--v0-compatible and --v1-compatible are mutually exclusive");
    const level = oneOf("--log-level", o.logLevel, ["debug", "info", "error", "warn"]) as LogLevel;
    const format = oneOf("--log-format", o.logFormat, ["json", "json-pretty", "text"]) as LogFormat;
    const authentication = oneOf("--authentication", o.authentication, ["token", "off", "tls"]);
    const authorization = oneOf("--authorization", o.authorization, ["basic", "off"]);
    if (!/^-?[0-9]+$/.test(o.readyTimeout)) throw new UsageError(`invalid argument "${o.readyTimeout}" for "--ready-timeout" flag: want whole seconds`);
    const readySeconds = Number(o.readyTimeout); // as OPA: a value <= 0 disables the wait
    const grace = Number(o.shutdownGracePeriod);
    if (!/^[0-9]+$/.test(o.shutdownGracePeriod)) throw new UsageError(`invalid argument "${o.shutdownGracePeriod}" for "--shutdown-grace-period" flag: want whole seconds`);
    let timeoutMs: number;
    try {
      timeoutMs = o.requestTimeout === "0" ? 0 : parseDuration(o.requestTimeout);
    } catch (e) {
      if (e instanceof DurationError) throw new UsageError(`invalid argument "${o.requestTimeout}" for "--request-timeout" flag: ${e.message}`);
      throw e;
    }
    if (timeoutMs < 0) throw new UsageError(`--request-timeout must not be negative`);
    let workers = Math.max(1, Math.min(4, availableParallelism()));
    if (o.evalWorkers !== undefined) {
      if (!/^[0-9]+$/.test(o.evalWorkers) || Number(o.evalWorkers) > 64) throw new UsageError(`invalid argument "${o.evalWorkers}" for "--eval-workers" flag: want 0 to 64`);
      workers = Number(o.evalWorkers);
    }
    if (Boolean(o.tlsCertFile) !== Boolean(o.tlsPrivateKeyFile)) throw new UsageError("--tls-cert-file and --tls-private-key-file must be given together");
    for (const f of [o.tlsCertFile, o.tlsPrivateKeyFile]) if (f && !existsSync(f)) throw new UsageError(`${f}: no such file or directory`);
    const minTLS = oneOf("--min-tls-version", o.minTlsVersion, ["1.0", "1.1", "1.2", "1.3"]) as "1.0" | "1.1" | "1.2" | "1.3";
    // As OPA: the CA file is read and checked at start-up even when no HTTPS address uses it.
    if (o.tlsCaCertFile) readCAFile(o.tlsCaCertFile);
    const addrs = o.addr && o.addr.length > 0 ? o.addr : ["localhost:8181"];
    for (const a of [...addrs, ...o.diagnosticAddr]) if (!a.startsWith("unix://")) splitHostPort(a);
    const ociBundles = allPaths.filter((p) => p.startsWith("oci://"));
    const paths = allPaths.filter((p) => !p.startsWith("oci://"));
    if (ociBundles.length > 0 && !o.bundle) throw new UsageError("oci:// references are bundles: pass -b/--bundle");
    const config = loadConfig({ file: o.configFile, sets: o.set, setFiles: o.setFile, id: randomUUID(), version: PACKAGE_VERSION, ociBundles });
    if (wantsVerification(o)) {
      let policy;
      try {
        policy = await policyFromFlags(o);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const oci = config.bundles?.bundles.some((b) => b.service.type === "oci");
      if (!config.bundles || !oci) throw new UsageError("--verify-key and the keyless flags check bundles pulled from OCI registries: configure a service of type oci or pass -b oci://REF");
      config.bundles.ociVerify = policy;
    }
    const logger = new Logger(level, format, (line) => io.err(line));
    for (const w of config.warnings) logger.warn(w);
    server = await startServer({
      paths,
      bundleMode: Boolean(o.bundle),
      bundleOptions: {
        skipVerify: Boolean(o.skipVerify),
        verification:
          o.verificationKey === undefined || o.verificationKey === ""
            ? undefined
            : {
                keys: { [o.verificationKeyId]: { key: readKeyArgument(o.verificationKey), algorithm: o.signingAlg, scope: o.scope ?? "" } },
                keyId: o.verificationKeyId,
                scope: o.scope ?? "",
                exclude: o.excludeFilesVerify,
              },
      },
      watch: Boolean(o.watch),
      readyTimeoutMs: Math.max(0, readySeconds) * 1000,
      addrs,
      diagnosticAddrs: o.diagnosticAddr,
      regoVersion: o.v0Compatible ? "v0" : "v1",
      config,
      logger,
      authentication: authentication as "off" | "token" | "tls",
      authorization: authorization as "off" | "basic",
      shutdownGracePeriod: grace,
      requestTimeoutMs: timeoutMs,
      workers,
      networkBuiltins: Boolean(o.enableNetworkBuiltins),
      tls: o.tlsCertFile ? { certFile: o.tlsCertFile, keyFile: o.tlsPrivateKeyFile!, caFile: o.tlsCaCertFile || undefined, minVersion: minTLS } : undefined,
    });
  } catch (e) {
    if (e instanceof UsageError || e instanceof CAFileError || e instanceof ConfigError || e instanceof LoadError || e instanceof RegoError || (e instanceof Error && /^invalid address|EADDRINUSE|EACCES|ENOENT|EADDRNOTAVAIL/.test(e.message + ((e as NodeJS.ErrnoException).code ?? "")))) {
      io.err(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void server.close().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    runHooks.started?.({ ...server, close: async () => stop() });
  });
  return 0;
}
