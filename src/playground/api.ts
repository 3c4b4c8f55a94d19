// What the playground's worker runs: `portcullis eval`, `test`, `test` with Gatekeeper policies,
// `fmt` and `check` on texts instead of files, printing what the commands print. Everything here
// is the engine's own code (src/rego, src/builtins, src/formats, src/conftest, src/gatekeeper,
// src/output); only the host seams differ in the browser bundle (./host/, ./substitutes.ts).

import { Engine, type RawResult } from "../engine/index.ts";
import { RegoError, type ErrorDetail } from "../rego/errors.ts";
import { parseQuery } from "../rego/parser.ts";
import { formatSource } from "../rego/format.ts";
import type { Module } from "../rego/ast.ts";
import { OPA_BUILTINS } from "../builtins/index.ts";
import { LoadError, parseDataFile } from "../load/data.ts";
import { parseContent, detectParserName, ParseError, ParserFault } from "../formats/content.ts";
import { asGoNumbers } from "../conftest/numbers.ts";
import { runChecks, earliestStage, problematicIf, type Config } from "../conftest/evaluate.ts";
import { ConftestError } from "../conftest/errors.ts";
import { renderStdout } from "../output/stdout.ts";
import { formatResults } from "../output/evalresults.ts";
import { errorsJSON } from "../output/evalerrors.ts";
import { parseForCheck, compileErrors, formatCheckErrors, loadingErrorsText, type CheckError } from "../check/compile.ts";
import { parseManifests, ManifestError } from "../gatekeeper/yaml.ts";
import { gatorTestSources } from "../gatekeeper/gator.ts";

/** The file name the policy pane has in messages and error locations. */
export const POLICY_FILE = "policy.rego";

export type Mode = "eval" | "test" | "gatekeeper";

/** The playground's state: what the panes hold (also what a share link carries). */
export interface State {
  mode: Mode;
  policy: string;
  /** eval: the input document (JSON or YAML); test: the configuration file; gatekeeper: the objects under review. */
  input: string;
  /** eval: a parser name or "auto" (JSON/YAML as `eval -i`); test: a parser name, or "auto" (by file name). */
  format: string;
  /** test: the configuration's file name (conftest picks the parser by it). */
  filename: string;
  /** eval: data (JSON/YAML, merged at data's root); gatekeeper: ConstraintTemplates and Constraints. */
  data: string;
  /** eval: the query. */
  query: string;
}

/** A problem at a place in the policy pane, for the editor's diagnostics. */
export interface Marker {
  row: number;
  col: number;
  message: string;
}

export interface Answer {
  /** What the command prints on standard output. */
  stdout: string;
  /** What it prints on standard error. */
  stderr: string;
  exitCode: number;
  /** Errors located in the policy. */
  markers: Marker[];
  /** print() output of the policy. */
  prints: string[];
  /** Evaluation time, in milliseconds. */
  ms: number;
}

/** Default evaluation deadline (the page passes its own; it also terminates the worker a little after it). */
export const EVAL_TIMEOUT_MS = 5_000;

function markersOf(errors: (ErrorDetail | CheckError)[]): Marker[] {
  return errors.flatMap((e) => (e.location && e.location.file === POLICY_FILE ? [{ row: e.location.row, col: e.location.col, message: `${e.code ? e.code + ": " : ""}${e.message}` }] : []));
}

function answer(stdout: string, stderr: string, exitCode: number, started: number, extra: Partial<Answer> = {}): Answer {
  return { stdout, stderr, exitCode, markers: [], prints: [], ms: Math.round((performance.now() - started) * 10) / 10, ...extra };
}

/** A document of the input or data pane: JSON/YAML as `eval -i`/`-d` read them, or any input format. */
function readDocument(text: string, format: string, name: string): unknown {
  if (format === "auto" || format === "json" || format === "yaml") {
    const json = format === "json" || (format === "auto" && /^\s*[[{]/.test(text));
    return parseDataFile(`${name}.${json ? "json" : "yaml"}`, text);
  }
  return asGoNumbers(parseContent(text, name, { parser: format }), format);
}

/** `portcullis eval -d policy.rego [-d data] [-i input] QUERY` (JSON output). */
export async function runEval(s: State, timeoutMs = EVAL_TIMEOUT_MS): Promise<Answer> {
  const started = performance.now();
  const prints: string[] = [];
  const sources = new Map<string, string>([[POLICY_FILE, s.policy]]);
  try {
    const engine = new Engine({ regoVersion: "v1", printHook: (line) => prints.push(line) });
    engine.addModule(POLICY_FILE, s.policy);
    engine.compile();
    if (s.data.trim() !== "") engine.addData(readDocument(s.data, "auto", "data"));
    const input = s.input.trim() === "" ? undefined : readDocument(s.input, s.format, "input");
    parseQuery(s.query, { regoVersion: "v1", file: "query" });
    const pq = engine.prepare(s.query);
    let raw: RawResult[] = await pq.evalRaw({ input, timeoutMs });
    let texts = pq.expressionTexts();
    // `some x` declarations are no expressions of OPA's result (as src/cli/eval.ts).
    const decls = new Set<number>();
    parseQuery(s.query, { regoVersion: "v1", file: "query" }).forEach((e, i) => e.node.type === "some" && decls.add(i));
    if (decls.size > 0) {
      raw = raw.map((r) => ({ ...r, expressions: r.expressions.filter((_, i) => !decls.has(i)) }));
      texts = texts.filter((_, i) => !decls.has(i));
    }
    return answer(formatResults(raw, texts, "json"), "", 0, started, { prints });
  } catch (e) {
    if (e instanceof RegoError) return answer(errorsJSON(e, s.query, (f) => sources.get(f)), "", 2, started, { markers: markersOf(e.errors), prints });
    if (e instanceof LoadError) return answer("", `error: ${e.message}\n`, 2, started, { prints });
    if (e instanceof ParseError || e instanceof ParserFault) return answer("", `error: unable to parse input: ${e.message}\n`, 2, started, { prints });
    throw e;
  }
}

/** `portcullis test FILE -p policy.rego --no-color` (the stdout format). */
export async function runTest(s: State, timeoutMs = EVAL_TIMEOUT_MS): Promise<Answer> {
  const started = performance.now();
  const filename = s.filename.trim() || "input.yaml";
  // As `portcullis test` loads policies (src/conftest/runner.ts loadPolicies): parse errors with
  // their source lines, then the first compile stage's errors, then `deny[x] if` without contains.
  const parsed = parseForCheck(POLICY_FILE, s.policy, "v1");
  if (parsed.errors) return answer("", `Error: running test: load: loading policies: load: ${loadingErrorsText(parsed.errors)}\n`, 1, started, { markers: markersOf(parsed.errors) });
  const modules: Module[] = [parsed.module!];
  const engine = new Engine({ regoVersion: "v1", strictBuiltinErrors: false, timeoutMs });
  try {
    engine.addParsedModules(modules);
    engine.compile();
  } catch (e) {
    if (e instanceof RegoError) {
      const first = earliestStage(e);
      return answer("", `Error: running test: load: loading policies: get compiler: ${first.message}\n`, 1, started, { markers: markersOf(first.errors) });
    }
    throw e;
  }
  const ifWithoutContains = problematicIf(modules);
  if (ifWithoutContains) return answer("", `Error: running test: load: loading policies: ${ifWithoutContains}\n`, 1, started);
  try {
    const parser = s.format === "auto" ? detectParserName(filename) : s.format;
    let value = parseContent(s.input, filename, { parser: s.format === "auto" ? undefined : s.format });
    value = asGoNumbers(value, parser);
    const base = filename.slice(filename.lastIndexOf("/") + 1);
    const config: Config = { filename, file: { name: base, dir: "/" }, documents: Array.isArray(value) ? value : [value] };
    const results = await runChecks({ engine, modules }, [config], { namespaces: ["main"], timeoutMs });
    const prints = results.flatMap((r) => (r.queries ?? []).flatMap((q) => q.outputs ?? []));
    const failed = results.some((r) => r.failures.length > 0);
    return answer(renderStdout(results, { noColor: true }), "", failed ? 1 : 0, started, { prints });
  } catch (e) {
    if (e instanceof ConftestError) return answer("", `Error: running test: ${e.message}\n`, 1, started);
    if (e instanceof ParseError) return answer("", `Error: running test: parse configurations: ${e.message}\n`, 1, started);
    if (e instanceof ParserFault) return answer("", `Error: running test: ${e.message}\n`, 2, started);
    throw e;
  }
}

/** `portcullis test objects.yaml -p policies/` with Gatekeeper policies (as `gator test`). */
export async function runGatekeeper(s: State): Promise<Answer> {
  const started = performance.now();
  try {
    const objects = parseManifests(s.input, "objects.yaml");
    const policies = parseManifests(s.data, "policies.yaml");
    const r = await gatorTestSources([
      { file: "objects.yaml", objs: objects },
      { file: "policies.yaml", objs: policies },
    ]);
    return answer(r.stdout, r.stderr, r.exitCode, started);
  } catch (e) {
    if (e instanceof ManifestError) return answer("", `reading: ${e.message}\n`, 1, started);
    throw e;
  }
}

/** `portcullis fmt` of the policy: the formatted text, or the parse errors. */
export function runFmt(s: State): { formatted?: string; error?: string; markers: Marker[] } {
  try {
    return { formatted: formatSource(POLICY_FILE, s.policy), markers: [] };
  } catch (e) {
    if (e instanceof RegoError) return { error: `${e.message}\n`, markers: markersOf(e.errors) };
    throw e;
  }
}

/** `portcullis check policy.rego`: nothing when all is well, else opa check's report (exit 1). */
export function runCheck(s: State): Answer {
  const started = performance.now();
  const parsed = parseForCheck(POLICY_FILE, s.policy, "v1");
  if (parsed.errors) return answer("", formatCheckErrors({ phase: "loading", errors: parsed.errors }), 1, started, { markers: markersOf(parsed.errors) });
  const errors = compileErrors([parsed.module!], OPA_BUILTINS);
  if (errors.length === 0) return answer("", "", 0, started);
  return answer("", formatCheckErrors({ phase: "compile", errors }), 1, started, { markers: markersOf(errors) });
}

export function run(s: State, timeoutMs = EVAL_TIMEOUT_MS): Promise<Answer> {
  switch (s.mode) {
    case "eval":
      return runEval(s, timeoutMs);
    case "test":
      return runTest(s, timeoutMs);
    case "gatekeeper":
      return runGatekeeper(s);
  }
}
