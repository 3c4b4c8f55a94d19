// Finding and combining the configuration files `portcullis test` checks, as conftest does:
// directories are walked (hidden entries included, names in byte order) keeping only files whose
// name selects a known parser; --ignore is a regular expression matched against each file's path;
// a path named twice is checked once; `-` is standard input.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { detectParserName, getParser } from "../formats/index.ts";
import { compareUTF8 } from "../gotext/plainjson.ts";
import { type RE2Tester, re2Tester } from "../builtins/re2.ts";

export class ConftestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConftestError";
  }
}

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
    const walk = (dir: string) => {
      const names = readdirSync(dir).sort(compareUTF8);
      for (const name of names) {
        const p = join(dir, name);
        let s;
        try {
          s = statSync(p);
        } catch {
          continue; // a dangling link
        }
        if (s.isDirectory()) walk(p);
        else if (getParser(detectParserName(p))) add(p);
      }
    };
    walk(arg);
  }
  if (out.length === 0) throw new ConftestError("parse files: no files found");
  return out;
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
