#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader (no build step, nothing to go stale).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`portcullis: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.env.PORTCULLIS_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : ""}\n`);
  process.exitCode = 2;
}
