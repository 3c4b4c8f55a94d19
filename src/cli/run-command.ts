// Registers `portcullis run` (OPA's `opa run --server`).
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { runServer } from "./run.ts";
import { fetchVerificationFlags } from "./verification-flags.ts";

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(",").filter((s) => s !== "")];
const repeat = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command("run")
    .description("Start the OPA-compatible policy server (portcullis run --server)")
    .argument("[paths...]", "policy and data files or directories (bundle directories with -b; oci://REGISTRY/REPO:TAG with -b pulls a bundle image)")
    .option("-s, --server", "start the runtime in server mode (the only mode: there is no REPL here)")
    .option("-a, --addr <address>", "listening address ([ip]:<port>, or unix://<path>); repeatable (default localhost:8181)", collect)
    .option("--diagnostic-addr <address>", "read-only address for /health and /metrics; repeatable", collect, [])
    .option("-c, --config-file <file>", "configuration file (OPA's format; see docs/server.md for the supported keys)")
    .option("--set <key=value>", "override a configuration value (key.path=value); repeatable", repeat, [])
    .option("--set-file <key=path>", "override a configuration value with a file's contents (key.path=file); repeatable", repeat, [])
    .option("--ready-timeout <seconds>", "wait (in seconds) for the configured bundles to be activated before listening; 0 disables the wait", "0")
    .option("-w, --watch", "reload policy and data files when they change")
    .option("-b, --bundle", "load the paths as bundles (directories or .tar.gz archives)")
    .option("--verification-key <key>", "set the secret (HMAC) or path of the PEM file containing the public key (RSA and ECDSA) to verify bundle signatures")
    .option("--verification-key-id <id>", "name assigned to the verification key used for bundle verification", "default")
    .option("--signing-alg <alg>", "name of the signing algorithm of the verification key", "RS256")
    .option("--scope <scope>", "scope to use for bundle signature verification")
    .option("--exclude-files-verify <names>", "set file names to exclude during bundle verification; repeatable, comma-separated", collect, [])
    .option("--skip-verify", "disable bundle signature verification")
    .option("--v0-compatible", "parse policies as Rego v0")
    .option("--v1-compatible", "parse policies as Rego v1 (the default)")
    .option("-l, --log-level <level>", "log level: debug, info, error", "info")
    .option("--log-format <format>", "log format: json, json-pretty, text", "json")
    .option("--shutdown-grace-period <seconds>", "seconds to wait for requests in flight when shutting down", "10")
    .option("--authentication <scheme>", "authentication scheme: token, tls, off", "off")
    .option("--authorization <scheme>", "authorization scheme: basic, off", "off")
    .option("--tls-cert-file <file>", "TLS certificate (reloaded when it changes)")
    .option("--tls-private-key-file <file>", "TLS private key (reloaded when it changes)")
    .option("--tls-ca-cert-file <file>", "CA certificates client certificates are verified against (--authentication=tls; reloaded when it changes)")
    .option("--min-tls-version <version>", "minimum TLS version of the server: 1.0, 1.1, 1.2, 1.3", "1.2")
    .option("--request-timeout <duration>", "deadline of every request's evaluation (Portcullis's own; OPA has none), e.g. 30s; 0 for none", "30s")
    .option("--eval-workers <n>", "evaluation worker threads (Portcullis's own; default: CPUs, at most 4)")
    .option("--enable-network-builtins", "allow http.send and net.lookup_ip_addr in policies (off by default, as in Gatekeeper)");
  fetchVerificationFlags(cmd).action(async (paths: string[], o) => {
      io.exitCode = await runServer(paths, o, io);
    });
}
