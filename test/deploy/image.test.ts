// The image build file (Dockerfile): Portcullis's built-in Dockerfile library passes it with 0
// failures; every build-stage COPY source exists and is let through by .dockerignore; the final
// stage's entry point and symlink target are in the npm package (npm pack). There is no Docker
// daemon on the build machine, so the image itself is not built here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cli } from "../cli/helpers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, "Dockerfile"), "utf8");
/** Instructions with continuation lines joined. */
const instructions = DOCKERFILE.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));

test("the built-in Dockerfile library passes the Dockerfile with 0 failures", async () => {
  const r = await cli(["test", "--no-color", join(ROOT, "Dockerfile")]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /\d+ tests, \d+ passed, 0 warnings, 0 failures, 0 exceptions/);
});

test("Node 20 slim pinned to an exact version, numeric non-root USER, HEALTHCHECK, exec-form ENTRYPOINT portcullis", () => {
  const froms = instructions.filter((l) => l.startsWith("FROM "));
  assert.ok(froms.length >= 2 && froms.every((f) => /^FROM node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?( AS \w+)?$/.test(f)), froms.join("\n"));
  const users = instructions.filter((l) => l.startsWith("USER "));
  assert.match(users.at(-1)!, /^USER [1-9]\d*:[1-9]\d*$/);
  assert.ok(instructions.some((l) => l.startsWith("HEALTHCHECK ")));
  assert.equal(instructions.find((l) => l.startsWith("ENTRYPOINT ")), 'ENTRYPOINT ["portcullis"]');
  assert.ok(instructions.some((l) => /npm ci --omit=dev/.test(l)));
});

test("every COPY source exists and passes .dockerignore; the package holds what the final stage runs", () => {
  const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  assert.equal(ignore[0], "*");
  const allowed = new Set(ignore.slice(1).map((l) => l.replace(/^!/, "").replace(/\/$/, "")));
  const sources = instructions.filter((l) => l.startsWith("COPY ") && !l.includes("--from=")).flatMap((l) => l.split(/\s+/).slice(1, -1));
  assert.ok(sources.length >= 8);
  for (const s of sources) {
    const p = s.replace(/\/$/, "");
    assert.ok(existsSync(join(ROOT, p)), `COPY ${s}: missing`);
    assert.ok(allowed.has(p), `COPY ${s}: excluded by .dockerignore`);
  }
  // npm pack (no scripts: the build stage runs the build) lists the files the final stage needs.
  const packed = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 }))[0].files.map((f: { path: string }) => f.path) as string[];
  for (const f of ["package.json", "bin/portcullis.js", "library/kubernetes/security.rego", "library/dockerfile/security.rego"]) assert.ok(packed.includes(f), `${f} not in npm pack`);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  assert.equal(pkg.bin.portcullis, "./bin/portcullis.js");
  assert.ok(pkg.files.includes("dist/"), "dist/ (the build's output) is packed");
  assert.match(DOCKERFILE, /ln -s \/opt\/portcullis\/bin\/portcullis\.js \/usr\/local\/bin\/portcullis/);
});
