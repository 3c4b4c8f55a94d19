// The browser playground in a real browser: Debian's chromium, headless, driven by playwright-core,
// the page served by `portcullis playground` (a real process) from a bundle built into a temporary
// directory. Each example must print in the page what the portcullis command prints for the same
// files (computed here); a syntax error is marked at its line; a policy that runs past the deadline
// is stopped and the page keeps answering; a share link restores the panes in a fresh page; after
// load, the page makes no request. Screenshots of the modes go to docs/playground/ (as palette
// PNGs, ./png8.ts) when PLAYGROUND_SCREENSHOTS=1.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SOURCE_CLI } from "../cli/portcullis-src.ts";
import { cli } from "../cli/helpers.ts";
import { buildPlayground, type PlaygroundBuild } from "../../scripts/browser-bundle.ts";
import { EXAMPLES, type Example } from "../../src/playground/examples.ts";
import type { State } from "../../src/playground/api.ts";
import { toPng8 } from "./png8.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.PORTCULLIS_CHROMIUM ?? "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (apt-get install chromium)`;

type Browser = import("playwright-core").Browser;
type Page = import("playwright-core").Page;

let tmp: string;
let built: PlaygroundBuild;
let server: ChildProcess | undefined;
let base: string;
let browser: Browser;

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(join(tmpdir(), "playground-test-"));
  built = await buildPlayground(ROOT, join(tmp, "site"));
  server = spawn(process.execPath, [...SOURCE_CLI, "playground", "--addr", "127.0.0.1:0", "--dir", join(tmp, "site")], { stdio: ["ignore", "pipe", "pipe"] });
  base = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`portcullis playground did not start: ${out}`)), 30_000);
    server!.stdout!.on("data", (d) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    server!.on("exit", (code) => reject(new Error(`portcullis playground exited (${code}): ${out}`)));
  });
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Watched {
  page: Page;
  requests: { url: string; method: string; at: number }[];
  errors: string[];
}

async function open(url: string, viewport = { width: 1280, height: 800 }): Promise<Watched> {
  const page = await browser.newPage({ viewport });
  const w: Watched = { page, requests: [], errors: [] };
  page.on("request", (r) => w.requests.push({ url: r.url(), method: r.method(), at: Date.now() }));
  page.on("pageerror", (e) => w.errors.push(e.message));
  await page.goto(url);
  await evaluations(page, 1);
  return w;
}

async function evaluations(page: Page, n: number): Promise<void> {
  await page.waitForFunction((k) => ((window as unknown as { __playground?: { evaluations: number } }).__playground?.evaluations ?? 0) >= k, n, { timeout: 30_000 });
}

async function count(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __playground: { evaluations: number } }).__playground.evaluations);
}

/** Choose an example and wait for its answer. */
async function choose(page: Page, id: string): Promise<{ output: string; status: string }> {
  const n = await count(page);
  await page.selectOption("#example", id);
  await evaluations(page, n + 1);
  await page.waitForFunction(() => document.querySelector("#status")?.getAttribute("data-state") !== "busy");
  return { output: (await page.textContent("#output")) ?? "", status: (await page.textContent("#status")) ?? "" };
}

/** What the portcullis command prints for an example's panes, written as files (cwd: a fresh directory). */
async function commandAnswer(ex: Example): Promise<{ out: string; code: number }> {
  const s = ex.state;
  const dir = mkdtempSync(join(tmp, `${ex.id}-`));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    if (s.mode === "eval") {
      writeFileSync("policy.rego", s.policy);
      const args = ["eval", "-d", "policy.rego"];
      if (s.data.trim()) {
        writeFileSync("data.json", s.data);
        args.push("-d", "data.json");
      }
      if (s.input.trim()) {
        writeFileSync("input.json", s.input);
        args.push("-i", "input.json");
      }
      const r = await cli([...args, s.query]);
      return { out: r.out + r.err, code: r.code };
    }
    if (s.mode === "test") {
      writeFileSync("policy.rego", s.policy);
      writeFileSync(s.filename, s.input);
      const r = await cli(["test", s.filename, "-p", "policy.rego", "--no-color"]);
      return { out: r.out + r.err, code: r.code };
    }
    mkdirSync("policies");
    writeFileSync(join("policies", "policies.yaml"), s.data);
    writeFileSync("objects.yaml", s.input);
    const r = await cli(["test", "objects.yaml", "-p", "policies"]);
    return { out: r.out + r.err, code: r.code };
  } finally {
    process.chdir(cwd);
  }
}

test("each example answers in the page as the portcullis command does; screenshots of the modes", { skip, timeout: 60_000 }, async () => {
  const w = await open(base);
  const firstEvalMs = await w.page.evaluate(() => (window as unknown as { __playground: { firstEvalMs: number } }).__playground.firstEvalMs);
  const shots = process.env.PLAYGROUND_SCREENSHOTS === "1";
  for (const ex of EXAMPLES) {
    const page = await choose(w.page, ex.id);
    const want = await commandAnswer(ex);
    assert.equal(page.output, want.out, `${ex.id}: the page's output differs from the command's`);
    assert.match(page.status, new RegExp(`^exit ${want.code} `), `${ex.id}: exit code`);
    if (shots && (ex.id === "image-policy" || ex.id === "required-labels" || ex.id === "dockerfile-golden")) {
      const mode = ex.state.mode === "test" ? "conftest" : ex.state.mode;
      writeFileSync(join(ROOT, "docs", "playground", `${mode}.png`), toPng8(await w.page.screenshot()));
    }
  }
  assert.deepEqual(w.errors, []);
  console.log(`# playground: bundle ${built.files.join(", ")}: ${(built.bytes / 1024).toFixed(0)} KiB, ${(built.gzipBytes / 1024).toFixed(0)} KiB gzip; first evaluation shown ${firstEvalMs} ms after navigation started`);
  await w.page.close();
});

test("a syntax error is marked at its line in the policy editor", { skip, timeout: 30_000 }, async () => {
  const w = await open(base);
  const n = await count(w.page);
  // Line 3 is broken; the editor's content is replaced through its own input handling.
  await w.page.click("#policy .cm-content");
  await w.page.keyboard.press("Control+a");
  await w.page.keyboard.insertText("package p\n\nallow if { input.x = = 1 }\n");
  await evaluations(w.page, n + 1);
  const markers = await w.page.textContent("#markers");
  assert.match(markers ?? "", /^policy\.rego:3:\d+: rego_parse_error: /);
  const gutter = await w.page.locator("#policy .cm-lint-marker-error").count();
  assert.ok(gutter >= 1, "a lint marker in the gutter");
  const line = await w.page.locator("#policy .cm-lineNumbers .cm-gutterElement", { hasText: /^3$/ }).boundingBox();
  const mark = await w.page.locator("#policy .cm-lint-marker-error").first().boundingBox();
  assert.ok(line && mark && Math.abs(line.y - mark.y) < 4, "the marker is on line 3");
  if (process.env.PLAYGROUND_SCREENSHOTS === "1") writeFileSync(join(ROOT, "docs", "playground", "error.png"), toPng8(await w.page.screenshot()));
  await w.page.close();
});

test("a policy that runs past the deadline is stopped; the page answers clicks meanwhile and evaluates again after", { skip, timeout: 40_000 }, async () => {
  const w = await open(`${base}?deadline=1000`);
  const loaded = w.requests.length;
  const n = await count(w.page);
  // One builtin call that sorts eight million one-character strings: no cancellation point inside it.
  await w.page.fill("#query", 'count(sort(split(sprintf("%v", [numbers.range(1, 1000000)]), "")))');
  // While the worker computes, the page's own thread is free: the share button answers at once.
  await w.page.waitForFunction(() => document.querySelector("#status")?.getAttribute("data-state") === "busy");
  const started = Date.now();
  await w.page.click("#share", { timeout: 1000 });
  await w.page.waitForFunction(() => (document.querySelector("#share-link") as HTMLInputElement | null)?.value.includes("#s="), null, { timeout: 1000 });
  assert.ok(Date.now() - started < 1000, "the click was handled while the policy ran");
  assert.equal(await w.page.getAttribute("#status", "data-state"), "busy", "the policy was still running");
  await w.page.waitForFunction(() => /^stopped/.test(document.querySelector("#status")?.textContent ?? ""), null, { timeout: 20_000 });
  assert.match((await w.page.textContent("#output")) ?? "", /^stopped: the evaluation did not finish within 1000 ms/);
  const restarts = await w.page.evaluate(() => (window as unknown as { __playground: { restarts: number } }).__playground.restarts);
  assert.ok(restarts >= 1, "the worker was replaced");
  // The new worker answers.
  await w.page.fill("#query", "1 + 1");
  await evaluations(w.page, n + 1);
  await w.page.waitForFunction(() => /"value": 2/.test(document.querySelector("#output")?.textContent ?? ""));
  // After load, the only requests are the replacement worker's script, from the page's origin.
  const later = w.requests.slice(loaded);
  assert.ok(later.length >= 1);
  for (const r of later) assert.deepEqual([r.method, r.url], ["GET", `${base}worker.js`]);
  await w.page.close();
});

test("a share link restores the panes in a fresh page, and no request leaves the page after load", { skip, timeout: 30_000 }, async () => {
  const w = await open(base);
  const loadRequests = w.requests.map((r) => r.url).sort();
  assert.deepEqual(loadRequests, [base, `${base}page.js`, `${base}playground.css`, `${base}worker.js`].sort());
  const afterLoad = w.requests.length;
  await choose(w.page, "time-window");
  const n = await count(w.page);
  await w.page.fill("#query", "data.deploy.window.reasons");
  await evaluations(w.page, n + 1);
  const output = await w.page.textContent("#output");
  await w.page.click("#share");
  await w.page.waitForFunction(() => (document.querySelector("#share-link") as HTMLInputElement | null)?.value.includes("#s="));
  const link = await w.page.inputValue("#share-link");
  const state = await w.page.evaluate(() => (window as unknown as { __playground: { state(): State } }).__playground.state());
  assert.equal(w.requests.length, afterLoad, `requests after load: ${w.requests.slice(afterLoad).map((r) => r.url).join(", ")}`);
  assert.ok(link.startsWith(base) && !link.slice(0, link.indexOf("#")).includes("s="), "the state is only in the fragment");

  const fresh = await browser.newContext();
  const page = await fresh.newPage();
  await page.goto(link);
  await evaluations(page, 1);
  const restored = await page.evaluate(() => (window as unknown as { __playground: { state(): State } }).__playground.state());
  assert.deepEqual(restored, state);
  assert.equal(await page.textContent("#output"), output);
  await fresh.close();
  await w.page.close();
});
