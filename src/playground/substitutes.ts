// The browser bundle's host seams: modules of the engine that touch the host (Node's require, the
// file system, worker threads, HTTP) and the module the browser bundle uses in their place, with
// the same exports. scripts/browser-bundle.ts applies the table; test/architecture checks that
// with it, nothing in the bundle's import graph imports a Node module.

export const BROWSER_SUBSTITUTES: Readonly<Record<string, string>> = {
  // require() of CommonJS packages and node: modules → bundled packages or "not available".
  "src/lazy.ts": "src/playground/host/lazy.ts",
  // OPA's builtin table → the same names, the Node-only ones "not available in the browser".
  "src/builtins/index.ts": "src/playground/host/builtins.ts",
  // tz database files → none (Intl's zone data).
  "src/builtins/support/zonefile.ts": "src/playground/host/zonefile.ts",
  // the large-stack worker thread → a clear error for documents deeper than the stack.
  "src/builtins/support/large-stack.ts": "src/playground/host/large-stack.ts",
  // input parsers → the same, less jsonnet and textproto (they read other files).
  "src/formats/registry.ts": "src/playground/host/formats.ts",
  // Gatekeeper external data over HTTP → a system error (nothing leaves the page).
  "src/gatekeeper/providerhttp.ts": "src/playground/host/providerhttp.ts",
};

/** Globals the engine uses that a browser lacks (Buffer, process), injected into the bundle. */
export const BROWSER_GLOBALS = "src/playground/host/globals.ts";
