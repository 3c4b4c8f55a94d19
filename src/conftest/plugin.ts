// conftest's plugins: directories holding a plugin.yaml (name, version, usage, description,
// command) in conftest's plugin directory, installed with `plugin install` and run as
// `portcullis NAME args...`. Behaviour taken from conftest v0.71.1 (documentation, help and
// experiments with temporary HOME and XDG directories):
//
//  - the plugin directory is the first existing of $XDG_DATA_HOME/.conftest/plugins (default
//    ~/.local/share), DIR/.conftest/plugins for each existing absolute DIR of $XDG_DATA_DIRS
//    (default /usr/local/share:/usr/share), ~/.conftest/plugins; when none exists, it is created
//    under the first of $XDG_DATA_HOME, the $XDG_DATA_DIRS entries, that is writable, else ~;
//  - installing from a local directory links the plugin directory (NAME, from plugin.yaml) to
//    the source directory (go-getter's file getter makes a symbolic link), replacing an earlier
//    install of the same name;
//  - running sets CONFTEST_PLUGIN_DIR to the plugin's directory, expands $VAR and ${VAR} in the
//    command, splits it on spaces (the part after the last / of a path command included), adds
//    the user's arguments, and passes the environment, standard streams and exit status through.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, rmdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve, basename, normalize } from "node:path";
import { spawnSync } from "node:child_process";
import { load as loadYaml } from "js-yaml";
import { goErrnoText as errnoText } from "../gotext/errno.ts";

export class PluginError extends Error {}

export interface Plugin {
  name: string;
  version: string;
  usage: string;
  description: string;
  command: string;
}

type Env = Record<string, string | undefined>;

const CACHE = ".conftest";

function home(env: Env): string {
  return env.HOME || homedir();
}

/** Go's os.ExpandEnv: $NAME and ${NAME}, unset names expand to nothing. */
export function expandEnv(s: string, env: Env): string {
  return s.replace(/\$(?:\{([^}]*)\}|([A-Za-z0-9_]+|[*#$@!?\-0-9]))/g, (_, braced: string | undefined, bare: string | undefined) => env[braced ?? bare ?? ""] ?? "");
}

function xdgDataHome(env: Env): string {
  let p = env.XDG_DATA_HOME ?? "";
  if (p.startsWith("~")) p = p.replace("~", "${HOME}");
  p = expandEnv(p, env);
  if (p === "") return join(home(env), ".local/share");
  p = normalize(p);
  if (!isAbsolute(p)) throw new PluginError(`path in XDG_DATA_HOME is relative: ${JSON.stringify(p)}`);
  return p;
}

function xdgDataDirs(env: Env): string[] {
  const raw = env.XDG_DATA_DIRS || "/usr/local/share:/usr/share";
  return raw.split(":").filter((d) => isAbsolute(d) && isDir(d));
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function writable(dir: string): boolean {
  try {
    const t = mkdtempSync(join(dir, ".conftestcheck-"));
    rmdirSync(t);
    return true;
  } catch {
    return false;
  }
}

/** conftest's plugin directory (it need not exist yet). */
export function pluginDirectory(env: Env = process.env): string {
  const dataHome = xdgDataHome(env);
  const dataDirs = xdgDataDirs(env);
  for (const base of [dataHome, ...dataDirs, home(env)]) {
    const p = join(base, CACHE, "plugins");
    if (existsSync(p)) return p;
  }
  for (const base of [dataHome, ...dataDirs]) {
    if (writable(base)) return join(base, CACHE, "plugins");
  }
  return join(home(env), CACHE, "plugins");
}


/** The plugin described by DIR/plugin.yaml. */
export function readPlugin(dir: string): Plugin {
  const file = join(dir, "plugin.yaml");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new PluginError(`read config: open ${file}: ${errnoText(e)}`);
  }
  let doc: unknown;
  try {
    doc = loadYaml(text);
  } catch (e) {
    const err = e as { reason?: string; mark?: { line?: number } };
    throw new PluginError(`unmarshal plugin: error converting YAML to JSON: yaml: line ${(err.mark?.line ?? 0) + 1}: ${err.reason ?? String(e)}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new PluginError(`unmarshal plugin: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${Array.isArray(doc) ? "array" : typeof doc === "string" ? "string" : typeof doc} into Go value of type plugin.Plugin`);
  }
  const plugin: Plugin = { name: "", version: "", usage: "", description: "", command: "" };
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    // Go's JSON decoding matches field names case-insensitively
    const field = (Object.keys(plugin) as (keyof Plugin)[]).find((f) => f === k.toLowerCase());
    if (!field || v === null) continue;
    if (typeof v !== "string") {
      const kind = typeof v === "number" ? "number" : typeof v === "boolean" ? "bool" : Array.isArray(v) ? "array" : "object";
      throw new PluginError(`unmarshal plugin: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${kind} into Go struct field Plugin.${field} of type string`);
    }
    plugin[field] = v;
  }
  return plugin;
}

/**
 * A plugin name that names a directory of its own inside the plugin directory. conftest takes
 * the name as it is (an empty name would replace the whole plugin directory); Portcullis
 * refuses those names instead.
 */
function checkName(name: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\\") || name.includes("\0")) {
    throw new PluginError(`loading plugin from dir: invalid plugin name ${JSON.stringify(name)} in plugin.yaml: it must be a non-empty name without path separators`);
  }
}

/** Sources that go-getter would download rather than read from the file system. */
export function isRemoteSource(source: string): boolean {
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(source)) return !source.startsWith("file::");
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(source);
  if (scheme) return scheme[1].toLowerCase() !== "file";
  if (/^(github\.com|gitlab\.com|bitbucket\.org)\//.test(source)) return true;
  if (/^git@[^:]+:/.test(source)) return true;
  if (/^[^/]+\.s3[.-][^/]*amazonaws\.com\//.test(source) || /^www\.googleapis\.com\/storage\//.test(source)) return true;
  return false;
}

function localPath(source: string): string {
  if (source.startsWith("file::")) source = source.slice(6);
  if (/^file:\/\//i.test(source)) source = source.slice(7);
  return resolve(source);
}

/** `plugin install SOURCE`; returns the plugin installed. */
export function installPlugin(source: string, env: Env = process.env): Plugin {
  if (isRemoteSource(source)) {
    throw new PluginError(
      `install from url: Portcullis does not download plugins (${source}): fetch the plugin yourself (git clone, curl) and install it from its local directory`,
    );
  }
  const cache = pluginDirectory(env);
  try {
    mkdirSync(cache, { recursive: true });
  } catch (e) {
    throw new PluginError(`make plugin dir: mkdir ${cache}: ${errnoText(e)}`);
  }
  const src = localPath(source);
  let plugin: Plugin;
  try {
    plugin = readPlugin(src);
    checkName(plugin.name);
  } catch (e) {
    if (e instanceof PluginError) throw new PluginError(`install from dir: loading plugin from dir: ${e.message.replace(/^loading plugin from dir: /, "")}`);
    throw e;
  }
  const target = join(cache, plugin.name);
  try {
    rmSync(target, { recursive: true, force: true });
  } catch (e) {
    throw new PluginError(`install from dir: remove old plugin: unlinkat ${target}: ${errnoText(e)}`);
  }
  try {
    symlinkSync(src, target, "dir");
  } catch (e) {
    throw new PluginError(`install from dir: download plugin: symlink ${src} ${target}: ${errnoText(e)}`);
  }
  return plugin;
}

/** The installed plugins, each with its directory (entries without a readable plugin.yaml are skipped). */
export function findPlugins(env: Env = process.env): { plugin: Plugin; dir: string }[] {
  const cache = pluginDirectory(env);
  let names: string[];
  try {
    names = readdirSync(cache).sort();
  } catch {
    return [];
  }
  const out: { plugin: Plugin; dir: string }[] = [];
  for (const n of names) {
    try {
      const plugin = readPlugin(join(cache, n));
      out.push({ plugin, dir: join(cache, plugin.name) });
    } catch (e) {
      if (!(e instanceof PluginError)) throw e;
    }
  }
  return out;
}

/** The installed plugin called name (its plugin.yaml's name), if any. */
export function findPlugin(name: string, env: Env = process.env): { plugin: Plugin; dir: string } | undefined {
  return findPlugins(env).find((p) => p.plugin.name === name);
}

/** The executable and arguments of a plugin's command (conftest's parsing: split on spaces). */
export function pluginCommandLine(command: string, args: string[]): [string, string[]] {
  let parts: string[];
  let executable: string;
  if (isAbsolute(command) || command.startsWith("../") || command.startsWith("./")) {
    // a path may hold spaces in its directories: only its last element is split
    parts = basename(command).split(" ");
    const dir = dirname(command);
    executable = dir === "." ? parts[0] : join(dir, parts[0]);
  } else {
    parts = command.split(" ");
    executable = parts[0];
  }
  if (executable === "") throw new PluginError("parse command: prepare plugin command: no command found");
  return [executable, [...parts.slice(1), ...args]];
}

export interface PluginRun {
  /** The plugin's exit status (255 when it was killed by a signal, as Go reports -1). */
  status: number;
  /** What conftest prints when the plugin could not run or failed (without "Error: "). */
  error?: string;
  stdout?: string;
  stderr?: string;
}

/**
 * Runs a plugin. With `inherit`, the plugin shares the process's standard streams; otherwise
 * stdin is given and its output captured (in-process callers).
 */
export function runPlugin(found: { plugin: Plugin; dir: string }, args: string[], opts: { env?: Env; inherit: boolean; stdin?: string }): PluginRun {
  const env: Env = { ...(opts.env ?? process.env), CONFTEST_PLUGIN_DIR: found.dir };
  const [exe, argv] = pluginCommandLine(expandEnv(found.plugin.command, env), args);
  const r = spawnSync(exe, argv, {
    env: env as NodeJS.ProcessEnv,
    stdio: opts.inherit ? "inherit" : ["pipe", "pipe", "pipe"],
    input: opts.inherit ? undefined : (opts.stdin ?? ""),
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const captured = opts.inherit ? {} : { stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    let msg: string;
    if (code === "ENOENT" && !exe.includes("/")) msg = `exec: ${JSON.stringify(exe)}: executable file not found in $PATH`;
    else msg = `fork/exec ${exe}: ${errnoText(r.error)}`;
    return { status: 1, error: `execute plugin: exit: ${msg}`, ...captured };
  }
  if (r.signal) return { status: 255, error: "execute plugin: plugin exited with status -1", ...captured };
  const status = r.status ?? 1;
  if (status !== 0) return { status, error: `execute plugin: plugin exited with status ${status}`, ...captured };
  return { status: 0, ...captured };
}
