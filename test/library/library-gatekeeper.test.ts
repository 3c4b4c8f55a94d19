// The library as Gatekeeper policy (scripts/library-gatekeeper.ts): the generated suites pass
// `portcullis verify`, and `portcullis test` with the generated templates and constraints
// (Gatekeeper mode) reports the same findings as the library mode on the same manifests.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, mkdirSync, copyFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { cli } from "../cli/helpers.ts";
import { asLib } from "../../scripts/library-gatekeeper.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const K = join(ROOT, "examples/library/kubernetes");
// Manifests that exercise every rule package (security, storage, network, rbac, workloads,
// availability, images, metadata) and an exemption.
const FILES = [
  "bad-pod-hardening.yaml",
  "bad-rbac.yaml",
  "bad-services-and-ingress.yaml",
  "bad-workload-hygiene.yaml",
  "bad-volumes-runtime-socket-and-host-etc.yaml",
  "bad-availability-probes-spread-strategy.yaml",
  "bad-ports-and-pull-policy.yaml",
  "bad-exemption-without-reason.yaml",
  "good-exemption-with-reason.yaml",
].map((f) => join(K, f));

let dir = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-library-gk-"));
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/library-gatekeeper.ts"), dir], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+ ConstraintTemplates and Constraints, \d+ rules with a firing example/);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Violation {
  msg: string;
  enforcementAction: string;
}

describe("library as Gatekeeper policy", () => {
  test("library modules become Gatekeeper libs", () => {
    const src = "package portcullis_lib.config\n\nimport data.portcullis_lib.rules\n\nsettings := data.portcullis if is_object(data.portcullis)\n";
    assert.equal(asLib(src), "package lib.portcullis_lib.config\n\nimport data.lib.portcullis_lib.rules\n\nsettings := data.lib.portcullis_settings if is_object(data.lib.portcullis_settings)\n");
  });

  test("one template and constraint per per-object rule; the suites pass portcullis verify", async () => {
    const templates = readdirSync(join(dir, "templates"));
    assert.ok(templates.length >= 68, `${templates.length} templates`);
    assert.deepEqual(readdirSync(join(dir, "constraints")).sort(), templates.sort());
    assert.ok(!templates.includes("k8s-017.yaml") && !templates.includes("k8s-016.yaml"), "cross-document rules are left out");
    const r = await cli(["verify", join(dir, "suites/...")]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^PASS$/m);
  });

  test("Gatekeeper mode reports what library mode reports", async () => {
    // library mode: every finding of the per-object rules, per document
    const lib = await cli(["test", "-o", "json", "--no-fail", ...FILES]);
    assert.equal(lib.code, 0, lib.err);
    const generated = new Set(readdirSync(join(dir, "templates")).map((f) => f.replace(".yaml", "").toUpperCase()));
    const want: string[] = [];
    for (const r of JSON.parse(lib.out) as { failures?: { msg: string }[]; warnings?: { msg: string }[] }[]) {
      for (const [action, list] of [["deny", r.failures], ["warn", r.warnings]] as const) {
        for (const f of list ?? []) {
          const id = /^\[(K8S-\d{3})\]/.exec(f.msg)?.[1];
          if (id && generated.has(id)) want.push(`${action} ${f.msg}`);
        }
      }
    }
    // Gatekeeper mode: the generated templates and constraints of the rules that fire here
    const ids = new Set(want.map((w) => /\[(K8S-\d{3})\]/.exec(w)![1].toLowerCase()));
    ids.add("k8s-004"); // exempted by annotation in good-exemption-with-reason.yaml: must stay silent
    const sub = join(dir, "subset");
    for (const d of ["templates", "constraints"]) {
      mkdirSync(join(sub, d), { recursive: true });
      for (const id of ids) copyFileSync(join(dir, d, `${id}.yaml`), join(sub, d, `${id}.yaml`));
    }
    const gk = await cli(["test", "-o", "json", "--no-fail", "-p", join(sub, "templates"), "-p", join(sub, "constraints"), ...FILES]);
    assert.equal(gk.code, 0, gk.err);
    const got = (JSON.parse(gk.out) as Violation[]).map((v) => `${v.enforcementAction} ${v.msg}`);
    assert.ok(want.length > 50, `${want.length} findings`);
    assert.deepEqual(got.sort(), want.sort());
  });
});
