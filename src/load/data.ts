// Data documents as OPA's loader reads them, from text (no file access, so the browser playground
// uses it too): JSON read exactly (number texts kept), YAML with Go's limits, OPA's depth limit and
// merge checks. ./index.ts walks the paths and reads the files.

import type jsyaml from "js-yaml";
import { lazyRequire } from "../lazy.ts";

/** js-yaml, loaded with the first YAML document (a cold `eval` of JSON needs none). */
const yaml = lazyRequire<typeof jsyaml>("js-yaml");
import { JSONSyntaxError, RISKY, parseJSON } from "../gotext/json.ts";
import { callWithLargeStack, encodeDocument, decodeDocument, isStackOverflow, registerLargeStackFn } from "../builtins/support/large-stack.ts";
import { checkAliases, YamlAliasError } from "../builtins/support/yaml-aliases.ts";
import { JS_YAML_MAX_DEPTH } from "../builtins/support/doclimits.ts";
import { MAX_VALUE_DEPTH, nestingDepth } from "../rego/value.ts";
import type { Engine } from "../rego/engine.ts";

export interface LoadedFiles {
  modules: { file: string; source: string }[];
  data: { file: string; path: string[]; value: unknown }[];
}

export class LoadError extends Error {
  /** Print the message as it is (no "error: " prefix). */
  readonly bare: boolean;
  constructor(message: string, bare = false) {
    super(message);
    this.name = "LoadError";
    this.bare = bare;
  }
}

/** Data files that cannot be merged into one document (OPA's loader error, printed as OPA prints it). */
export class MergeError extends LoadError {
  constructor(message: string) {
    super(message);
    this.name = "MergeError";
  }
}

/**
 * A YAML data document, with Go's limits: nesting beyond MAX_VALUE_DEPTH, an anchor used inside
 * its own value and excessive aliasing (the alias bomb) are errors. js-yaml descends
 * recursively, so a document deeper than this thread's stack allows (but within the limit) is
 * read again on the large-stack worker.
 */
function loadYAML(text: string): unknown {
  try {
    return loadYAMLHere(text);
  } catch (e) {
    if (!isStackOverflow(e) || onLargeStack) throw e;
  }
  let out: string;
  try {
    out = callWithLargeStack({ fn: "load.yaml", arg: text });
  } catch (e) {
    if (e instanceof Error && e.name === "YamlAliasError") throw new YamlAliasError(e.message);
    if (e instanceof Error && e.name === "YAMLException") throw Object.assign(new Error(e.message), { reason: e.message });
    throw e;
  }
  return decodeDocument(out);
}

function loadYAMLHere(text: string): unknown {
  const doc = yaml().load(text, { maxDepth: JS_YAML_MAX_DEPTH } as jsyaml.LoadOptions);
  checkAliases(doc);
  return doc;
}

/** Set on the large-stack worker: no further worker from there. */
let onLargeStack = false;
registerLargeStackFn("load.yaml", (text) => {
  onLargeStack = true;
  return encodeDocument(loadYAMLHere(text));
});

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * OPA's loader merges data files into one document and refuses overlaps: two files that set the
 * same key (even to the same value), or a file below a path another file already set to a
 * non-object, fail with `<file>: merge error` (naming the later file); a file merged at the data
 * root must hold an object. The documents themselves are not changed.
 */
export function checkDataMerge(data: LoadedFiles["data"]): void {
  const root: Record<string, unknown> = {};
  const owned = new WeakSet<object>([root]);
  // An object of the merged tree that may be changed: a copy of one taken from a document.
  const own = (parent: Record<string, unknown>, k: string): Record<string, unknown> => {
    const v = parent[k] as Record<string, unknown>;
    if (owned.has(v)) return v;
    const c = { ...v };
    owned.add(c);
    parent[k] = c;
    return c;
  };
  const merge = (into: Record<string, unknown>, doc: Record<string, unknown>): boolean => {
    for (const k of Object.keys(doc)) {
      const v = doc[k];
      if (!Object.hasOwn(into, k)) into[k] = v;
      else if (isPlainObject(into[k]) && isPlainObject(v)) {
        if (!merge(own(into, k), v)) return false;
      } else return false;
    }
    return true;
  };
  for (const d of data) {
    if (d.path.length === 0 && !isPlainObject(d.value)) throw new MergeError(`${d.file}: document must be of type object`);
    let at = root;
    let ok = true;
    for (let i = 0; i < d.path.length - 1 && ok; i++) {
      const k = d.path[i];
      if (!Object.hasOwn(at, k)) {
        const o = {};
        owned.add(o);
        at[k] = o;
      } else if (!isPlainObject(at[k])) ok = false;
      if (ok) at = own(at, k);
    }
    if (ok) {
      const last = d.path[d.path.length - 1];
      if (d.path.length === 0) ok = merge(at, d.value as Record<string, unknown>);
      else if (!Object.hasOwn(at, last)) at[last] = d.value;
      else ok = isPlainObject(at[last]) && isPlainObject(d.value) && merge(own(at, last), d.value);
    }
    if (!ok) throw new MergeError(`${d.file}: merge error`);
  }
}

/**
 * Add loaded files to an engine and compile it ("build an engine from these paths"): modules
 * first (parse and compile errors are thrown as RegoError), then data at its paths.
 */
export function addLoadedFiles(engine: Engine, files: LoadedFiles): Engine {
  engine.addModules(files.modules);
  engine.compile();
  for (const d of files.data) engine.addData(d.value, d.path);
  return engine;
}

/** A JSON document read exactly (parseJSON); a syntax error is reported in JSON.parse's words, as for other documents. */
function parseExact(text: string): unknown {
  try {
    return parseJSON(text);
  } catch (e) {
    if (e instanceof JSONSyntaxError) JSON.parse(text);
    throw e;
  }
}

/** Refuse documents deeper than OPA's limit, with its message. */
function checkDepth(file: string, doc: unknown): unknown {
  if (nestingDepth(doc) > MAX_VALUE_DEPTH) throw new LoadError(`${file}: exceeded max depth of ${MAX_VALUE_DEPTH}`);
  return doc;
}

/** Parse a JSON or YAML data file with an error that names the file and position. */
export function parseDataFile(file: string, text: string): unknown {
  if (file.toLowerCase().endsWith(".json")) {
    let doc: unknown;
    try {
      // JSON.parse loses numbers beyond 2^53 and the text OPA keeps (`1.0`, `1e3`): documents
      // that may hold such numbers are read exactly; their syntax errors keep JSON.parse's words.
      doc = RISKY.test(text) ? parseExact(text) : JSON.parse(text);
    } catch (e) {
      if (e instanceof RangeError) throw new LoadError(`${file}: exceeded max depth of ${MAX_VALUE_DEPTH}`);
      throw new LoadError(`${file}: invalid JSON: ${(e as Error).message}`);
    }
    return checkDepth(file, doc);
  }
  try {
    return checkDepth(file, loadYAML(text));
  } catch (e) {
    if (e instanceof LoadError) throw e;
    if (e instanceof YamlAliasError) throw new LoadError(`${file}: invalid YAML: ${e.reason}`);
    if (e instanceof Error && /nesting exceeded maxDepth/.test(e.message)) throw new LoadError(`${file}: exceeded max depth of ${MAX_VALUE_DEPTH}`);
    const ye = e as { mark?: { line: number; column: number }; reason?: string };
    const where = ye.mark ? `:${ye.mark.line + 1}:${ye.mark.column + 1}` : "";
    throw new LoadError(`${file}${where}: invalid YAML: ${ye.reason ?? (e as Error).message}`);
  }
}
