// REPL sessions in examples/repl/sessions: each file's first line `# opa: run ARGS` gives opa's
// arguments (paths relative to the sessions directory; portcullis gets them as -d paths), the
// other lines are typed at the prompt. Output is compared without the banner.
//   node --import tsx scripts/repl-sessions.ts          record opa's output as NAME.expected
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Repl } from "../src/cli/repl.ts";
import { findOpa } from "./compare-check.ts";

export const SESSIONS = fileURLToPath(new URL("../examples/repl/sessions/", import.meta.url));

export interface Session {
  name: string;
  opaArgs: string[];
  lines: string[];
}

export function sessions(): Session[] {
  return readdirSync(SESSIONS)
    .filter((f) => f.endsWith(".txt"))
    .sort()
    .map((f) => {
      const [head, ...lines] = readFileSync(join(SESSIONS, f), "utf8").replace(/\n$/, "").split("\n");
      const m = /^# opa: run ?(.*)$/.exec(head);
      if (!m) throw new Error(`${f}: first line must be "# opa: run ARGS"`);
      return { name: f.replace(/\.txt$/, ""), opaArgs: m[1].split(/\s+/).filter((a) => a !== ""), lines };
    });
}

/** Drop the banner (four lines). */
const body = (s: string) => s.split("\n").slice(4).join("\n");

export function runOpa(s: Session): string {
  const opa = findOpa();
  if (!opa) throw new Error("opa not found");
  const out = execFileSync(opa, ["run", ...s.opaArgs], { cwd: SESSIONS, input: s.lines.join("\n") + "\n", encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  return body(out);
}

/** The session run in-process (as `portcullis repl -d …` would run it on piped input). */
export async function runOurs(s: Session): Promise<string> {
  const paths = s.opaArgs.filter((a) => !a.startsWith("-")).map((p) => join(SESSIONS, p));
  let out = "";
  const repl = new Repl({ paths, regoVersion: s.opaArgs.includes("--v0-compatible") ? "v0" : "v1" }, (x) => void (out += x));
  repl.load();
  for (const l of s.lines) if ((await repl.line(l)) === "exit") break;
  // Loaded file names appear in messages relative to where opa ran.
  return out.split(SESSIONS).join("");
}

if (process.argv[1]?.endsWith("repl-sessions.ts")) {
  for (const s of sessions()) {
    writeFileSync(join(SESSIONS, `${s.name}.expected`), runOpa(s));
    process.stdout.write(`recorded ${s.name}\n`);
  }
}
