// Modules loaded on first use instead of at start-up. A cold `portcullis eval 1+1` should not
// pay for graphql-js, protobufjs, Node's crypto or HTTP stacks, …: only policies and inputs that
// use them do. CommonJS packages and Node's built-in modules can be loaded synchronously (through
// require), so builtin implementations, which are synchronous, can load them when first called.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** A function returning the module `id` (a CommonJS package or a `node:` module), required on its first call. */
export function lazyRequire<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(id) as T);
}

/** Requires `id` now (for small CommonJS files a module needs at load time). */
export function requireNow<T>(id: string): T {
  return require(id) as T;
}

/**
 * A stand-in for a module's namespace object that requires the module on the first property
 * read, so `import * as x from "node:…"` call sites keep their shape (`x.createHash(…)`).
 */
function lazyNamespace<T extends object>(id: string): T {
  const load = lazyRequire<T>(id);
  return new Proxy({} as T, {
    get: (_, key) => (load() as Record<string | symbol, unknown>)[key],
  });
}

export const nodeCrypto: typeof import("node:crypto") = lazyNamespace("node:crypto");
export const nodeDns: typeof import("node:dns") = lazyNamespace("node:dns");
export const nodeHttp: typeof import("node:http") = lazyNamespace("node:http");
export const nodeHttps: typeof import("node:https") = lazyNamespace("node:https");
