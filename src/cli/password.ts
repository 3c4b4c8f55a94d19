// The password of a cosign private key, found as cosign finds it: `COSIGN_PASSWORD` when set (even
// empty), else a prompt on the terminal without echo (twice when a new key is made), else all
// of standard input (a piped password).

import { readFileSync } from "node:fs";
import type { CliIO } from "./io.ts";

/** Largest password read from a pipe. */
const MAX_PIPED_PASSWORD = 64 * 1024;

function promptHidden(prompt: string, io: CliIO): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    io.err(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = "";
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      io.err("\n");
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new Error("interrupted"));
        if (ch === "\u007f" || ch === "\b") text = text.slice(0, -1);
        else text += ch;
        if (text.length > MAX_PIPED_PASSWORD) return done(new Error("password too long"));
      }
    };
    stdin.on("data", onData);
  });
}

/** The key password; `confirm` asks twice on a terminal and fails when the two differ. */
export async function readPassword(io: CliIO, confirm: boolean, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.COSIGN_PASSWORD !== undefined) return env.COSIGN_PASSWORD;
  if (io.readStdin) return io.readStdin();
  if (process.stdin.isTTY) {
    const first = await promptHidden("Enter password for private key: ", io);
    if (!confirm) return first;
    const second = await promptHidden("Enter password for private key again: ", io);
    if (first !== second) throw new Error("passwords do not match");
    return first;
  }
  const piped = readFileSync(0);
  if (piped.length > MAX_PIPED_PASSWORD) throw new Error(`a piped password is limited to ${MAX_PIPED_PASSWORD} bytes`);
  return piped.toString("utf8");
}
