// The `conftest test` evaluation model, reproduced from conftest's observable behaviour:
//
//  * Policies: every `.rego` file under the policy paths (hidden ones included). Data: every
//    `.json`/`.yaml`/`.yml` file under the data paths, merged at its directory's path.
//  * Namespaces: `--all-namespaces` takes every package; otherwise the -n names are used as they
//    are, unless one of them is a glob (`*`, `?`, `[`), in which case the packages matching any
//    name are used (`*` also matches dots).
//  * Rules: in each namespace, the rules named `deny`, `violation` or `warn`, optionally followed
//    by `_suffix` parts of letters and digits. Each is queried as `data.<ns>.<rule>`; a set or
//    array value gives one result per string element (or per object with a string `msg`: the
//    other keys are metadata); an empty collection or any other value is a pass.
//  * Exceptions: before each rule, `data.<ns>.exception[_][_] == "<rule name without its
//    deny_/violation_/warn_ prefix>"`; each solution is an exception and the rule's own results
//    are then dropped.
//  * Documents: a file whose value is a list (multi-document YAML, a JSON array) is checked one
//    element at a time; `--combine` checks all files at once as `[{path, contents}]`.
//  * Successes per document: max(passes, rule definitions − failures − warnings − exceptions),
//    where rule definitions counts every definition (defaults included) of the checked rules.
//  * data.conftest.file is {name, dir} of the file being checked (dir absolute).
//  * `print` output of every query is kept per result (the stdout format shows it as PRNT).

import { readFileSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve, relative, sep } from "node:path";
import { Engine } from "../engine/index.ts";
import { CONFTEST_TABLE } from "./builtins.ts";
import { collectingTable } from "./builtinerrors.ts";
import { RegoError } from "../rego/errors.ts";
import { parseModule } from "../rego/parser.ts";
import type { Module } from "../rego/ast.ts";
import { parseDataFile, checkDataMerge, LoadError } from "../load/index.ts";
import { parseFile, parseContent, detectParserName, ParseError } from "../formats/index.ts";
import { asGoNumbers } from "./numbers.ts";
import type { CheckResult } from "../output/types.ts";
import { compareUTF8 } from "../gotext/plainjson.ts";
import { ConftestError, STDIN, findInputFiles, combineConfigs } from "./inputs.ts";
import { checkStrict, checkCapabilities, problematicIf, noPoliciesFound } from "./checks.ts";
import { streamYamlFile, type LazyDocuments } from "./stream.ts";
import { parseForCheck, loadingErrorsText, type CheckError } from "../check/index.ts";

export { ConftestError } from "./errors.ts";
export { DEFAULT_TIMEOUT_MS, isFailureRule, isWarningRule, exceptionName, moduleNamespaces, resolveNamespaces, namespaceRules, type LoadedPolicies, type Config, type RunOptions } from "./evaluate.ts";
import { DEFAULT_TIMEOUT_MS, isFailureRule, isWarningRule, earliestStage, runChecks as runLoadedChecks, type LoadedPolicies, type Config } from "./evaluate.ts";
import { runLibraryChecks as runLibrarySequential } from "./evaluate.ts";
import { libraryWorkers, runLibraryParallel, BATCH_DOCUMENTS } from "./parallel.ts";
import type { SpoolDir } from "../output/spool.ts";
import type { CheckResultView } from "../output/types.ts";

export interface TestOptions {
  /** Policy files or directories (.rego files are loaded). */
  policy: string[];
  /** Data files or directories (.json/.yaml/.yml). */
  data?: string[];
  /** Namespaces or globs (default ["main"]). */
  namespaces?: string[];
  allNamespaces?: boolean;
  combine?: boolean;
  /** Parser for every input (default: chosen by file name; yaml for stdin). */
  parser?: string;
  regoVersion?: "v0" | "v1";
  /** --show-builtin-errors: builtin errors stop the run instead of making calls undefined. */
  showBuiltinErrors?: boolean;
  strict?: boolean;
  /** Path of an OPA capabilities JSON file restricting the builtins policies may call. */
  capabilities?: string;
  ignore?: string;
  /** Name reported for standard input (default "-"). */
  stdinFilename?: string;
  /** Leave `*_test.rego` files out of the policies (used for the built-in library). */
  skipTestFiles?: boolean;
  /** Evaluation deadline per query, in milliseconds (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Read standard input (tests pass their own). */
  readStdin?: () => string;
  /** Record each query's evaluation trace (--trace): CheckResult.queries[].traces. */
  trace?: boolean;
  /** The built-in library is being run (./evaluate.ts RunOptions.library). */
  library?: boolean;
  /**
   * --parallel: threads checking the built-in library's documents (0 or 1: the caller's only);
   * unset: one per core for large inputs (./parallel.ts libraryWorkers).
   */
  parallel?: number;
  /** Documents sent to a worker thread at a time (default BATCH_DOCUMENTS; tests use small batches). */
  parallelBatch?: number;
}

/** conftest's engine: OPA's builtins and conftest's parse_config*. */

/** For --show-builtin-errors: the same builtins, recording their errors (builtinerrors.ts). */
let collectingConftestTable: ReturnType<typeof collectingTable> | undefined;

/**
 * Every .rego file under the paths, in walk order (names sorted, hidden entries included), each
 * once. A file named directly is a policy only if it is a .rego file, as in OPA's loader.
 */
export function findPolicyFiles(paths: string[], opts: { skipTestFiles?: boolean } = {}): string[] {
  const out = new Set<string>();
  const missing: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      missing.push(`stat ${p}: no such file or directory`);
      continue;
    }
    if (!st.isDirectory()) {
      if (p.endsWith(".rego")) out.add(p);
      continue;
    }
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort(compareUTF8)) {
        const f = join(dir, name);
        let s;
        try {
          s = statSync(f);
        } catch {
          continue;
        }
        if (s.isDirectory()) walk(f);
        else if (name.endsWith(".rego") && !(opts.skipTestFiles && name.endsWith("_test.rego"))) out.add(f);
      }
    };
    walk(p);
  }
  if (missing.length) throw new ConftestError(`load: loading policies: load: ${loadingErrorsText(missing.map((message) => ({ message })))}`);
  return [...out];
}

/**
 * Load the policies and data into a new engine, failing as conftest does: files that cannot be
 * read or parsed (`load: N errors occurred during loading`), no policy at all (`no policies
 * found in [paths]`), compile errors (`get compiler`), then `deny[x] if …` rules.
 */
export function loadPolicies(o: TestOptions): LoadedPolicies {
  const regoVersion = o.regoVersion ?? "v1";
  const files = findPolicyFiles(o.policy, { skipTestFiles: o.skipTestFiles }).map((file) => ({ file, source: readText(file) }));
  const modules: Module[] = [];
  const parseErrors: CheckError[] = [];
  for (const f of files) {
    const r = parseForCheck(f.file, f.source, regoVersion);
    if (r.errors) parseErrors.push(...r.errors);
    else modules.push(r.module!);
  }
  if (parseErrors.length) throw new ConftestError(`load: loading policies: load: ${loadingErrorsText(parseErrors)}`);
  if (modules.length === 0) throw new ConftestError(`load: loading policies: ${noPoliciesFound(o.policy)}`);
  // --show-builtin-errors: evaluation goes on past a builtin error, as without the flag, and
  // each query's errors are collected and reported together (as conftest does).
  const builtins = o.showBuiltinErrors ? (collectingConftestTable ??= collectingTable(CONFTEST_TABLE)) : CONFTEST_TABLE;
  const engine = new Engine({ regoVersion, strictBuiltinErrors: false, builtins, timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  const ifWithoutContains = problematicIf(modules);
  try {
    engine.addParsedModules(modules);
    engine.compile();
  } catch (e) {
    if (e instanceof RegoError) throw new ConftestError(`load: loading policies: get compiler: ${earliestStage(e).message}`);
    throw e;
  }
  if (o.strict || o.capabilities) {
    // The checks read the modules as written (the compiler rewrites the engine's copies).
    const fresh = files.map((f) => parseModule(f.file, f.source, { regoVersion }));
    const errs = [...(o.capabilities ? checkCapabilities(fresh, o.capabilities) : []), ...(o.strict ? checkStrict(fresh) : [])];
    if (errs.length) throw new ConftestError(`load: loading policies: get compiler: ${new RegoError(errs).message}`);
  }
  if (ifWithoutContains) throw new ConftestError(`load: loading policies: ${ifWithoutContains}`);
  for (const d of loadData(o.data ?? [])) engine.addData(d.value, d.path);
  return { engine, modules };
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new ConftestError(`load: loading policies: load: 1 error occurred during loading: ${file}: ${(e as Error).message}`);
  }
}

const DATA_FILE = /\.(json|ya?ml)$/i;

/** Data documents under the paths: a file named directly is merged at the root, files found in a directory at their relative directory. */
export function loadData(paths: string[]): { file: string; path: string[]; value: unknown }[] {
  const out: { file: string; path: string[]; value: unknown }[] = [];
  const read = (file: string, at: string[]) => {
    let value: unknown;
    try {
      value = parseDataFile(file, readFileSync(file, "utf8"));
    } catch (e) {
      throw new ConftestError(`load: loading data: ${e instanceof LoadError ? e.message : (e as Error).message}`);
    }
    out.push({ file, path: at, value });
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new ConftestError(`load: loading data: stat ${p}: no such file or directory`);
    }
    if (!st.isDirectory()) {
      read(p, []);
      continue;
    }
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort(compareUTF8)) {
        const f = join(dir, name);
        const s = statSync(f);
        if (s.isDirectory()) walk(f);
        else if (DATA_FILE.test(name)) read(f, relative(p, dir).split(sep).filter((x) => x !== ""));
      }
    };
    walk(p);
  }
  try {
    checkDataMerge(out);
  } catch (e) {
    if (e instanceof LoadError) throw new ConftestError(`load: load documents: 1 error occurred during loading: ${e.message}`);
    throw e;
  }
  return out;
}

/** Parse the inputs into configs (one per file, or one combined). */
export function readConfigs(inputs: string[], o: TestOptions): Config[] {
  const files = findInputFiles(inputs, { ignore: o.ignore });
  const parsed: { path: string; name: string; value: unknown; lazy?: { count: number; docs: LazyDocuments } }[] = [];
  // The built-in library checks each document on its own: multi-document YAML files are parsed
  // a batch at a time while the run goes on (./stream.ts).
  const stream = o.library === true && !o.combine && !o.trace;
  for (const f of files) {
    let value: unknown;
    let parser: string;
    const lazy = stream && f !== STDIN ? streamYamlFile(f, o.parser || undefined) : undefined;
    if (lazy) {
      parsed.push({ path: f, name: f, value: undefined, lazy });
      continue;
    }
    try {
      if (f === STDIN) {
        const text = (o.readStdin ?? (() => readFileSync(0, "utf8")))();
        parser = o.parser || (o.stdinFilename ? detectParserName(o.stdinFilename) : "yaml");
        value = parseContent(text, o.stdinFilename || STDIN, { parser: o.parser || (o.stdinFilename ? undefined : "yaml") });
      } else {
        parser = o.parser || detectParserName(f);
        value = parseFile(f, { parser: o.parser || undefined });
      }
    } catch (e) {
      // The streamed files before this one fail first, as when every file is parsed up front.
      for (const p of parsed) p.lazy?.docs.settle();
      if (e instanceof ParseError) throw new ConftestError(`parse configurations: ${e.message}`);
      throw e;
    }
    // Numbers as conftest's Go parsers hand them to OPA (float64 texts such as 1e+06).
    value = asGoNumbers(value, parser);
    const name = f === STDIN ? o.stdinFilename || STDIN : f;
    parsed.push({ path: f, name, value });
  }
  const cwd = process.cwd();
  if (o.combine) {
    const combined = combineConfigs(parsed.map((p) => ({ path: p.name, value: p.value })));
    return [{ filename: "Combined", file: { name: "Combined", dir: cwd }, documents: [combined] }];
  }
  return parsed.map((p) => ({
    filename: p.name,
    file: { name: basename(p.name), dir: resolve(cwd, dirname(p.name)) },
    documents: p.lazy ? new Array<unknown>(p.lazy.count) : Array.isArray(p.value) ? p.value : [p.value],
    lazy: p.lazy?.docs,
  }));
}

/** Run the checks: one CheckResult per namespace and config (namespaces outermost; ./evaluate.ts). */
export function runChecks(loaded: LoadedPolicies, configs: Config[], o: TestOptions): Promise<CheckResult[]> {
  return runLoadedChecks(loaded, configs, o);
}

/**
 * The built-in library's checks with the results in spools of `dir` (./evaluate.ts
 * runLibraryChecks), on worker threads when the input is large (./parallel.ts): the same results
 * either way.
 */
export function runLibraryChecks(loaded: LoadedPolicies, configs: Config[], o: TestOptions, dir: SpoolDir): Promise<CheckResultView[]> {
  const documents = configs.reduce((n, c) => n + c.documents.length, 0);
  const batch = Math.max(1, o.parallelBatch ?? BATCH_DOCUMENTS);
  const workers = o.trace ? 1 : libraryWorkers(o.parallel, documents, batch);
  return workers > 1 ? runLibraryParallel(loaded, configs, o, dir, workers, batch) : runLibrarySequential(loaded, configs, o, dir);
}
