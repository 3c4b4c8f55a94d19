// `gator test`: review a set of objects against the templates and constraints among them.
//
// Like gator, every object given (templates and constraints included) is added to
// data.inventory and reviewed; a namespaced object's Namespace is looked up among the objects.
// Output is one line per violation:
//   <apiVersion>/<Kind> [<namespace>/]<name>: ["<constraint>"] Message: "<msg>"
// or -o json / -o yaml documents, and the exit code is 1 when any violation's action is deny
// (or scoped with deny at this enforcement point), or when anything fails to load.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { parseManifests, isPlainObject, type Obj } from "./yaml.ts";
import { readManifests, manifestFiles } from "./manifestfiles.ts";
import { goQuote } from "./schema.ts";
import { goErrnoText } from "../gotext/errno.ts";
import { gatorTestSources, type GatorTestOptions, type GatorTestResult, type Source } from "./gator.ts";

export { formatGatorLine, conflictWarnings, gatorTestSources, type GatorTestOptions, type GatorTestResult, type Source } from "./gator.ts";

type Input = string | Obj;

/** gator's reader: files, directories (walked) and objects; a missing path fails as gator words it. */
export function load(items: Input[]): Source[] {
  const out: Source[] = [];
  let stdin: Source | undefined;
  for (const it of items) {
    if (typeof it === "string") {
      let files: string[];
      try {
        files = manifestFiles(it);
      } catch (e) {
        throw new Error(`reading from filenames: stat on path ${goQuote(it)}: stat ${it}: ${goErrnoText(e)}`);
      }
      for (const file of files) out.push({ file, objs: readManifests(file) });
    } else if (isPlainObject(it)) {
      if (!stdin) out.push((stdin = { objs: [] }));
      stdin.objs.push(it);
    }
  }
  return out;
}

/**
 * Evaluate `manifests` against the templates and constraints in `policies` (both lists are
 * file/directory paths or objects; as in gator, they form one set of objects).
 */
export async function gatorTest(manifests: Input[], policies: Input[] = [], opts: GatorTestOptions = {}): Promise<GatorTestResult> {
  let sources: Source[];
  try {
    // As `gator test -f INPUTS -f POLICIES`: the inputs' objects first.
    sources = [...load(manifests), ...load(policies)];
  } catch (e) {
    return { stdout: "", stderr: `reading: ${(e as Error).message}\n`, exitCode: 1, violations: [] };
  }
  return gatorTestSources(sources, opts);
}

// ---- portcullis test with Gatekeeper policies ----------------------------------------------

function isGatekeeperObject(d: unknown): boolean {
  if (typeof d !== "object" || d === null || Array.isArray(d)) return false;
  const o = d as Record<string, unknown>;
  if (o.kind === "ConstraintTemplate" && typeof o.apiVersion === "string" && o.apiVersion.startsWith("templates.gatekeeper.sh/")) return true;
  return typeof o.apiVersion === "string" && o.apiVersion.startsWith("constraints.gatekeeper.sh/");
}

/** True when a YAML/JSON file under the policy paths holds a ConstraintTemplate or a constraint. */
export function hasGatekeeperPolicies(paths: string[]): boolean {
  const files: string[] = [];
  const walk = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
    else if (/\.(ya?ml|json)$/i.test(p)) files.push(p);
  };
  paths.forEach(walk);
  for (const f of files) {
    let docs: unknown[];
    try {
      docs = yaml.loadAll(readFileSync(f, "utf8"), undefined, { json: true });
    } catch {
      continue;
    }
    if (docs.some(isGatekeeperObject)) return true;
  }
  return false;
}

/** Standard input given as `-` that does not parse as manifests. */
export class GatorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GatorInputError";
  }
}

/**
 * gator test over command-line arguments (`portcullis test` with Gatekeeper policies): files
 * and directories, `-` for standard input (read with `readStdin`, default file descriptor 0).
 * Throws GatorInputError when standard input does not parse.
 */
export async function gatorTestArgs(args: string[], policies: string[], opts: GatorTestOptions & { readStdin?: () => string } = {}): Promise<GatorTestResult> {
  const { readStdin, ...gatorOpts } = opts;
  const manifests: Input[] = [];
  for (const p of args) {
    if (p === "-") {
      const text = (readStdin ?? (() => readFileSync(0, "utf8")))();
      try {
        manifests.push(...parseManifests(text, "-"));
      } catch (e) {
        throw new GatorInputError((e as Error).message);
      }
    } else manifests.push(p);
  }
  return gatorTest(manifests, policies, gatorOpts);
}
