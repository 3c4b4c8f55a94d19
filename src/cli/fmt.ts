// `portcullis fmt`: formats Rego files as `opa fmt` does (src/rego/format.ts).
//
// Paths are files, directories (walked for .rego files, hidden entries skipped) or `-` for
// standard input; with no path, standard input is read. By default the formatted source is
// printed. -w writes files in place (only those that change), -l lists the files that would
// change, -d prints a unified diff, --fail exits 1 when something would change, and --check
// (conftest's `fmt --check`) lists those files and exits 1, writing nothing. A file that does
// not parse is reported as `file:row:col: code: message` on stderr, left untouched, and makes
// the exit code 1.

import { readFileSync, writeFileSync } from "node:fs";
import { formatSource } from "../rego/format.ts";
import { RegoError } from "../rego/errors.ts";
import { listRegoFiles, STDIN } from "../load/regofiles.ts";
import { unifiedDiff } from "../output/diff.ts";

export interface FmtOptions {
  write?: boolean;
  diff?: boolean;
  list?: boolean;
  fail?: boolean;
  check?: boolean;
  /** Parse and print Rego v0 (`opa fmt --v0-compatible`). */
  v0Compatible?: boolean;
  /** Rego v0 in, v1 out that v0 also accepts, with `import rego.v1` (`opa fmt --v0-v1`). */
  v0v1?: boolean;
}

export interface FmtIO {
  out(s: string): void;
  err(s: string): void;
  /** Reads all of standard input (tests pass their own). */
  readStdin?: () => string;
}

/** Run the command; returns the exit code. */
export function runFmt(paths: string[], o: FmtOptions, io: FmtIO): number {
  const readStdin = io.readStdin ?? (() => readFileSync(0, "utf8"));
  let files: string[];
  try {
    files = listRegoFiles(paths.length ? paths : [STDIN]);
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n`);
    return 1;
  }
  const check = !!o.check;
  const list = !!o.list || check;
  const write = !!o.write && !check;
  const printSource = !list && !o.diff && !write;
  let failed = false;
  let changed = false;
  for (const file of files) {
    let source: string;
    try {
      source = file === STDIN ? readStdin() : readFileSync(file, "utf8");
    } catch (e) {
      io.err(`error: ${file}: ${(e as Error).message}\n`);
      failed = true;
      continue;
    }
    const name = file === STDIN ? "stdin" : file;
    let formatted: string;
    try {
      formatted = format(name, source, o);
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      for (const d of e.errors) {
        const l = d.location;
        io.err(l ? `${l.file || name}:${l.row}:${l.col}: ${d.code}: ${d.message}\n` : `${name}: ${d.code}: ${d.message}\n`);
      }
      failed = true;
      continue;
    }
    const differs = formatted !== source;
    if (differs) changed = true;
    if (printSource) io.out(formatted);
    if (list && differs) io.out(`${name}\n`);
    if (o.diff && differs) io.out(unifiedDiff(name, source, formatted));
    if (write && differs && file !== STDIN) {
      try {
        writeFileSync(file, formatted);
      } catch (e) {
        io.err(`error: ${file}: ${(e as Error).message}\n`);
        failed = true;
      }
    } else if (write && file === STDIN) io.out(formatted);
  }
  if (failed) return 1;
  if (changed && (o.fail || check)) return 1;
  return 0;
}

function format(name: string, source: string, o: FmtOptions): string {
  if (o.v0v1) return formatSource(name, source, { parseVersion: "v0", regoVersion: "v1", regoV1Import: true });
  return formatSource(name, source, { regoVersion: o.v0Compatible ? "v0" : "v1" });
}
