// Runs the portcullis CLI in process with captured output (for CLI tests).
import { main } from "../../src/cli/main.ts";

export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), exitCode: 0 };
  const code = await main(args, io);
  return { code, out, err };
}
