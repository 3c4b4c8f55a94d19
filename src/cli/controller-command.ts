// Registers `portcullis controller` (Gatekeeper's controller manager: --operation=webhook, mutation-webhook, audit).
import { Option, type Command } from "commander";
import type { CliIO } from "./io.ts";
import { runController } from "./controller.ts";
import { WARMUP_BUDGET_MS } from "../gatekeeper/warmup.ts";

const repeat = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, io: CliIO): void {
  program
    .command("controller")
    .description("Run Gatekeeper's validating and mutating admission webhooks and audit (--operation=webhook,mutation-webhook,audit; docs/gatekeeper-webhook.md, docs/gatekeeper-mutation.md, docs/audit.md)")
    .option("--operation <op>", "what this process does; repeatable or comma-separated: webhook, mutation-webhook, audit", repeat, [])
    .option("--policy-dir <dir>", "read ConstraintTemplates, constraints, Config, Providers and Namespaces from YAML files here (watched)")
    .option("--kubeconfig <file>", "read them from the cluster this kubeconfig points at")
    .option("--in-cluster", "read them from the cluster the pod runs in (the default in a pod without --policy-dir or --kubeconfig)")
    .option("--gatekeeper-namespace <ns>", "namespace of the Config, the certificate Secret and the webhook Service (default $POD_NAMESPACE, else gatekeeper-system)")
    .option("--disable-cert-rotation", "do not generate certificates: --cert-dir is filled by something else (cert-manager)")
    .option("--cert-secret <name>", "Secret holding the generated CA and serving certificate", "gatekeeper-webhook-server-cert")
    .option("--cert-service-name <name>", "the webhook Service; the certificate is for <name>.<namespace>.svc", "gatekeeper-webhook-service")
    .option("--cert-extra-name <name>", "another DNS name or IP address for the generated certificate; repeatable", repeat, [])
    .option("--validating-webhook-configuration-name <name>", "ValidatingWebhookConfiguration that gets the generated CA as caBundle", "gatekeeper-validating-webhook-configuration")
    .option("--mutating-webhook-configuration-name <name>", "MutatingWebhookConfiguration (the /v1/mutate webhook) that gets the generated CA as caBundle", "gatekeeper-mutating-webhook-configuration")
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
    .option("--enable-k8s-native-validation", "run a ConstraintTemplate's K8sNativeValidation (CEL) code when it has some, in preference to its Rego (Gatekeeper's flag; default true, =false runs the Rego)")
    .option("--metrics-per-constraint", "also export per-constraint evaluation time and violation counts (Portcullis's own)")
    .option("--worker-warmup-ms <ms>", "each new evaluation worker runs synthetic reviews while idle for up to this long, so its code is compiled before load comes (Portcullis's own; 0: off)", String(WARMUP_BUDGET_MS))
    .option("--log-level <level>", "DEBUG, INFO, WARNING or ERROR", "INFO")
    .addOption(new Option("--log-format <format>", "log format").choices(["json", "text"]).default("json"))
    .option("--shutdown-grace-period <seconds>", "seconds to wait for requests in flight on SIGTERM", "30")
    .option("--audit-interval <seconds>", "audit: seconds between audits (0: none)", "60")
    .option("--audit-chunk-size <n>", "audit: objects per list request (limit/continue; 0: no limit)", "500")
    .option("--audit-workers <n>", "audit: worker threads reviewing the objects (each holds its own compiled policy; 0: the main thread)", "0")
    .option("--constraint-violations-limit <n>", "audit: violations kept in each constraint's status", "20")
    .option("--audit-match-kind-only", "audit: list only the kinds named in constraints' match.kinds")
    .option("--audit-from-cache", "audit: audit the synced data.inventory instead of listing the cluster")
    .option("--audit-report <file>", "audit: also write each complete report to this file (.ndjson: one JSON per line)")
    .option("--audit-lease-name <name>", "audit: the coordination.k8s.io Lease of the audit's leader election", "portcullis-audit")
    .option("--audit-lease-namespace <ns>", "audit: the Lease's namespace (default $POD_NAMESPACE, else the kubeconfig's)")
    .action(async (o) => {
      io.exitCode = await runController(o, io);
    });
}
