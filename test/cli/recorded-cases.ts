// Cases recorded from `opa eval` 1.19.0 (scripts/record-opa-eval.ts) and replayed through
// `portcullis eval` in process: the same exit code and the same bytes on stdout and stderr.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { cli } from "./helpers.ts";

export interface RecordedCase {
  name: string;
  /** Files written to the working directory of the run (name → text). */
  files?: Record<string, string>;
  /** The arguments after `eval`. */
  args: string[];
  code: number;
  out: string;
  err: string;
}

/** Replays a case in a fresh working directory; returns portcullis's answer. */
export async function replay(c: RecordedCase): Promise<{ code: number; out: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), "pc-rec-"));
  for (const [name, text] of Object.entries(c.files ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return await cli(["eval", ...c.args]);
  } finally {
    process.chdir(cwd);
  }
}
