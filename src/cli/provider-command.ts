// Registers `portcullis provider`: the Gatekeeper external-data provider that verifies image
// signatures (src/server/provider.ts; docs/signing.md).
import type { Command } from "commander";
import type { CliIO } from "./io.ts";

export function register(program: Command, io: CliIO): void {
  program
    .command("provider")
    .description("Serve Gatekeeper external data: verify the cosign signatures of image references (value: the verified digest, or an error)")
    .requiredOption("--keys-config <file>", "YAML/JSON: verification policies per registry/repository pattern (keys or keyless identities)")
    .option("--addr <host:port>", "listening address", "0.0.0.0:8443")
    .option("--tls-cert-file <file>", "TLS certificate (Gatekeeper requires HTTPS)")
    .option("--tls-private-key-file <file>", "TLS private key")
    .option("--client-ca-file <file>", "require client certificates signed by this CA (Gatekeeper's mTLS)")
    .option("--insecure-http", "serve plain HTTP (tests only: Gatekeeper refuses http providers)")
    .option("--request-timeout <seconds>", "deadline of one request", "25")
    .option("-l, --log-level <level>", "log level: debug, info, error", "info")
    .action(async (o: { keysConfig: string; addr: string; tlsCertFile?: string; tlsPrivateKeyFile?: string; clientCaFile?: string; insecureHttp?: boolean; requestTimeout: string; logLevel: string }) => {
      const { loadProviderConfig, ImageVerifier, startProvider } = await import("../server/provider.ts");
      const { Logger } = await import("../server/log.ts");
      const fail = (msg: string) => {
        io.err(`Error: ${msg}\n`);
        io.exitCode = 1;
      };
      if (!["debug", "info", "error"].includes(o.logLevel)) return fail(`invalid --log-level ${JSON.stringify(o.logLevel)}`);
      const timeout = Number(o.requestTimeout);
      if (!Number.isFinite(timeout) || timeout <= 0) return fail(`invalid --request-timeout ${JSON.stringify(o.requestTimeout)}`);
      if (!o.insecureHttp && (!o.tlsCertFile || !o.tlsPrivateKeyFile)) return fail("--tls-cert-file and --tls-private-key-file are required (or --insecure-http for tests)");
      const m = /^(.*):(\d{1,5})$/.exec(o.addr);
      if (!m) return fail(`invalid --addr ${JSON.stringify(o.addr)} (host:port)`);
      const log = new Logger(o.logLevel as "debug" | "info" | "error", "json", (l) => io.err(l));
      let verifier;
      try {
        verifier = new ImageVerifier(await loadProviderConfig(o.keysConfig));
      } catch (e) {
        return fail((e as Error).message);
      }
      try {
        const running = await startProvider(verifier, {
          addr: m[1].replace(/^\[|\]$/g, "") || "0.0.0.0",
          port: Number(m[2]),
          tls: o.insecureHttp ? undefined : { certFile: o.tlsCertFile!, keyFile: o.tlsPrivateKeyFile!, clientCAFile: o.clientCaFile },
          requestTimeoutMs: timeout * 1000,
          log,
        });
        log.info("provider listening", { addr: `${m[1]}:${running.port}`, tls: !o.insecureHttp });
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once("SIGTERM", stop);
          process.once("SIGINT", stop);
        });
        await running.close();
        await verifier.close();
      } catch (e) {
        return fail((e as Error).message);
      }
    });
}
