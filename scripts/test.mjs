// `npm test`: every test/**/*.test.ts under Node's test runner (spec reporter, files in sorted
// order), with TMPDIR pointed at one fresh directory that is removed when the run ends, so the
// temporary files and directories the tests make (thousands per run) do not stay in the system's
// temporary directory. The runner's exit code is this script's.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith(".test.ts")) files.push(relative(root, p));
  }
};
walk(join(root, "test"));
// byte order, as `find test -name '*.test.ts' | sort` with LC_ALL=C gives them
files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

const tmp = mkdtempSync(join(tmpdir(), "portcullis-test-"));
const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...process.argv.slice(2), ...files], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, TMPDIR: tmp },
});
const cleanup = () => rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => {
  try {
    cleanup();
  } catch (e) {
    console.error(`npm test: could not remove ${tmp}: ${e.message}`);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
