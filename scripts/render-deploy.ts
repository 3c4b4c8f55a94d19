// deploy/ is the Helm chart (charts/portcullis) rendered with its default values: this script
// renders it with `helm template` and writes one file per template (and deploy/crds/ from the
// chart's crds/). test/deploy/chart.test.ts checks that deploy/ and the chart agree.
//
//   node --import tsx scripts/render-deploy.ts [--check]
//
// Needs helm (`go install helm.sh/helm/v3/cmd/helm@latest` puts it in ~/go/bin).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const CHART = join(ROOT, "charts", "portcullis");
export const RELEASE_NAMESPACE = "gatekeeper-system";

/** deploy/ file of each chart template (templates absent here render nothing with the defaults). */
export const TEMPLATE_FILES: Record<string, string> = {
  "templates/namespace.yaml": "namespace.yaml",
  "templates/rbac.yaml": "rbac.yaml",
  "templates/controller.yaml": "controller.yaml",
  "templates/webhook-configuration.yaml": "webhook.yaml",
  "templates/audit.yaml": "audit.yaml",
  "templates/metrics.yaml": "metrics.yaml",
};

const HEADER = "# Generated from charts/portcullis by scripts/render-deploy.ts (helm template, default values): edit the chart, not this file.\n";

/** The helm binary: $HELM, helm on PATH or ~/go/bin/helm; "" when there is none. */
export function helmBinary(): string {
  const candidates = [process.env.HELM ?? "", ...(process.env.PATH ?? "").split(":").filter(Boolean).map((d) => join(d, "helm")), join(homedir(), "go", "bin", "helm")];
  return candidates.find((c) => c && existsSync(c)) ?? "";
}

/** `helm template` of the chart (with --set pairs), as documents keyed by their source file in the chart. */
export function renderChart(helm: string, sets: string[] = []): Map<string, string> {
  const args = ["template", "portcullis", CHART, "--namespace", RELEASE_NAMESPACE, "--include-crds"];
  for (const s of sets) args.push("--set", s);
  const out = execFileSync(helm, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  const files = new Map<string, string>();
  for (const doc of out.split(/^---\n/m)) {
    const m = /^# Source: portcullis\/(\S+)\n/.exec(doc);
    if (!m) continue;
    const body = doc.slice(m[0].length);
    if (body.trim() === "") continue;
    files.set(m[1], (files.has(m[1]) ? `${files.get(m[1])}---\n` : "") + body.replace(/\s*$/, "\n"));
  }
  return files;
}

/** The deploy/ files (relative path → text) rendered from the chart's defaults. */
export function renderDeploy(helm: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [src, text] of renderChart(helm)) {
    if (src.startsWith("crds/")) out.set(src, text);
    else if (TEMPLATE_FILES[src]) out.set(TEMPLATE_FILES[src], HEADER + text);
    else throw new Error(`chart template ${src} has no deploy/ file: add it to TEMPLATE_FILES`);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const helm = helmBinary();
  if (!helm) {
    console.error("render-deploy: helm not found (go install helm.sh/helm/v3/cmd/helm@latest)");
    process.exit(2);
  }
  const check = process.argv.includes("--check");
  let differ = 0;
  for (const [file, text] of renderDeploy(helm)) {
    const path = join(ROOT, "deploy", file);
    const old = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (old === text) continue;
    differ++;
    if (check) console.error(`deploy/${file} differs from the chart`);
    else writeFileSync(path, text);
  }
  console.error(check ? `${differ} file(s) differ` : `${differ} file(s) written`);
  process.exit(check && differ ? 1 : 0);
}
