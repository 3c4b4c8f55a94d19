// The `portcullis` process around the commands: --version / version, help listing every command
// (commands load on demand), a reader that goes away (`| head -1`) without a stack trace.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cli } from "./helpers.ts";
import { SOURCE_CLI } from "./portcullis-src.ts";
import { blockOnPipedStdout } from "../../src/cli/main.ts";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

test("--version, -v, -V and `version` print the versions in conftest's shape", async () => {
  // conftest prints `Conftest: <version>` and `OPA: <version>`.
  for (const args of [["--version"], ["-v"], ["-V"], ["version"]]) {
    const r = await cli(args);
    assert.deepEqual(r, { code: 0, out: `Portcullis: ${VERSION}\nOPA: 1.19.0\n`, err: "" }, args.join(" "));
  }
});

test("-c before the command name is the configuration file (conftest's global flag)", async () => {
  const r = await cli(["-c", "nonexistent.toml", "test", "x.yaml"]);
  assert.deepEqual(r, { code: 1, out: "", err: "Error: read in config: error reading config: open nonexistent.toml: no such file or directory\n" });
});

test("--flag=VALUE for boolean flags, as Go's pflag reads them", async () => {
  const bad = await cli(["eval", "--v0-compatible=maybe", "1"]);
  assert.deepEqual(bad, { code: 1, out: "", err: 'Error: invalid argument "maybe" for "--v0-compatible" flag: strconv.ParseBool: parsing "maybe": invalid syntax\n' });
  // An option's value that looks like a flag is left alone.
  const value = await cli(["eval", "-f", "--v0-compatible=maybe", "1"]);
  assert.equal(value.err.includes("strconv.ParseBool"), false);
});

test("-V after a command name is that command's (unknown) option, not the version", async () => {
  const r = await cli(["eval", "-V", "1"]);
  assert.equal(r.code, 1);
  // worded as cobra words it (opa and conftest: `conftest test -V` prints this line, exit 1)
  assert.equal(r.err, "Error: unknown shorthand flag: 'V' in -V\n");
});

test("--help lists every command; a command's --help loads only that command", async () => {
  const all = await cli(["--help"]);
  assert.equal(all.code, 0);
  for (const c of ["eval", "capabilities", "verify", "test", "parse", "check", "repl", "fmt", "controller", "version"]) {
    assert.match(all.out, new RegExp(`^  ${c}\\b`, "m"), c);
  }
  const one = await cli(["eval", "--help"]);
  assert.equal(one.code, 0);
  assert.match(one.out, /^Usage: portcullis eval \[options\] <query>/);
});

test("an unknown command is reported as cobra reports it (conftest, opa), with suggestions", async () => {
  const r = await cli(["evl", "1"]);
  assert.equal(r.code, 1);
  assert.equal(r.out, "");
  assert.equal(r.err, 'Error: unknown command "evl" for "portcullis"\n\nDid you mean this?\n\teval\n\trepl\n\nRun \'portcullis --help\' for usage.\n');
  // nothing close: no suggestion block (conftest prints the same three lines for `conftest zzzzzz`)
  const far = await cli(["zzzzzz"]);
  assert.equal(far.code, 1);
  assert.equal(far.err, 'Error: unknown command "zzzzzz" for "portcullis"\nRun \'portcullis --help\' for usage.\n');
  // a prefix suggests every command it starts (cobra: prefix match as well as distance ≤ 2)
  const pre = await cli(["verif"]);
  assert.match(pre.err, /Did you mean this\?\n(\t\w[\w-]*\n)*\tverify\n/);
});

const sh = spawnSync("sh", ["-c", "exit 0"]).status === 0;

test("`capabilities | head -1`: no stack trace when the reader exits early", { skip: !sh && "needs sh" }, () => {
  // capabilities prints ~100 KB, more than a pipe holds, so the write fails with EPIPE once head exits.
  const cmd = [process.execPath, ...SOURCE_CLI, "capabilities"].map((a) => `'${a}'`).join(" ");
  const r = spawnSync("sh", ["-c", `${cmd} | head -1`], { encoding: "utf8" });
  assert.equal(r.stderr, "");
  assert.match(r.stdout, /^\{\n/);
  // The writer's own status is opa's (141, SIGPIPE), not a success.
  const st = spawnSync("bash", ["-c", `set -o pipefail; ${cmd} | head -1 >/dev/null; echo $?`], { encoding: "utf8" });
  if (st.status === 0) assert.equal(st.stdout.trim(), "141");
});

test("one-shot commands wait for a slow pipe reader instead of queueing their output in memory", { skip: !sh && "needs sh" }, () => {
  // A child takes the process's decision for `test` (blocking) or `run` (asynchronous), writes
  // 8 MB to a pipe whose reader starts late, and reports how much Node still holds queued.
  const main = new URL("../../src/cli/main.ts", import.meta.url).href;
  const script = (cmd: string) =>
    `import { blockOnPipedStdout } from ${JSON.stringify(main)};` +
    `const on = blockOnPipedStdout([${JSON.stringify(cmd)}, "x"]);` +
    `const chunk = "x".repeat(1 << 20);` +
    `for (let i = 0; i < 8; i++) process.stdout.write(chunk + i);` +
    `process.stderr.write(JSON.stringify({ on, queued: process.stdout.writableLength }));`;
  const run = (cmd: string) => {
    const child = [process.execPath, "--import", "tsx", "--input-type=module", "-e", script(cmd)].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
    const r = spawnSync("sh", ["-c", `${child} | (sleep 0.3; wc -c)`], { encoding: "utf8" });
    return { ...(JSON.parse(r.stderr) as { on: boolean; queued: number }), bytes: Number(r.stdout.trim()) };
  };
  const test_ = run("test");
  assert.deepEqual(test_, { on: true, queued: 0, bytes: 8 * ((1 << 20) + 1) });
  const server = run("run");
  assert.equal(server.on, false);
  assert.ok(server.queued > 0, "a server's writes stay asynchronous");
  assert.equal(server.bytes, 8 * ((1 << 20) + 1));
  // a terminal or a file is left as it is
  assert.equal(blockOnPipedStdout(["test"], { isTTY: true }), false);
});
