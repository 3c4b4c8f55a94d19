#!/usr/bin/env node
// The `portcullis` command: runs the compiled CLI in dist/ (built by `npm run build`, which
// `npm install` runs in a clone through the `prepare` script; the published package ships it).
// Tests run the same CLI from the sources: test/cli/portcullis-src.ts.
import module from "node:module";

// Node ≥ 22.1 can keep compiled code between runs (a faster start); older versions lack it.
try {
  module.enableCompileCache?.();
} catch {
  // no usable cache directory: run without it
}

let cli;
try {
  cli = await import("../dist/cli/main.js");
} catch (e) {
  if (e?.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes("main.js")) {
    process.stderr.write("portcullis: dist/ is missing: run `npm run build` in the package's directory\n");
    process.exit(2);
  }
  throw e;
}
await cli.runProcess(process.argv.slice(2));
