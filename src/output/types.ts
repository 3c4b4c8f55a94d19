// The result model shared by `portcullis test` and `portcullis verify`, and rendered by one
// output file per format (stdout, json, tap, table, junit, github, azuredevops, sarif). It
// mirrors conftest's CheckResult so that every format can print what conftest prints.

/** One message produced by a rule (a string result, or the `msg` of an object result). */
export interface Result {
  msg: string;
  /** Other keys of an object result (besides msg and _loc), shown by json/sarif. */
  metadata?: Record<string, unknown>;
  /**
   * Where the problem is, from an object result's `_loc: {file, line}` (conftest's Location):
   * `file` when it is a string, `line` (its number text) when it is a number; shown by json,
   * github and sarif.
   */
  loc?: ResultLocation;
  /** Lines printed by `print` while producing this result (conftest shows them as PRNT). */
  outputs?: string[];
  /**
   * The metadata already rendered as the output format prints it, for results read back from a
   * spool (./spool.ts), which keep no `metadata`: json's indented text, sarif's compact text.
   */
  metadataText?: string;
}

/** A list of results as the renderers read it: an array, or a spool read back one at a time (./spool.ts). */
export interface ResultList extends Iterable<Result> {
  readonly length: number;
}

export interface ResultLocation {
  file?: string;
  line?: string;
}

/** The results of one input file (or one combined input) in one namespace. */
export interface CheckResult {
  filename: string;
  namespace: string;
  /** Number of rules that passed (evaluated and produced nothing). */
  successes: number;
  skipped: Result[];
  warnings: Result[];
  failures: Result[];
  exceptions: Result[];
  /** Trace lines (--trace), per query. */
  queries?: { query: string; results?: unknown; traces?: string[]; outputs?: string[]; passed?: boolean }[];
}

/** What the renderers read of a CheckResult: its result lists may be spools. */
export interface CheckResultView {
  filename: string;
  namespace: string;
  successes: number;
  skipped: ResultList;
  warnings: ResultList;
  failures: ResultList;
  exceptions: ResultList;
  queries?: CheckResult["queries"];
}

/** Where a renderer writes its text, piece by piece. */
export type Write = (text: string) => void;

export type OutputFormat = "stdout" | "json" | "tap" | "table" | "junit" | "github" | "azuredevops" | "sarif";

export const OUTPUT_FORMATS: OutputFormat[] = ["stdout", "json", "tap", "table", "junit", "github", "azuredevops", "sarif"];

export interface RenderOptions {
  noColor?: boolean;
  /** Include trace output (--trace). */
  tracing?: boolean;
  /** Show skipped results (conftest --show-builtin-errors and verify's report options); the stdout
   * summary then ends with `, N skipped` as `conftest verify` prints it. */
  showSkipped?: boolean;
  junitHideMessage?: boolean;
  /** conftest verify's --report: full | notes | fails. */
  report?: "full" | "notes" | "fails";
  /** --suppress-exceptions: leave EXCP lines out of the stdout format (they still count). */
  suppressExceptions?: boolean;
  /** --github-hide-passed: leave results without failures, warnings or exceptions out of -o github. */
  githubHidePassed?: boolean;
}
