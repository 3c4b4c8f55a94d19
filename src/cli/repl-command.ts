// Registers `portcullis repl` (opa run's interactive shell): line editing and history with
// node's readline on a terminal (history in ~/.portcullis_history), plain line-by-line
// evaluation when standard input is not a terminal; -w reloads the files when they change.

import { createInterface } from "node:readline";
import { readFileSync, appendFileSync, watch, existsSync, type FSWatcher } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { Repl, BANNER } from "./repl.ts";
import { LoadError } from "../load/index.ts";
import { RegoError } from "../rego/errors.ts";
import { checkFiles } from "../check/index.ts";
import { formatCheckErrors } from "./check.ts";

const collect = (v: string, prev: string[] = []) => [...prev, v];
const HISTORY = () => join(homedir(), ".portcullis_history");
const HISTORY_SIZE = 1000;

export interface ReplRunOptions {
  data: string[];
  watch?: boolean;
  v0Compatible?: boolean;
  strictBuiltinErrors?: boolean;
  history?: boolean;
}

/** Run a session on the process's standard input; resolves with the exit code. */
export async function runRepl(o: ReplRunOptions, io: CliIO, input: NodeJS.ReadableStream = process.stdin, tty = !!process.stdin.isTTY && !!process.stdout.isTTY): Promise<number> {
  const repl = new Repl({ paths: o.data, regoVersion: o.v0Compatible ? "v0" : "v1", strictBuiltinErrors: o.strictBuiltinErrors }, io.out);
  try {
    repl.load();
  } catch (e) {
    io.out(startupError(o.data, e));
    return 1;
  }
  io.out(BANNER);

  const watchers: FSWatcher[] = [];
  if (o.watch) {
    let timer: NodeJS.Timeout | null = null;
    const reload = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        try {
          repl.load();
        } catch (e) {
          repl.reportError(e);
        }
      }, 100);
    };
    for (const p of o.data) {
      if (!existsSync(p)) continue;
      try {
        watchers.push(watch(p, { recursive: true }, reload));
      } catch {
        watchers.push(watch(p, reload));
      }
    }
  }

  const useHistory = tty && o.history !== false;
  let history: string[] = [];
  if (useHistory) {
    try {
      history = readFileSync(HISTORY(), "utf8").split("\n").filter((l) => l !== "").reverse().slice(0, HISTORY_SIZE);
    } catch {
      history = [];
    }
  }
  const rl = createInterface({ input, output: tty ? process.stdout : undefined, terminal: tty, history, historySize: HISTORY_SIZE, prompt: "> " });
  if (tty) {
    rl.on("SIGINT", () => {
      // Ctrl-C drops the line (and any multi-line input) being typed.
      repl.cancel();
      io.out("^C\n");
      rl.setPrompt(repl.prompt());
      rl.prompt();
    });
  }
  try {
    if (tty) rl.prompt();
    for await (const line of rl) {
      if (useHistory && line.trim() !== "") {
        try {
          appendFileSync(HISTORY(), line + "\n");
        } catch {
          /* no history file: carry on */
        }
      }
      const r = await repl.line(line);
      if (r === "exit") break;
      if (tty) {
        rl.setPrompt(repl.prompt());
        rl.prompt();
      }
    }
    // End of input (Ctrl-D) drops a pending multi-line statement, as in opa.
  } finally {
    rl.close();
    for (const w of watchers) w.close();
  }
  if (tty) io.out("\n");
  return 0;
}

/** What opa run prints when the files do not load (`load error`) or compile (`initialization error`). */
function startupError(paths: string[], e: unknown): string {
  if (e instanceof LoadError) {
    const m = /^(.*): no such file or directory$/.exec(e.message);
    return `error: load error: 1 error occurred during loading: ${m ? `stat ${m[1]}: no such file or directory` : e.message}\n`;
  }
  if (e instanceof RegoError && e.errors.some((x) => x.code === "rego_parse_error")) {
    const r = checkFiles(paths, {});
    if (r.phase === "loading" && r.errors.length) return `error: load error: ${formatCheckErrors(r)}`;
  }
  if (e instanceof RegoError) return `error: initialization error: ${formatCheckErrors({ phase: "compile", errors: e.errors.map((x) => ({ code: x.code, message: x.message, location: x.location })) })}`;
  return `error: ${e instanceof Error ? e.message : String(e)}\n`;
}

export function register(program: Command, io: CliIO): void {
  program
    .command("repl")
    .description("Start an interactive Rego shell (opa run's REPL)")
    .argument("[paths...]", "policy and data files or directories to load")
    .option("-d, --data <path>", "policy or data file or directory to load (repeatable)", collect, [])
    .option("-w, --watch", "reload the files when they change")
    .option("--v0-compatible", "parse modules and input as Rego v0")
    .option("--strict-builtin-errors", "treat builtin errors as fatal")
    .action(async (paths: string[], o) => {
      io.exitCode = await runRepl({ data: [...o.data, ...paths], watch: o.watch, v0Compatible: o.v0Compatible, strictBuiltinErrors: o.strictBuiltinErrors }, io);
    });
}
