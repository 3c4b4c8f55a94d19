// bin/portcullis.js's V8 code cache (start-up on Node 20): the command line bundled as one file
// (scripts/cli-bundle.ts) into a temporary package, run as a process. The first run of a command
// writes its cache, the next one uses it unchanged, a corrupt cache is rejected by V8 and written
// anew, PORTCULLIS_CODE_CACHE=0 writes none and an unusable cache directory is skipped; the
// output is the same every time.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCliBundle } from "../../scripts/cli-bundle.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A package of bin/ and the command line's bundle only (no ES module build: the bin must not need one). */
async function makePackage(): Promise<{ pkg: string; sha256: string }> {
  const pkg = mkdtempSync(join(tmpdir(), "portcullis-codecache-"));
  made.push(pkg);
  mkdirSync(join(pkg, "bin"));
  copyFileSync(join(ROOT, "bin", "portcullis.js"), join(pkg, "bin", "portcullis.js"));
  copyFileSync(join(ROOT, "bin", "package.json"), join(pkg, "bin", "package.json"));
  copyFileSync(join(ROOT, "package.json"), join(pkg, "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"));
  const { sha256 } = await buildCliBundle(ROOT, join(pkg, "dist", "cli"));
  return { pkg, sha256 };
}

const made: string[] = [];
after(() => {
  for (const pkg of made) rmSync(pkg, { recursive: true, force: true });
});
let built: Promise<{ pkg: string; sha256: string }> | undefined;
const builtPackage = () => (built ??= makePackage());

test("bin/portcullis.js: the code cache is written, reused, rewritten when rejected, skipped when unusable", { timeout: 120_000 }, async () => {
  const { pkg, sha256 } = await builtPackage();
  const cache = join(pkg, "cache");

  const run = (env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [join(pkg, "bin", "portcullis.js"), "eval", "-f", "raw", "sprintf(\"%d\", [6 * 7])"], {
      cwd: pkg,
      encoding: "utf8",
      env: { ...process.env, PORTCULLIS_CACHE_DIR: cache, ...env },
    });
    assert.equal(r.stderr, "");
    assert.equal(r.status, 0);
    return r.stdout;
  };
  const files = () => {
    try {
      return readdirSync(cache);
    } catch {
      return [];
    }
  };

  const expected = "42\n";
  assert.equal(run({ PORTCULLIS_CODE_CACHE: "0" }), expected);
  assert.deepEqual(files(), [], "PORTCULLIS_CODE_CACHE=0 writes no cache");

  assert.equal(run(), expected);
  const [name] = files();
  assert.match(name, new RegExp(`^${sha256.slice(0, 32)}-\\d+-\\d+-${process.version}-${process.arch}-eval\\.bin$`));
  const file = join(cache, name);
  const first = statSync(file);
  assert.ok(first.size > 10_000, `cache of ${first.size} bytes`);

  assert.equal(run(), expected);
  assert.equal(statSync(file).mtimeMs, first.mtimeMs, "an accepted cache is not written again");
  assert.deepEqual(files(), [name]);

  writeFileSync(file, "not a V8 code cache");
  assert.equal(run(), expected);
  assert.ok(statSync(file).size > 10_000, "a rejected cache is written anew");
  assert.notEqual(readFileSync(file, "utf8").slice(0, 19), "not a V8 code cache");

  rmSync(cache, { recursive: true });
  writeFileSync(cache, "a file where the cache directory should be");
  assert.equal(run(), expected);
});

// What start-up loads: `portcullis eval 1+1` and `--version` run from the bundle alone, read as
// Latin-1 (the build writes it in ASCII), and load no npm package and none of Node's modules that
// only some commands need (Node's ES module loader through node:module; child_process and with it
// dgram, through commander; net is legitimately loaded for a piped stdout). The test reads
// process.moduleLoadList and require.cache at exit.
test("bin/portcullis.js: eval 1+1 and --version load no package and no child_process or ES module loader", { timeout: 120_000 }, async () => {
  const { pkg } = await builtPackage();
  const bundle = readFileSync(join(pkg, "dist", "cli", "portcullis.cjs"));
  assert.equal(JSON.parse(readFileSync(join(pkg, "dist", "cli", "portcullis.json"), "utf8")).ascii, true);
  assert.equal(bundle.findIndex((b) => b > 0x7f), -1, "the bundle is ASCII");

  const report = join(pkg, "loaded.json");
  const preload = join(pkg, "record-loaded.cjs");
  writeFileSync(
    preload,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify({ builtins: process.moduleLoadList, files: Object.keys(require.cache) })));\n`,
  );
  const loaded = (args: string[]) => {
    const r = spawnSync(process.execPath, ["-r", preload, join(pkg, "bin", "portcullis.js"), ...args], {
      cwd: pkg,
      encoding: "utf8",
      env: { ...process.env, PORTCULLIS_CACHE_DIR: join(pkg, "cache2") },
    });
    assert.equal(r.stderr, "");
    assert.equal(r.status, 0);
    return { out: r.stdout, ...(JSON.parse(readFileSync(report, "utf8")) as { builtins: string[]; files: string[] }) };
  };
  for (const args of [["eval", "-f", "raw", "1+1"], ["--version"]]) {
    const r = loaded(args);
    assert.match(r.out, args[0] === "eval" ? /^2\n$/ : /^Portcullis: /);
    const unwanted = r.builtins.filter((m) => /^NativeModule (child_process|dgram|module|internal\/modules\/esm\/loader)$/.test(m));
    assert.deepEqual(unwanted, [], `${args.join(" ")} loads Node modules it does not need`);
    assert.deepEqual(
      r.files.filter((f) => f.includes("node_modules")),
      [],
      `${args.join(" ")} loads npm packages`,
    );
  }
});
