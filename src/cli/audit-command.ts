// Registers `portcullis audit`: one Gatekeeper audit, of a cluster (--kubeconfig) or of
// manifest files (-f), printed in conftest's output formats; the complete report to a file
// with --audit-report. Exit code: 0 clean, 1 when a deny violation exists or the audit is
// incomplete (policy objects that could not be used, kinds that could not be listed, reviews
// that failed), 2 for bad flags. docs/audit.md.
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { OUTPUT_FORMATS } from "../output/types.ts";

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(",").filter((s) => s !== "")];

export function register(program: Command, io: CliIO): void {
  program
    .command("audit")
    .description("Audit objects against Gatekeeper constraints: a cluster (--kubeconfig) or manifests (-f); the complete, uncapped report")
    .option("--kubeconfig <file>", "audit the cluster of this kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--context <name>", "kubeconfig context to use")
    .option("--policy-dir <paths>", "templates, constraints and Config from these files or directories (default: the cluster's)", collect)
    .option("-f, --file <paths>", "audit the objects in these files or directories instead of a cluster", collect)
    .option("-o, --output <format>", `output format: ${OUTPUT_FORMATS.join(", ")} (default "stdout")`)
    .option("--no-color", "disable color when printing")
    .option("--audit-chunk-size <n>", "objects per list request (limit/continue; 0: no limit)", "500")
    .option("--constraint-violations-limit <n>", "violations per constraint in the status summary", "20")
    .option("--audit-match-kind-only", "list only the kinds named in constraints' match.kinds")
    .option("--audit-report <file>", "write the complete report to this file (.ndjson/.jsonl: one JSON object per line; otherwise JSON)")
    .option("--review-timeout <ms>", "deadline of one object's review, ms", "10000")
    .action(async (o: Record<string, unknown>) => {
      const { runAuditCommand } = await import("./audit.ts");
      io.exitCode = await runAuditCommand(o, io);
    });
}
