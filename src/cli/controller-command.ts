// Registers `portcullis controller` (Gatekeeper's controller manager: --operation=webhook).
import { Option, type Command } from "commander";
import type { CliIO } from "./io.ts";
import { runController } from "./controller.ts";

const repeat = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, io: CliIO): void {
  program
    .command("controller")
    .description("Run Gatekeeper's validating admission webhook (portcullis controller --operation=webhook --policy-dir DIR)")
    .option("--operation <op>", "what this process does; repeatable (webhook)", repeat, [])
    .option("--policy-dir <dir>", "read ConstraintTemplates, constraints, Config, Providers and Namespaces from YAML files here (watched)")
    .option("--kubeconfig <file>", "read them from the cluster this kubeconfig points at")
    .option("--port <port>", "webhook port (HTTPS)", "8443")
    .option("--host <address>", "webhook listening address", "0.0.0.0")
    .option("--cert-dir <dir>", "directory with tls.crt and tls.key (reloaded when they change)", "/certs")
    .option("--self-signed", "serve a certificate made at start-up (CA printed on stdout as the caBundle), instead of --cert-dir; for local runs")
    .option("--self-signed-hosts <names>", "DNS names and IP addresses of the --self-signed certificate, comma-separated", "localhost,127.0.0.1")
    .option("--metrics-addr <address>", "Prometheus /metrics address ([host]:port; 0 turns it off)")
    .option("--prometheus-port <port>", "Prometheus /metrics port (Gatekeeper's flag; same as --metrics-addr :<port>)", "8888")
    .option("--health-addr <address>", "/healthz and /readyz address ([host]:port; 0 turns it off)", ":9090")
    .option("--max-serving-threads <n>", "evaluation worker threads; -1: one per CPU", "-1")
    .option("--exempt-namespace <ns>", "a namespace allowed to carry the admission.gatekeeper.sh/ignore label; repeatable", repeat, [])
    .option("--exempt-namespace-prefix <prefix>", "namespaces with this prefix may carry the label; repeatable", repeat, [])
    .option("--exempt-namespace-suffix <suffix>", "namespaces with this suffix may carry the label; repeatable", repeat, [])
    .option("--gatekeeper-service-account <username>", "requests from this user are allowed unreviewed (default system:serviceaccount:$POD_NAMESPACE:gatekeeper-admin)")
    .option("--metrics-per-constraint", "also export per-constraint evaluation time and violation counts (Portcullis's own)")
    .option("--log-level <level>", "DEBUG, INFO, WARNING or ERROR", "INFO")
    .addOption(new Option("--log-format <format>", "log format").choices(["json", "text"]).default("json"))
    .option("--shutdown-grace-period <seconds>", "seconds to wait for requests in flight on SIGTERM", "30")
    .action(async (o) => {
      io.exitCode = await runController(o, io);
    });
}
