// Where `portcullis test` settings come from, highest first: command-line flags, environment
// variables (PORTCULLIS_<FLAG> or conftest's CONFTEST_<FLAG>, the flag name upper-cased with
// dashes as underscores), the configuration file (`conftest.toml` in the working directory, or
// -c FILE; keys are flag names), then conftest's defaults.

import { readFileSync, existsSync } from "node:fs";
import { lazyRequire } from "../lazy.ts";
import { ConftestError } from "./inputs.ts";

/** smol-toml (CommonJS build, shared with src/formats/toml.ts), loaded when a configuration file is read. */
const smolToml = lazyRequire<typeof import("smol-toml")>("smol-toml");

export type SettingKind = "string" | "list" | "bool";

/** Flag name → kind, for every setting `portcullis test` reads. */
export const TEST_SETTINGS: Record<string, SettingKind> = {
  policy: "list",
  data: "list",
  namespace: "list",
  "all-namespaces": "bool",
  combine: "bool",
  parser: "string",
  output: "string",
  "fail-on-warn": "bool",
  "no-fail": "bool",
  quiet: "bool",
  "no-color": "bool",
  trace: "bool",
  strict: "bool",
  "rego-version": "string",
  capabilities: "string",
  ignore: "string",
  "suppress-exceptions": "bool",
  "show-builtin-errors": "bool",
  "junit-hide-message": "bool",
  "github-hide-passed": "bool",
  "stdin-filename": "string",
  "proto-file-dirs": "list",
  update: "list",
  tls: "bool",
  timeout: "string",
  parallel: "string",
};

/**
 * The settings `conftest verify` reads from its flags, the environment and the configuration file
 * (the flags it binds to its configuration; the trace/explain ones are registered elsewhere).
 */
export const VERIFY_SETTINGS: Record<string, SettingKind> = {
  policy: "list",
  data: "list",
  namespace: "list",
  output: "string",
  "no-color": "bool",
  quiet: "bool",
  strict: "bool",
  "rego-version": "string",
  capabilities: "string",
  "show-builtin-errors": "bool",
  "junit-hide-message": "bool",
  "github-hide-passed": "bool",
  "proto-file-dirs": "list",
  report: "string",
  trace: "bool",
};

export type SettingValue = string | string[] | boolean;
export type Settings = Record<string, SettingValue | undefined>;

/** Go's strconv.ParseBool. */
export function parseBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

function coerce(kind: SettingKind, v: unknown, where: string): SettingValue {
  if (kind === "bool") {
    if (typeof v === "boolean") return v;
    const b = typeof v === "string" ? parseBool(v) : undefined;
    if (b === undefined) throw new ConftestError(`${where}: invalid boolean ${JSON.stringify(v)}`);
    return b;
  }
  if (kind === "list") {
    if (Array.isArray(v)) return v.map(String);
    if (typeof v === "string") return v.split(/\s+/).filter((s) => s !== "");
    return [String(v)];
  }
  return Array.isArray(v) ? v.map(String).join(",") : String(v);
}

/** Settings from PORTCULLIS_* / CONFTEST_* variables (PORTCULLIS_ wins). */
export function settingsFromEnv(env: Record<string, string | undefined>, kinds = TEST_SETTINGS): Settings {
  const out: Settings = {};
  for (const [name, kind] of Object.entries(kinds)) {
    const key = name.toUpperCase().replace(/-/g, "_");
    const v = env[`PORTCULLIS_${key}`] ?? env[`CONFTEST_${key}`];
    if (v !== undefined) out[name] = coerce(kind, v, `environment variable ${key}`);
  }
  return out;
}

/**
 * Settings from a conftest.toml file (none when the default file does not exist). A blank
 * file name means the default, as in conftest (`-c ""`).
 */
export function settingsFromFile(file: string | undefined, kinds = TEST_SETTINGS): Settings {
  const path = file || "conftest.toml";
  if (!existsSync(path)) {
    if (file) throw new ConftestError(`read in config: error reading config: open ${file}: no such file or directory`);
    return {};
  }
  let doc: Record<string, unknown>;
  try {
    doc = smolToml().parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new ConftestError(`read in config: error reading config: While parsing config: ${(e as Error).message.split("\n")[0]}`);
  }
  const out: Settings = {};
  for (const [name, kind] of Object.entries(kinds)) {
    if (doc[name] !== undefined) out[name] = coerce(kind, doc[name], `${path}: ${name}`);
  }
  return out;
}

/** Merge layers, later ones winning. */
export function mergeSettings(...layers: Settings[]): Settings {
  const out: Settings = {};
  for (const l of layers) for (const [k, v] of Object.entries(l)) if (v !== undefined) out[k] = v;
  return out;
}
