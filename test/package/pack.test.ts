// The published package, end to end (SLOW: ~30–60 s; it builds, packs and installs):
// `npm run build`, `npm pack` into a temporary directory, the tarball's file list, then the tarball
// installed into an empty project (`npm install --prefer-offline`: its dependencies come from npm's
// cache or the registry), where `import("portcullis")` and `npx portcullis …` must work from
// dist/ alone. Skipped, with the reason, when npm is missing or the install cannot reach the
// registry.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const npmCmd = process.platform === "win32" ? "npm.cmd" : "npm";
const npxCmd = process.platform === "win32" ? "npx.cmd" : "npx";

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20, timeout: 300_000 });
}

const tail = (r: SpawnSyncReturns<string>) => `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");

const npmVersion = spawnSync(npmCmd, ["--version"], { encoding: "utf8" });
const noNpm = npmVersion.status !== 0 ? "npm is not on PATH" : false;

test("npm package: build, pack, install into an empty project, import and run", { skip: noNpm, timeout: 600_000 }, (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "portcullis-pack-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  const build = run(npmCmd, ["run", "build"], ROOT);
  assert.equal(build.status, 0, `npm run build failed:\n${tail(build)}`);

  // The build just ran; --ignore-scripts keeps prepare from building a second time (and keeps
  // its output out of the JSON).
  const pack = run(npmCmd, ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], ROOT);
  assert.equal(pack.status, 0, `npm pack failed:\n${tail(pack)}`);
  const [info] = JSON.parse(pack.stdout) as { filename: string; size: number; unpackedSize: number; entryCount: number; files: { path: string }[] }[];
  const files = info.files.map((f) => f.path).sort();
  t.diagnostic(`${info.filename}: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} kB packed, ${(info.unpackedSize / 1024).toFixed(0)} kB unpacked`);

  for (const f of ["package.json", "README.md", "LICENSE", "bin/portcullis.js", "bin/package.json", "dist/index.js", "dist/index.d.ts", "dist/cli/portcullis.cjs", "dist/cli/portcullis.json", "library/README.md", "library/kubernetes/images.rego", "library/lib/kubernetes.rego"]) {
    assert.ok(files.includes(f), `tarball lacks ${f}`);
  }
  const dev = files.filter((f) => /^(src|test|scripts|bench|docs|examples|node_modules)\//.test(f) || f.endsWith("_test.rego") || f.startsWith("tsconfig") || f.endsWith(".ts") && !f.endsWith(".d.ts"));
  assert.deepEqual(dev, [], "development files in the tarball");

  const project = join(tmp, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "pack-test", version: "1.0.0", private: true }, null, 2));
  const install = run(npmCmd, ["install", "--prefer-offline", "--no-audit", "--no-fund", join(tmp, info.filename)], project);
  if (install.status !== 0) {
    t.skip(`npm install of the tarball failed (no registry or cache?):\n${tail(install)}`);
    return;
  }

  const lib = run(process.execPath, ["-e", 'import("portcullis").then(m => console.log(typeof m.Engine))'], project);
  assert.equal(lib.status, 0, tail(lib));
  assert.equal(lib.stdout, "function\n");

  const ev = run(npxCmd, ["--no", "--", "portcullis", "eval", "1+1"], project);
  assert.equal(ev.status, 0, tail(ev));
  assert.deepEqual(JSON.parse(ev.stdout), { result: [{ expressions: [{ value: 2, text: "1+1", location: { row: 1, col: 1 } }] }] });

  const version = run(npxCmd, ["--no", "--", "portcullis", "--version"], project);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  assert.equal(version.stdout, `Portcullis: ${pkg.version}\nOPA: 1.19.0\n`);

  // The built-in library, found beside dist/ in node_modules/portcullis/library.
  writeFileSync(join(project, "pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx:latest\n");
  const lintRun = run(npxCmd, ["--no", "--", "portcullis", "test", "--no-color", "pod.yaml"], project);
  assert.equal(lintRun.status, 1, tail(lintRun));
  assert.match(lintRun.stdout, /FAIL - pod\.yaml - kubernetes\.images - \[K8S-010\]/);
});
