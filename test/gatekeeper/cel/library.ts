// The gatekeeper-library samples with CEL (K8sNativeValidation) templates, for the recorded
// comparison with gator: the library in ../shared (library/…) and the versioned library
// (artifacthub/library/…/<version>/) of a gatekeeper-library git mirror, extracted at the
// recorded commit. Nothing of the library is committed here: tests skip when neither is present.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { yamlFiles } from "../../support/oracles.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
export const SHARED_LIBRARY = path.resolve(here, "../../../../shared/gatekeeper-library");
/** A gatekeeper-library git directory (a mirror or a clone); GATEKEEPER_LIBRARY_GIT overrides. */
export const LIBRARY_GIT = process.env.GATEKEEPER_LIBRARY_GIT ?? "/work/.mirror/open-policy-agent+gatekeeper-library/repo";
/** The commit of the versioned library the fixtures were recorded at. */
export const VERSIONED_COMMIT = "5c441fb645f257b2c428fe9aea22da24a94b5bab";

export interface SampleDir {
  /** Key in the fixtures: the path below the library root. */
  key: string;
  dir: string;
  /** template.yaml then every sample file, as given to gator test -f. */
  files: string[];
}

function sampleDirs(root: string, sub: string): SampleDir[] {
  const out: SampleDir[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!e.isDirectory()) continue;
      const p = path.join(d, e.name);
      const t = path.join(p, "template.yaml");
      if (fs.existsSync(t) && fs.existsSync(path.join(p, "samples"))) {
        if (fs.readFileSync(t, "utf8").includes("K8sNativeValidation")) out.push({ key: path.relative(root, p), dir: p, files: [t, ...yamlFiles(path.join(p, "samples"))] });
      } else walk(p);
    }
  };
  const start = path.join(root, sub);
  if (fs.existsSync(start)) walk(start);
  return out;
}

/** The CEL sample directories of the library in ../shared (null when absent). */
export function sharedSamples(): SampleDir[] | null {
  return fs.existsSync(path.join(SHARED_LIBRARY, "library")) ? sampleDirs(SHARED_LIBRARY, "library") : null;
}

let extracted: string | null | undefined;

/** The CEL sample directories of the versioned library at VERSIONED_COMMIT (null when no mirror has it). */
export function versionedSamples(): SampleDir[] | null {
  if (extracted === undefined) {
    extracted = null;
    try {
      execFileSync("git", ["-C", LIBRARY_GIT, "cat-file", "-e", `${VERSIONED_COMMIT}^{commit}`], { stdio: "ignore" });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gk-library-"));
      process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
      const tar = execFileSync("git", ["-C", LIBRARY_GIT, "archive", VERSIONED_COMMIT, "artifacthub/library"], { maxBuffer: 1 << 28 });
      execFileSync("tar", ["-x", "-C", dir], { input: tar });
      extracted = dir;
    } catch {
      extracted = null;
    }
  }
  return extracted ? sampleDirs(extracted, "artifacthub/library") : null;
}

export interface Recorded {
  /** gator test -f … (CEL on): stdout lines sorted (gator orders ties arbitrarily), exit code. */
  test: { lines: string[]; code: number };
  /** gator test --enable-k8s-native-validation=false. */
  testRego: { lines: string[]; code: number };
  /** gator verify -v <dir>/...: its result lines (verifySummary), exit code. */
  verify?: { out: string; code: number };
}

/** verify -v output reduced to its result lines (--- PASS/FAIL/SKIP, ok, FAIL, PASS), durations and the directory replaced. */
export const verifySummary = (s: string, dir: string) =>
  s
    .split(dir)
    .join("<dir>")
    .replace(/\d+\.\d+s/g, "<t>")
    .split("\n")
    .filter((l) => /^\s*--- (PASS|FAIL|SKIP)|^ok\s|^FAIL|^PASS/.test(l))
    .join("\n");

/** gator test flags of each recorded fixture mode. */
export const FIXTURE_MODES: Record<string, string[]> = {
  cel: [],
  rego: ["--enable-k8s-native-validation=false"],
  ignore: ["--default-k8s-native-validation-failure-policy=Ignore"],
};

/** The hand-written fixture cases: fixtures/<name>/*.yaml, template first (file names relative to the case). */
export function fixtureCases(): { name: string; dir: string; files: string[] }[] {
  const root = path.join(here, "fixtures");
  return fs
    .readdirSync(root)
    .sort()
    .map((name) => {
      const dir = path.join(root, name);
      const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort((a, b) => (a === "template.yaml" ? -1 : b === "template.yaml" ? 1 : a < b ? -1 : 1));
      return { name, dir, files };
    });
}
