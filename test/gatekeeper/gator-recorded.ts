// Cases recorded from gator (scripts/record-gator-cases.ts) and replayed through portcullis in
// process: the same exit code and the same bytes on stdout and stderr (Go log time stamps
// masked). A case's files are written to a fresh working directory; a file whose text is
// "@library/<path>" is copied from ../shared/gatekeeper-library/library at run time (never
// stored here), and such a case is skipped when the library is absent. When gator is installed,
// the test also runs gator on the case and asserts that it still gives the recorded answer.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { cli } from "../cli/helpers.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
export const LIBRARY = path.resolve(here, "../../../shared/gatekeeper-library/library");

export interface GatorCase {
  name: string;
  /** Files written to the working directory (name → text, or "@library/<path>"). */
  files: Record<string, string>;
  /** gator's arguments (after `gator`). */
  gator: string[];
  /** portcullis's arguments (after `portcullis`). */
  portcullis: string[];
  code?: number;
  out?: string;
  err?: string;
}

export function findGator(): string | null {
  const candidates = [process.env.GATOR, path.join(os.homedir(), "go/bin/gator")].filter(Boolean) as string[];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  return null;
}

export function needsLibrary(c: GatorCase): boolean {
  return Object.values(c.files).some((t) => t.startsWith("@library/"));
}

/** A fresh directory holding the case's files. */
export function materialize(c: GatorCase): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pc-gator-"));
  for (const [name, text] of Object.entries(c.files)) {
    const to = path.join(dir, name);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (text.startsWith("@library/")) fs.copyFileSync(path.join(LIBRARY, text.slice("@library/".length)), to);
    else fs.writeFileSync(to, text);
  }
  return dir;
}

/**
 * What changes from run to run, masked so that recorded output compares: Go's log prefix
 * `2006/01/02 15:04:05 `, gator verify's durations (`\t0.152s`, `(0.014s)`) and the case's
 * working directory (absolute, or rooted as gator's file system names it: without the slash).
 */
export function mask(s: string, dir: string): string {
  return s
    .replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /gm, "YYYY/MM/DD hh:mm:ss ")
    .replace(/(\t|\()\d+(\.\d+)?(ns|µs|ms|s)(\)?)$/gm, "$1T$4")
    .split(dir)
    .join("$DIR")
    .split(dir.replace(/^\//, ""))
    .join("$DIR");
}

export function runGator(gator: string, c: GatorCase): { code: number; out: string; err: string } {
  const dir = materialize(c);
  try {
    const r = spawnSync(gator, c.gator, { cwd: dir, encoding: "utf8", timeout: 60_000 });
    return { code: r.status ?? -1, out: mask(r.stdout, dir), err: mask(r.stderr, dir) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function runPortcullis(c: GatorCase): Promise<{ code: number; out: string; err: string }> {
  const dir = materialize(c);
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const r = await cli(c.portcullis);
    return { code: r.code, out: mask(r.out, dir), err: mask(r.err, dir) };
  } finally {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function loadCases(file: string): GatorCase[] {
  return JSON.parse(fs.readFileSync(path.join(here, "recorded", file), "utf8")) as GatorCase[];
}
