// The configuration file as OPA reads it before parsing: `${VAR}` replaced by the environment
// (set, set empty, unset: kept as written, `${}`, nesting, an unclosed `${`), `--set` values
// substituted too, `--set-file` values read from files (trimmed, not substituted); and
// `--ready-timeout`. Compared with `GET /v1/config` of `opa run --server` 1.19.0 for the same
// file, flags and environment (recorded in test/server/recorded/opa-config-env.json; compared
// live too when OPA is installed).
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { loadConfig, substituteEnv, ConfigError } from "../../src/server/config.ts";
import { startServer, Logger, LoadError } from "../../src/server/index.ts";
import { HAVE_OPA, OPA, freePort, testServerOptions } from "./harness.ts";
import { buildArchive } from "../../src/bundle/build.ts";

const RECORDING = fileURLToPath(new URL("./recorded/opa-config-env.json", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "config-env-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const CONFIG = `labels:
  set: "\${PC_SET}"
  unset: "\${PC_UNSET}"
  empty: "x\${PC_EMPTY}y"
  blank: "a\${}b"
  two: "\${PC_SET}-\${PC_SET}"
  open: "\${PC_SET"
  nested: "\${\${PC_SET}}"
default_decision: /\${PC_PKG}/main
`;
const ENV = { PC_SET: "hello", PC_EMPTY: "", PC_PKG: "example" };
const file = join(tmp, "config.yaml");
const valueFile = join(tmp, "value.txt");
writeFileSync(file, CONFIG);
writeFileSync(valueFile, "  file ${PC_SET} value\n\n");
const SETS = ["labels.fromset=${PC_SET}"];
const SET_FILES = [`labels.fromfile=${valueFile}`];

/** /v1/config's result without the per-run label values. */
function normal(result: Record<string, unknown>): Record<string, unknown> {
  const labels = { ...(result.labels as Record<string, string>) };
  delete labels.id;
  delete labels.version;
  return { ...result, labels };
}

function portcullisConfig(): Record<string, unknown> {
  const saved = { ...process.env };
  Object.assign(process.env, ENV);
  delete process.env.PC_UNSET;
  try {
    return normal(loadConfig({ file, sets: SETS, setFiles: SET_FILES, id: "t", version: "t" }).raw);
  } finally {
    for (const k of Object.keys(ENV)) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

test("config: environment substitution, --set and --set-file answer OPA's /v1/config (recorded)", () => {
  assert.deepEqual(portcullisConfig(), JSON.parse(readFileSync(RECORDING, "utf8")));
});

test("config: the recording matches a live opa run", { skip: HAVE_OPA ? false : `no OPA at ${OPA}`, timeout: 30000 }, async () => {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, ...ENV };
  delete env.PC_UNSET;
  const child = spawn(OPA, ["run", "--server", "--addr", `127.0.0.1:${port}`, "--log-level", "error", "-c", file, ...SETS.flatMap((s) => ["--set", s]), ...SET_FILES.flatMap((s) => ["--set-file", s])], { env, stdio: "ignore" });
  try {
    let body: { result: Record<string, unknown> } | undefined;
    for (let i = 0; i < 100 && !body; i++) {
      try {
        body = (await (await fetch(`http://127.0.0.1:${port}/v1/config`)).json()) as { result: Record<string, unknown> };
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const got = normal(body!.result);
    if (process.env.RECORD_OPA) writeFileSync(RECORDING, `${JSON.stringify(got, null, 2)}\n`);
    assert.deepEqual(got, JSON.parse(readFileSync(RECORDING, "utf8")));
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
});

test("config: substitution rules and --set-file errors", () => {
  const env = { A: "1", E: "" };
  assert.equal(substituteEnv("${A}${E}${B}${}x", env), "1${B}x");
  assert.equal(substituteEnv("${A\n}", env), "${A\n}", "a variable name never spans lines");
  assert.throws(() => loadConfig({ setFiles: [`labels.x=${join(tmp, "nope")}`], id: "t", version: "t" }), (e: Error) => e instanceof ConfigError && /^failed parsing --set-file data: open .*nope: no such file or directory$/.test(e.message));
  assert.throws(() => loadConfig({ setFiles: ["novalue"], id: "t", version: "t" }), /--set-file novalue: want key\.path=value/);
});

test("--ready-timeout: listeners open once the bundles are activated; past the timeout, start-up fails", { timeout: 30000 }, async () => {
  writeFileSync(join(tmp, "p.rego"), "package x\n\nallow := true\n");
  const archive = buildArchive({ paths: [join(tmp, "p.rego")], bundleMode: false, regoVersion: "v1" });
  let delay = 300;
  const srv = http.createServer((req, res) => setTimeout(() => res.end(archive), delay));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const config = (u: string) => loadConfig({ sets: [`services.s.url=${u}`, "bundles.b.service=s", "bundles.b.polling.min_delay_seconds=60", "bundles.b.polling.max_delay_seconds=120"], id: "t", version: "t" });
  const logs: string[] = [];
  try {
    const t0 = Date.now();
    const server = await startServer(testServerOptions([], { workers: 0, config: config(url), readyTimeoutMs: 5000 }));
    assert.ok(Date.now() - t0 >= 250, "waited for the bundle");
    assert.equal((await fetch(`http://${server.addresses[0]}/health?bundles`)).status, 200, "ready as soon as it listens");
    await server.close();
    delay = 0;
    const closed = await freePort();
    await assert.rejects(
      startServer(testServerOptions([], { workers: 0, config: config(`http://127.0.0.1:${closed}`), readyTimeoutMs: 500, logger: new Logger("error", "json", (l) => logs.push(l)) })),
      (e: Error) => e instanceof LoadError && e.message === "the plugins were not ready within --ready-timeout (bundles not activated: b)",
    );
    assert.ok(logs.some((l) => JSON.parse(l).msg === "Failed to wait for plugins activation." && JSON.parse(l).err === "timeout"), logs.join("\n"));
  } finally {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
});
