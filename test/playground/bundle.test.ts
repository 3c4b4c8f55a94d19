// The browser playground's parts that run without a browser: its builtin table (the same names and
// declarations as OPA's, the Node-only ones "not available in the browser"), the generated
// declarations file, the page's format list, the Buffer stand-in against Node's Buffer, share
// links, the worker's answers (api.ts) against the CLI, and `portcullis playground`'s server.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { OPA_BUILTINS } from "../../src/builtins/index.ts";
import { OPA_BUILTINS as BROWSER_BUILTINS, UNAVAILABLE_NAMES } from "../../src/playground/host/builtins.ts";
import { Engine as CoreEngine } from "../../src/rego/engine.ts";
import { PARSER_NAMES } from "../../src/formats/content.ts";
import { PARSERS } from "../../src/formats/registry.ts";
import { PARSERS as BROWSER_PARSERS } from "../../src/playground/host/formats.ts";
import { FORMATS } from "../../src/playground/formats.ts";
import { Buffer as BrowserBuffer } from "../../src/playground/host/globals.ts";
import { encodeState, decodeState } from "../../src/playground/share.ts";
import { runEval, runTest, runCheck, runFmt, type State } from "../../src/playground/api.ts";
import { unavailableBuiltinsSource } from "../../scripts/playground-builtins-source.ts";
import { readPlayground, servePlayground, PlaygroundError } from "../../src/server/playground.ts";
import { parseAddr } from "../../src/cli/playground-command.ts";
import { cli } from "../cli/helpers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

test("the browser's builtin table has OPA's names and declarations; Node-only builtins stop with a clear error", async () => {
  assert.deepEqual([...BROWSER_BUILTINS.keys()].sort(), [...OPA_BUILTINS.keys()].sort());
  for (const [name, b] of OPA_BUILTINS) assert.deepEqual(BROWSER_BUILTINS.get(name)!.decl, b.decl, name);
  assert.ok(UNAVAILABLE_NAMES.includes("http.send") && UNAVAILABLE_NAMES.includes("crypto.sha256") && UNAVAILABLE_NAMES.includes("net.lookup_ip_addr"));
  assert.ok(!UNAVAILABLE_NAMES.includes("time.clock") && !UNAVAILABLE_NAMES.includes("net.cidr_contains"));
  const engine = new CoreEngine({ builtins: BROWSER_BUILTINS });
  engine.addModule("p.rego", 'package p\n\nh := crypto.sha256("x")\n');
  await assert.rejects(async () => engine.query("data.p.h"), /crypto\.sha256: not available in the browser/);
});

test("src/playground/host/unavailable-builtins.ts is what scripts/playground-builtins.ts writes", () => {
  const file = readFileSync(join(ROOT, "src", "playground", "host", "unavailable-builtins.ts"), "utf8");
  assert.equal(file, unavailableBuiltinsSource(), "run: node --import tsx scripts/playground-builtins.ts");
});

test("the page's formats are the input parsers", () => {
  assert.deepEqual(FORMATS, ["auto", ...PARSER_NAMES]);
});

test("the browser's parser list (host/formats.ts, the substitute of formats/registry.ts) names every parser in the registry's order", () => {
  // a parser added to the registry and not to the browser's list would silently be missing there
  assert.deepEqual(BROWSER_PARSERS.map((p) => p.name), PARSERS.map((p) => p.name));
});

test("the Buffer stand-in encodes and decodes as Node's Buffer", () => {
  const samples = ["", "a", "ab", "abc", "héllo wörld ✓ 😀", "\u0000\u00ff", "x".repeat(10_000)];
  for (const s of samples) {
    for (const enc of ["utf8", "latin1", "base64", "base64url", "hex"] as const) {
      assert.equal(BrowserBuffer.from(s, "utf8").toString(enc), Buffer.from(s, "utf8").toString(enc), `${enc} of ${s.slice(0, 20)}`);
    }
    assert.equal(BrowserBuffer.byteLength(s, "utf8"), Buffer.byteLength(s, "utf8"));
    const b64 = Buffer.from(s).toString("base64");
    assert.equal(BrowserBuffer.from(b64, "base64").toString("utf8"), s);
    assert.equal(BrowserBuffer.from(` ${b64.slice(0, 4)}\n${b64.slice(4)} `, "base64").toString("utf8"), Buffer.from(` ${b64.slice(0, 4)}\n${b64.slice(4)} `, "base64").toString("utf8"));
    assert.equal(BrowserBuffer.from(s, "latin1").toString("utf8"), Buffer.from(s, "latin1").toString("utf8"));
  }
  assert.equal(BrowserBuffer.from("0aZz", "hex").toString("hex"), Buffer.from("0aZz", "hex").toString("hex"));
  for (const [a, b] of [["a", "b"], ["ab", "a"], ["é", "z"], ["", ""]]) assert.equal(BrowserBuffer.compare(BrowserBuffer.from(a), BrowserBuffer.from(b)), Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.equal(BrowserBuffer.from("héllo").subarray(1, 3).toString("hex"), Buffer.from("héllo").subarray(1, 3).toString("hex"));
  assert.throws(() => BrowserBuffer.from("x", "utf16le"), /utf16le is not supported in the browser/);
});

const STATE: State = { mode: "eval", policy: "package p\n\nallow if input.x == 1\n", input: '{"x": 1}', format: "auto", filename: "input.json", data: "", query: "data.p.allow" };

test("share links: the state round-trips through the fragment; damaged links are refused", async () => {
  const big = { ...STATE, policy: STATE.policy + "# ✓ ".repeat(5000) };
  for (const s of [STATE, big]) {
    const fragment = await encodeState(s);
    assert.match(fragment, /^s=[A-Za-z0-9_-]+$/);
    assert.deepEqual(await decodeState(`#${fragment}`), s);
  }
  assert.ok((await encodeState(big)).length < 2000, "repetitive text compresses");
  await assert.rejects(decodeState("#x=1"), /carries no playground state/);
  await assert.rejects(decodeState("#s=AAAA"), Error);
  await assert.rejects(decodeState("#s=***"), /not base64url/);
  const wrongMode = await encodeState({ ...STATE, mode: "nope" as State["mode"] });
  await assert.rejects(decodeState(wrongMode), /unknown mode "nope"/);
});

test("the worker's eval, test, check and fmt answer as the CLI does", async () => {
  const dir = mkdtempSync(join(tmpdir(), "playground-api-"));
  const cwd = process.cwd();
  try {
    process.chdir(dir);
    // eval: a result, and a type error located in the policy.
    writeFileSync("policy.rego", STATE.policy);
    writeFileSync("input.json", STATE.input);
    const ok = await runEval(STATE);
    const want = await cli(["eval", "-d", "policy.rego", "-i", "input.json", STATE.query]);
    assert.deepEqual([ok.stdout, ok.exitCode], [want.out, want.code]);
    const bad = { ...STATE, policy: 'package p\n\nallow if {\n\tcount(1) == "a"\n}\n' };
    writeFileSync("policy.rego", bad.policy);
    const badAnswer = await runEval(bad);
    const badWant = await cli(["eval", "-d", "policy.rego", "-i", "input.json", STATE.query]);
    assert.deepEqual([badAnswer.stdout, badAnswer.exitCode], [badWant.out, badWant.code]);
    assert.equal(badAnswer.markers[0].row, 4);
    // check: opa check's report.
    const checked = runCheck(bad);
    const checkWant = await cli(["check", "policy.rego"]);
    assert.deepEqual([checked.stderr, checked.exitCode], [checkWant.err, checkWant.code]);
    // test: a TOML input chosen by file name, and a parse error of the input.
    const toml = { ...STATE, mode: "test" as const, policy: 'package main\n\ndeny contains msg if {\n\tinput.server.port < 1024\n\tmsg := sprintf("port %d is privileged", [input.server.port])\n}\n', input: "[server]\nport = 80\n", filename: "app.toml" };
    writeFileSync("policy.rego", toml.policy);
    writeFileSync("app.toml", toml.input);
    const t = await runTest(toml);
    const tWant = await cli(["test", "app.toml", "-p", "policy.rego", "--no-color"]);
    assert.deepEqual([t.stdout, t.exitCode], [tWant.out, tWant.code]);
    writeFileSync("app.toml", "[server\n");
    const broken = await runTest({ ...toml, input: "[server\n" });
    const brokenWant = await cli(["test", "app.toml", "-p", "policy.rego", "--no-color"]);
    assert.deepEqual([broken.stderr, broken.exitCode], [brokenWant.err, brokenWant.code]);
    // fmt: opa fmt's text.
    writeFileSync("ugly.rego", "package p\nallow   if {input.x==1}\n");
    const f = runFmt({ ...STATE, policy: "package p\nallow   if {input.x==1}\n" });
    const fWant = await cli(["fmt", "ugly.rego"]);
    assert.equal(f.formatted, fWant.out);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("portcullis playground: serves only the built files, refuses other methods, and reports a missing build", async () => {
  const dir = mkdtempSync(join(tmpdir(), "playground-site-"));
  try {
    assert.throws(() => readPlayground(dir), (e) => e instanceof PlaygroundError && /is not a built playground \(no index\.html\)/.test(e.message));
    assert.throws(() => readPlayground(join(dir, "nope")), /no such directory/);
    for (const f of ["index.html", "page.js", "worker.js"]) writeFileSync(join(dir, f), f === "index.html" ? "<!doctype html>" : "export {};");
    writeFileSync(join(dir, "secret.txt"), "not served");
    const logs: string[] = [];
    const running = await servePlayground(readPlayground(dir), "127.0.0.1", 0, (l) => logs.push(l));
    try {
      const base = `http://127.0.0.1:${running.port}`;
      const index = await fetch(`${base}/`);
      assert.equal(index.status, 200);
      assert.match(index.headers.get("content-security-policy") ?? "", /connect-src 'none'/);
      assert.equal((await fetch(`${base}/worker.js`)).headers.get("content-type"), "text/javascript; charset=utf-8");
      assert.equal((await fetch(`${base}/secret.txt`)).status, 404);
      assert.equal((await fetch(`${base}/../package.json`)).status, 404);
      assert.equal((await fetch(`${base}/`, { method: "POST", body: "policy" })).status, 405);
      assert.deepEqual(logs, ["GET /secret.txt: 404", "GET /package.json: 404", "POST /: 405"]);
    } finally {
      await running.close();
    }
    const r = await cli(["playground", "--addr", "nope", "--dir", dir]);
    assert.deepEqual([r.code, r.err], [1, 'Error: invalid --addr "nope" (use host:port, e.g. 127.0.0.1:8182; port 0 picks a free one)\n']);
    const missing = await cli(["playground", "--addr", "127.0.0.1:0", "--dir", join(dir, "nope")]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^Error: .*nope: no such directory\n$/);
    assert.deepEqual(parseAddr(":8182"), { host: "127.0.0.1", port: 8182 });
    assert.deepEqual(parseAddr("[::1]:0"), { host: "::1", port: 0 });
    assert.equal(parseAddr("127.0.0.1:70000"), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
