// Registers `portcullis playground` (docs/playground.md): serves the browser playground — the
// engine, conftest's parsers and Gatekeeper's evaluation bundled for the browser — on a local
// address. Policies are evaluated in the browser; nothing is sent to this server.
import type { Command } from "commander";
import { join } from "node:path";
import type { CliIO } from "./io.ts";
import { PACKAGE_ROOT } from "../package.ts";

export const DEFAULT_ADDR = "127.0.0.1:8182";

/** host and port of an --addr value ([host]:port); undefined when it is not one. */
export function parseAddr(addr: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]*):(\d{1,5})$/.exec(addr);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1] === "" ? "127.0.0.1" : m[1].replace(/^\[|\]$/g, ""), port };
}

export async function runPlayground(o: { addr: string; dir?: string }, io: CliIO, stop: Promise<void>): Promise<number> {
  const addr = parseAddr(o.addr);
  if (!addr) {
    io.err(`Error: invalid --addr ${JSON.stringify(o.addr)} (use host:port, e.g. ${DEFAULT_ADDR}; port 0 picks a free one)\n`);
    return 1;
  }
  const { readPlayground, servePlayground, PlaygroundError } = await import("../server/playground.ts");
  let assets;
  try {
    assets = readPlayground(o.dir ?? join(PACKAGE_ROOT, "dist", "playground"));
  } catch (e) {
    if (!(e instanceof PlaygroundError)) throw e;
    io.err(`Error: ${e.message}\n`);
    return 1;
  }
  let running;
  try {
    running = await servePlayground(assets, addr.host, addr.port, (line) => io.err(`playground: ${line}\n`));
  } catch (e) {
    io.err(`Error: listen ${o.addr}: ${(e as Error).message}\n`);
    return 1;
  }
  const host = addr.host.includes(":") ? `[${addr.host}]` : addr.host;
  io.out(`playground: http://${host}:${running.port}/ (evaluation runs in the browser; nothing is sent to this server)\n`);
  await stop;
  await running.close();
  return 0;
}

export function register(program: Command, io: CliIO): void {
  program
    .command("playground")
    .description("serve the browser playground (the policy engine runs in the page) on a local address")
    .option("--addr <host:port>", "listening address (port 0: any free port)", DEFAULT_ADDR)
    .option("--dir <path>", "the built playground's files (default: the package's dist/playground)")
    .action(async (o: { addr: string; dir?: string }) => {
      const stop = new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      io.exitCode = await runPlayground(o, io, stop);
    });
}
