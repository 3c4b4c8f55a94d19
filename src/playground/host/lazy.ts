// The browser bundle's src/lazy.ts (see ./substitutes.ts): there is no `require`, so the packages
// that the Node build loads on first use are either bundled (smol-toml for TOML inputs, js-yaml for YAML data) or
// report that they are not available in the browser when first used. Node's own modules
// (crypto, dns) do not exist here: the builtins that need them are left out of the browser's
// builtin table (./builtins.ts), so these stand-ins are only reached by input formats.

import * as smolToml from "smol-toml";
import jsyaml from "js-yaml";
import { notInBrowser } from "./unavailable.ts";

const BUNDLED: Record<string, unknown> = { "smol-toml": smolToml, "js-yaml": jsyaml };

export function lazyRequire<T>(id: string): () => T {
  return () => (Object.hasOwn(BUNDLED, id) ? (BUNDLED[id] as T) : notInBrowser(id));
}

export function requireNow<T>(id: string): T {
  return Object.hasOwn(BUNDLED, id) ? (BUNDLED[id] as T) : notInBrowser(id);
}

function unavailableNamespace<T extends object>(id: string): T {
  return new Proxy({} as T, { get: (_, key) => notInBrowser(`${id}.${String(key)}`) });
}

export const nodeCrypto: typeof import("node:crypto") = unavailableNamespace("node:crypto");
export const nodeDns: typeof import("node:dns") = unavailableNamespace("node:dns");
export const nodeHttp: typeof import("node:http") = unavailableNamespace("node:http");
export const nodeHttps: typeof import("node:https") = unavailableNamespace("node:https");
