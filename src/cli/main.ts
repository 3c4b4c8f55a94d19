// The `portcullis` command line: one subcommand per job, each in its own file under src/cli/
// exporting `register(program, io)`; this file only lists them.
//
// Start-up time matters (`portcullis eval …` in a shell loop, CI steps): a command's module, and
// everything it imports, is loaded only when that command runs. Help, unknown commands and
// `help <command>` load them all so that commander can list them and suggest names.

import { Command, CommanderError, Option } from "commander";
import type { CliIO } from "./io.ts";
import { PACKAGE_VERSION, OPA_VERSION } from "../package.ts";
import { goBoolFlags, FlagValueError } from "./goflags.ts";

/** What `--version` prints, in conftest's shape (`Conftest: v` then `OPA: v`). */
export const VERSION_TEXT = `Portcullis: ${PACKAGE_VERSION}\nOPA: ${OPA_VERSION}\n`;

/** Options of the program itself (before the command name) that take a value. */
const GLOBAL_VALUE_OPTIONS = new Set(["-c", "--config-file"]);

/** Index of the command name in argv (-1 when there is none). */
function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith("-")) return i;
    if (GLOBAL_VALUE_OPTIONS.has(argv[i])) i++;
  }
  return -1;
}

type CommandModule = { register(program: Command, io: CliIO): void };

/** In the order `--help` lists them. */
const commands: Record<string, () => Promise<CommandModule>> = {
  eval: () => import("./eval-command.ts"),
  capabilities: () => import("./capabilities-command.ts"),
  verify: () => import("./verify-command.ts"),
  test: () => import("./test-command.ts"),
  parse: () => import("./parse-command.ts"),
  check: () => import("./check-command.ts"),
  repl: () => import("./repl-command.ts"),
  fmt: () => import("./fmt-command.ts"),
  run: () => import("./run-command.ts"),
  build: () => import("./build-command.ts"),
  sign: () => import("./sign-command.ts"),
  audit: () => import("./audit-command.ts"),
  doc: () => import("./doc-command.ts"),
  plugin: () => import("./plugin-command.ts"),
  controller: () => import("./controller-command.ts"),
  login: () => import("./oci-command.ts").then((m) => ({ register: m.registerLogin })),
  logout: () => import("./oci-command.ts").then((m) => ({ register: m.registerLogout })),
  push: () => import("./oci-command.ts").then((m) => ({ register: m.registerPush })),
  pull: () => import("./oci-command.ts").then((m) => ({ register: m.registerPull })),
  save: () => import("./oci-command.ts").then((m) => ({ register: m.registerSave })),
  images: () => import("./oci-command.ts").then((m) => ({ register: m.registerImages })),
  tag: () => import("./oci-command.ts").then((m) => ({ register: m.registerTag })),
  rm: () => import("./oci-command.ts").then((m) => ({ register: m.registerRm })),
  "generate-key-pair": () => import("./generate-key-pair-command.ts"),
  "sign-blob": () => import("./sign-blob-command.ts"),
  "verify-blob": () => import("./sign-blob-command.ts"),
  "verify-signature": () => import("./signature-command.ts"),
  provider: () => import("./provider-command.ts"),
  mutate: () => import("./mutate-command.ts"),
  expand: () => import("./expand-command.ts"),
  playground: () => import("./playground-command.ts"),
};

/** The commands a command line needs registered: the one it names, or all of them. */
function needed(argv: string[]): string[] {
  const at = commandIndex(argv);
  const before = at < 0 ? argv : argv.slice(0, at);
  if (before.some((a) => a === "-h" || a === "--help")) return Object.keys(commands);
  if (at < 0) return before.some((a) => a === "-v" || a === "-V" || a === "--version") ? [] : Object.keys(commands);
  if (argv[at] === "version") return [];
  return Object.hasOwn(commands, argv[at]) ? [argv[at]] : Object.keys(commands);
}

/**
 * An unknown option worded as cobra words it (conftest's and opa's command lines):
 * `Error: unknown flag: --nope`, `Error: unknown shorthand flag: 'x' in -x`.
 */
function cobraUnknownFlag(commanderMessage: string): string | undefined {
  const m = /^error: unknown option '([^']*)'/.exec(commanderMessage);
  if (!m) return undefined;
  const arg = m[1];
  if (arg.startsWith("--")) return `Error: unknown flag: ${arg.split("=")[0]}\n`;
  return `Error: unknown shorthand flag: '${arg[1] ?? ""}' in ${arg}\n`;
}

/** Levenshtein distance, case-insensitive (cobra's suggestion measure). */
function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * An unknown command worded as cobra words it (conftest's and opa's command lines): the error,
 * then the commands within edit distance 2 or starting with what was typed, in registration
 * order, then the usage hint.
 */
function cobraUnknownCommand(commanderMessage: string, program: Command): string | undefined {
  const m = /^error: unknown command '([^']*)'/.exec(commanderMessage);
  if (!m) return undefined;
  const typed = m[1];
  const suggestions = program.commands
    .map((c) => c.name())
    .filter((n) => n !== "help" && (editDistance(typed, n) <= 2 || n.toLowerCase().startsWith(typed.toLowerCase())));
  let out = `Error: unknown command "${typed}" for "portcullis"\n`;
  if (suggestions.length > 0) out += `\nDid you mean this?\n${suggestions.map((n) => `\t${n}\n`).join("")}\n`;
  return `${out}Run 'portcullis --help' for usage.\n`;
}

export async function main(argv: string[], io: CliIO & { inheritStdio?: boolean } = defaultIO()): Promise<number> {
  let unknownFlag = false;
  let unknownCommand = false;
  const program = new Command();
  program
    .name("portcullis")
    .description("Policy-as-code for containers and Kubernetes: an OPA-compatible Rego engine, conftest-style checks, Gatekeeper-compatible constraints")
    // conftest's -v/--version (and Portcullis's earlier -V); after a command name, -v and -V are
    // that command's options (or errors).
    .version(VERSION_TEXT.trimEnd(), "-v, --version", "print the version")
    .addOption(new Option("-V").hideHelp())
    .on("option:V", () => {
      io.out(VERSION_TEXT);
      throw new CommanderError(0, "commander.version", VERSION_TEXT);
    })
    // conftest's global -c: the configuration file of `test` (also accepted after `test`).
    .option("-c, --config-file <file>", "configuration file for `test` (default conftest.toml)")
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => {
        // The usage hint after an unknown flag is not printed (conftest and opa print none).
        if ((unknownFlag || unknownCommand) && /^\(run with --help/.test(s)) return;
        io.err(s);
      },
      outputError: (s, write) => {
        const flag = cobraUnknownFlag(s);
        unknownFlag = flag !== undefined;
        const command = flag === undefined ? cobraUnknownCommand(s, program) : undefined;
        unknownCommand = command !== undefined;
        write(flag ?? command ?? s);
      },
    })
    .showHelpAfterError("(run with --help for usage)");
  // `portcullis NAME args...` for an installed conftest plugin: its arguments are its own.
  const at0 = commandIndex(argv);
  if (at0 >= 0 && !Object.hasOwn(commands, argv[at0]) && argv[at0] !== "version" && argv[at0] !== "help") {
    const { runPluginCommand } = await import("./plugin-command.ts");
    // as conftest (cobra without flag parsing): every argument but the plugin's name, global
    // flags before it included
    const status = runPluginCommand(argv[at0], [...argv.slice(0, at0), ...argv.slice(at0 + 1)], io);
    if (status !== undefined) return status;
  }
  const modules = await Promise.all(needed(argv).map((name) => commands[name]()));
  // one module may register several commands (sign-blob and verify-blob): register it once
  for (const m of new Set(modules)) m.register(program, io);
  // the full list (help, unknown commands) names the installed plugins too, as conftest's does
  if (modules.length === Object.keys(commands).length) (await import("./plugin-command.ts")).listPlugins(program);
  program
    .command("version")
    .description("Print the version")
    .action(() => io.out(VERSION_TEXT));
  try {
    const at = commandIndex(argv);
    const cmd = at < 0 ? undefined : program.commands.find((c) => c.name() === argv[at]);
    if (cmd) argv = [...argv.slice(0, at + 1), ...goBoolFlags(cmd, argv.slice(at + 1))];
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (e instanceof FlagValueError) {
      io.err(`Error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  return io.exitCode;
}

/**
 * The `portcullis` process (bin/portcullis.js): main with the process's standard streams, its
 * result as the exit code, unexpected exceptions as a one-line internal error (with the stack
 * when PORTCULLIS_DEBUG is set).
 */
export async function runProcess(argv: string[]): Promise<void> {
  // `portcullis capabilities | head -1`: the reader went away; stop quietly, without a stack
  // trace, with the status opa and conftest have there (killed by SIGPIPE: 128 + 13), so a
  // truncated `portcullis test | head` under pipefail does not pass as a success.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(141);
    throw e;
  });
  blockOnPipedStdout(argv);
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    process.stderr.write(`portcullis: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.PORTCULLIS_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : ""}\n`);
    process.exitCode = 2;
  }
}

/** The commands that keep running (servers, the REPL): their standard output stays asynchronous. */
const LONG_RUNNING = new Set(["run", "controller", "provider", "playground", "repl"]);

/**
 * Node writes to a pipe asynchronously: what the reader has not taken yet is queued in memory, so
 * `portcullis test big.yaml -o json | sha256sum` held ~300 MB of output strings waiting at the
 * end of an 85,000-document run (writableLength 500 MB in a plain loop). A command that writes
 * its result and ends waits for its reader instead, as conftest and opa do (a Go program's
 * writes block): standard output is made blocking when it is a pipe or socket. Servers and the
 * REPL keep asynchronous writes (their event loop must not wait for a log reader). True when it
 * made the stream blocking.
 */
export function blockOnPipedStdout(argv: string[], stdout: { isTTY?: boolean } = process.stdout): boolean {
  const at = commandIndex(argv);
  if (at >= 0 && LONG_RUNNING.has(argv[at])) return false;
  // A pipe's or socket's libuv handle; a file is written synchronously already (no handle).
  const handle = (stdout as { _handle?: { setBlocking?: (on: boolean) => number } })._handle;
  if (stdout.isTTY || typeof handle?.setBlocking !== "function") return false;
  return handle.setBlocking(true) === 0;
}

function defaultIO(): CliIO & { inheritStdio: boolean } {
  return {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    exitCode: 0,
    // plugins share the process's standard streams
    inheritStdio: true,
  };
}
