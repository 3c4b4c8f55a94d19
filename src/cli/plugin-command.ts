// Registers `portcullis plugin install` (conftest's `plugin`), and runs installed plugins as
// `portcullis NAME args...` (main.ts calls runPluginCommand for a name no command has).
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { findPlugin, findPlugins, installPlugin, PluginError, runPlugin } from "../conftest/plugin.ts";

const INSTALL_USAGE = `Usage:
  portcullis plugin install <path|url> [flags]

Flags:
  -h, --help   help for install
`;

const INSTALL_HELP = `
This command installs a plugin from the given local directory.

The directory must hold a plugin.yaml (name, version, usage, description, command).
The plugin is installed as a link to that directory, named after the plugin, in the
plugin directory conftest uses ($XDG_DATA_HOME/.conftest/plugins, ~/.conftest/plugins, ...).
Installed plugins run as \`portcullis NAME [args...]\`.

Portcullis does not download plugins: sources that conftest would fetch with go-getter
(git, http(s), s3, gcs, github.com/...) are refused; fetch them first and install the
local copy.
`;

export function runInstall(args: string[], io: CliIO, env: Record<string, string | undefined> = process.env): number {
  if (args.length < 1) {
    io.err(INSTALL_USAGE);
    io.err("Error: missing required arguments\n");
    return 1;
  }
  try {
    installPlugin(args[0], env);
  } catch (e) {
    if (!(e instanceof PluginError)) throw e;
    io.err(`Error: install: ${e.message}\n`);
    return 1;
  }
  return 0;
}

/**
 * `portcullis NAME args...` for an installed plugin: undefined when no plugin has that name,
 * else the exit status (the plugin's own). Arguments go to the plugin untouched (--help too).
 */
export function runPluginCommand(name: string, args: string[], io: CliIO & { inheritStdio?: boolean }): number | undefined {
  let found;
  try {
    found = findPlugin(name);
  } catch (e) {
    if (!(e instanceof PluginError)) throw e;
    io.err(`Error: ${e.message}\n`);
    return 1;
  }
  if (!found) return undefined;
  const inherit = io.inheritStdio === true;
  const r = runPlugin(found, args, { inherit, stdin: inherit ? undefined : io.readStdin?.() });
  if (r.stdout) io.out(r.stdout);
  if (r.stderr) io.err(r.stderr);
  if (r.error) io.err(`Error: ${r.error}\n`);
  return r.status;
}

export function register(program: Command, io: CliIO): void {
  const plugin = program.command("plugin").description("Manage conftest plugins");
  // without a known subcommand: the help, on standard output, status 0 (as conftest)
  plugin
    .allowExcessArguments()
    .action(() => {
      io.out(plugin.helpInformation());
    });
  plugin
    .command("install")
    .description("Install a plugin from the given path or url")
    .argument("[source]", "local directory holding a plugin.yaml")
    .addHelpText("after", INSTALL_HELP)
    .action((source: string | undefined) => {
      io.exitCode = runInstall(source === undefined ? [] : [source], io);
    });
}

/** The installed plugins as commands in the help listing (they run before commander parses). */
export function listPlugins(program: Command): void {
  let plugins;
  try {
    plugins = findPlugins();
  } catch (e) {
    if (e instanceof PluginError) return;
    throw e;
  }
  for (const { plugin } of plugins) {
    if (program.commands.some((c) => c.name() === plugin.name)) continue;
    program.command(plugin.name).description(plugin.usage).helpOption(false).allowUnknownOption().argument("[args...]");
  }
}
