// Finding and combining the configuration files `portcullis test` checks, as conftest does:
// directories are walked (hidden entries included, names in byte order) keeping only files whose
// name selects a known parser; --ignore is a regular expression matched against each file's path;
// a path named twice is checked once; `-` is standard input.

import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { detectParserName, getParser } from "../formats/index.ts";
import { compareUTF8 } from "../gotext/plainjson.ts";
import { type RE2Tester, re2Tester } from "../builtins/re2.ts";

export { ConftestError } from "./errors.ts";
import { ConftestError } from "./errors.ts";

export const STDIN = "-";

/** The files to check, in conftest's order: arguments in order, directories expanded in walk order. */
export function findInputFiles(args: string[], opts: { ignore?: string } = {}): string[] {
  let ignore: RE2Tester | undefined;
  if (opts.ignore) {
    try {
      ignore = re2Tester(opts.ignore); // Go syntax, linear time
    } catch (e) {
      throw new ConftestError(`parse files: given regexp couldn't be parsed: ${(e as Error).message}`);
    }
  }
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string) => {
    if (ignore?.test(p) || seen.has(p)) return;
    seen.add(p);
    out.push(p);
  };
  for (const arg of args) {
    // an explicit blank argument names nothing (conftest skips it: `test "$FILES"` with FILES empty)
    if (arg === "") continue;
    if (arg === STDIN) {
      add(arg);
      continue;
    }
    let st;
    try {
      st = statSync(arg);
    } catch {
      throw new ConftestError(`parse files: get file info: stat ${arg}: no such file or directory`);
    }
    if (!st.isDirectory()) {
      add(arg);
      continue;
    }
    // As Go's filepath.Walk, which conftest uses: a symbolic link (the argument itself, or an
    // entry) is followed through its resolved path, which is the path printed; a directory is
    // walked once.
    const visited = new Set<string>();
    const visit = (p: string) => {
      let l;
      try {
        l = lstatSync(p);
      } catch {
        return;
      }
      if (l.isSymbolicLink()) {
        let real: string;
        let s;
        try {
          real = resolvedPath(p);
          s = statSync(real);
        } catch {
          return; // a dangling link
        }
        if (s.isDirectory()) visit(real);
        else if (!ignore?.test(p) && getParser(detectParserName(real))) add(real);
        return;
      }
      if (l.isDirectory()) {
        if (visited.has(p)) return;
        visited.add(p);
        for (const name of readdirSync(p).sort(compareUTF8)) visit(join(p, name));
        return;
      }
      if (getParser(detectParserName(p))) add(p);
    };
    visit(arg);
  }
  if (out.length === 0) throw new ConftestError("parse files: no files found");
  return out;
}

/**
 * Go's filepath.EvalSymlinks of a link: its resolved path, relative when the link's target is
 * (absolute when the target is absolute).
 */
function resolvedPath(p: string): string {
  const real = realpathSync(p);
  if (isAbsolute(readlinkSync(p)) || isAbsolute(p)) return real;
  const rel = relative(realpathSync("."), real);
  return rel === "" ? "." : rel;
}

/**
 * conftest's combined input: one `{path, contents}` per document, files in path order; a file
 * whose value is a list (multi-document YAML, a JSON array, a Dockerfile) gives one entry per
 * element.
 */
export function combineConfigs(configs: { path: string; value: unknown }[]): { path: string; contents: unknown }[] {
  const sorted = [...configs].sort((a, b) => compareUTF8(a.path, b.path));
  const out: { path: string; contents: unknown }[] = [];
  for (const c of sorted) {
    if (Array.isArray(c.value)) for (const v of c.value) out.push({ path: c.path, contents: v });
    else out.push({ path: c.path, contents: c.value });
  }
  return out;
}
