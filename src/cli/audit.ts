// `portcullis audit`: flag checks and printing; the audit is src/gatekeeper/audit.
import type { CliIO } from "./io.ts";
import { render, isOutputFormat, noColorFromEnv, OUTPUT_FORMATS } from "../output/index.ts";
import { auditOnce, type OneShotResult } from "../gatekeeper/audit/oneshot.ts";
import { toCheckResults, isDenyViolation } from "../gatekeeper/audit/report.ts";
import { ManifestError } from "../gatekeeper/yaml.ts";
import { AuditError } from "../gatekeeper/audit/audit.ts";

function wholeNumber(name: string, v: unknown, min: number): number | string {
  const s = String(v);
  if (!/^\d+$/.test(s)) return `--${name} must be a whole number, got ${JSON.stringify(s)}`;
  const n = Number(s);
  if (n < min || !Number.isSafeInteger(n)) return `--${name} must be at least ${min}, got ${s}`;
  return n;
}

export async function runAuditCommand(o: Record<string, unknown>, io: CliIO): Promise<number> {
  const format = (o.output as string | undefined) ?? "stdout";
  if (!isOutputFormat(format)) {
    io.err(`Error: unknown output format ${JSON.stringify(format)} (valid: ${OUTPUT_FORMATS.join(", ")})\n`);
    return 2;
  }
  const nums: Record<string, number> = {};
  for (const [flag, key, min] of [
    ["audit-chunk-size", "auditChunkSize", 0],
    ["constraint-violations-limit", "constraintViolationsLimit", 0],
    ["review-timeout", "reviewTimeout", 1],
  ] as const) {
    const n = wholeNumber(flag, o[key], min);
    if (typeof n === "string") {
      io.err(`Error: ${n}\n`);
      return 2;
    }
    nums[key] = n;
  }
  const files = (o.file as string[] | undefined) ?? [];
  const policyPaths = (o.policyDir as string[] | undefined) ?? [];
  if (files.length > 0 && (o.kubeconfig !== undefined || o.context !== undefined)) {
    io.err("Error: -f audits files and --kubeconfig/--context audit a cluster: give one or the other\n");
    return 2;
  }
  let res: OneShotResult;
  try {
    const common = {
      policyPaths,
      chunkSize: nums.auditChunkSize,
      violationsLimit: nums.constraintViolationsLimit,
      matchKindOnly: o.auditMatchKindOnly === true,
      reportFile: o.auditReport as string | undefined,
      reviewTimeoutMs: nums.reviewTimeout,
    };
    if (files.length > 0) res = await auditOnce({ ...common, files });
    else {
      const { connectCluster } = await import("../gatekeeper/audit/kubelister.ts");
      const cluster = await connectCluster({ kubeconfig: o.kubeconfig as string | undefined, context: o.context as string | undefined });
      res = await auditOnce({ ...common, cluster });
    }
  } catch (e) {
    if (e instanceof ManifestError || e instanceof AuditError || isUserError(e)) {
      io.err(`Error: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
  const noColor = o.color === false || noColorFromEnv(process.env);
  io.out(render(toCheckResults(res.violations, res.summary), format, { noColor }));
  for (const p of res.problems) io.err(`audit: policy not used: ${p}\n`);
  for (const e of res.summary.errors) io.err(`audit: incomplete: ${e}\n`);
  if (res.problems.length || res.summary.errors.length) return 1;
  return res.violations.some(isDenyViolation) ? 1 : 0;
}

/** Errors a user can act on (files, the kubeconfig, the API server), reported in one line. */
function isUserError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e.name === "KubeError" || e.name === "TemplateError" || e.name === "ConstraintError") return true;
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}
