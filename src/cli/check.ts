// `portcullis check`: parse and compile Rego files as `opa check` does, listing every error of
// the first failing stage (the checking is src/check/; here: flags, and opa's error text and
// JSON).

import { checkFiles, formatCheckErrors, type CheckOptions, type CheckResult } from "../check/index.ts";

export { formatCheckErrors };
import { jsonText } from "./json.ts";

export interface CheckCommandOptions extends CheckOptions {
  /** pretty or json. */
  format?: string;
}

const DETAILED = /^(\S+: invalid argument\(s\)|\S+: arity mismatch|match error|undefined ref: )/;


export function checkErrorsJSON(r: CheckResult): string {
  const errors = r.errors.map((e) => {
    // Type errors keep their have/want lines in `details` in opa's JSON (not reproduced here).
    const o: Record<string, unknown> = { message: DETAILED.test(e.message) ? e.message.split("\n")[0] : e.message };
    if (e.code) o.code = e.code;
    if (e.location) o.location = { file: e.location.file, row: e.location.row, col: e.location.col };
    if (e.details) o.details = { line: e.details.line, idx: e.details.idx };
    else if (e.typeDetails !== undefined) o.details = e.typeDetails;
    return o;
  });
  return jsonText({ errors }) + "\n";
}

/** Run check; returns the exit code. */
export function runCheck(paths: string[], o: CheckCommandOptions, out: (s: string) => void, err: (s: string) => void): number {
  const format = o.format ?? "pretty";
  if (format !== "pretty" && format !== "json") {
    err(`error: invalid argument "${format}" for "-f, --format" flag: must be one of: pretty, json\n`);
    return 1;
  }
  if (paths.length === 0) {
    err("Error: specify at least one file\n");
    return 1;
  }
  const r = checkFiles(paths, o);
  if (r.errors.length === 0) return 0;
  err(format === "json" ? checkErrorsJSON(r) : formatCheckErrors(r));
  void out;
  return 1;
}
