// Hardening: which engines know which builtins. conftest's parse_config_file and
// parse_combined_config_files read files: they exist only on `portcullis test`'s engine and stay
// inside the working directory; everywhere else (eval, verify, the library, Gatekeeper
// templates) they are undefined functions, as in OPA and Gatekeeper. Gatekeeper templates do not
// get http.send (Gatekeeper disables it by default). eval --capabilities restricts builtins as
// opa eval does. Unexpected exceptions inside builtins are never a silent undefined.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine, RegoError } from "../../src/index.ts";
import { compileTemplate, TemplateError } from "../../src/gatekeeper/template.ts";
import { loadPolicies, readConfigs, runChecks } from "../../src/conftest/runner.ts";
import { runEval } from "../../src/cli/eval.ts";

function tmpl(rego: string) {
  return {
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: "k8sx" },
    spec: { crd: { spec: { names: { kind: "K8sX" } } }, targets: [{ target: "admission.k8s.gatekeeper.sh", rego }] },
  };
}

test("a ConstraintTemplate cannot call parse_config_file (undefined function, as in Gatekeeper)", () => {
  const rego = 'package k8sx\nviolation[{"msg": msg}] { x := parse_config_file("../../etc/passwd"); msg := sprintf("%v", [x]) }\n';
  assert.throws(
    () => compileTemplate(tmpl(rego) as never, "t.yaml"),
    (e: unknown) => e instanceof TemplateError && /undefined function parse_config_file/.test(e.message),
  );
});

test("a ConstraintTemplate cannot call http.send (Gatekeeper disables it by default)", () => {
  const rego = 'package k8sx\nviolation[{"msg": "x"}] { http.send({"method": "get", "url": "http://127.0.0.1:1"}) }\n';
  assert.throws(
    () => compileTemplate(tmpl(rego) as never, "t.yaml"),
    (e: unknown) => e instanceof TemplateError && /undefined function http\.send/.test(e.message),
  );
});

test("eval and library engines do not know conftest's builtins", () => {
  for (const call of ['parse_config_file("/etc/passwd")', 'parse_combined_config_files(["/etc/passwd"])', 'parse_config("json", "{}")']) {
    const e = new Engine();
    e.addModule("p.rego", `package p\nx := ${call}\n`);
    assert.throws(
      () => e.compile(),
      (err: unknown) => err instanceof RegoError && err.code === "rego_type_error" && /undefined function parse_/.test(err.message),
      call,
    );
  }
});

test("conftest's parse_config_file works inside the working directory and refuses paths leading out of it", async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "pc-scope-")));
  const outside = realpathSync(mkdtempSync(join(tmpdir(), "pc-outside-")));
  writeFileSync(join(outside, "secret.json"), '{"token": "s3cret"}');
  mkdirSync(join(root, "policy"));
  writeFileSync(join(root, "inside.json"), '{"ok": true}');
  symlinkSync(join(outside, "secret.json"), join(root, "link.json"));
  writeFileSync(
    join(root, "policy", "p.rego"),
    `package main
deny contains msg if {
  c := parse_config_file("../inside.json")
  c.ok
  msg := "inside read"
}
deny contains msg if {
  c := parse_config_file("${join(outside, "secret.json")}")
  msg := sprintf("leaked %v", [c.token])
}
deny contains msg if {
  c := parse_config_file("../link.json")
  msg := sprintf("leaked through link %v", [c.token])
}
deny contains msg if {
  c := parse_combined_config_files(["../../../../../../..${join(outside, "secret.json")}"])
  msg := sprintf("leaked combined %v", [c])
}
`,
  );
  writeFileSync(join(root, "input.json"), "{}");
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const loaded = loadPolicies({ policy: ["policy"] });
    const configs = readConfigs(["input.json"], { policy: ["policy"] });
    const results = await runChecks(loaded, configs, { policy: ["policy"] });
    const msgs = results.flatMap((r) => r.failures.map((f) => f.msg));
    assert.deepEqual(msgs, ["inside read"]);
  } finally {
    process.chdir(cwd);
  }
});

test("eval --capabilities: a builtin left out of the capabilities is an undefined function (exit 2, as opa eval)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pc-caps-"));
  writeFileSync(join(dir, "caps.json"), JSON.stringify({ builtins: [{ name: "count" }, { name: "eq" }, { name: "assign" }] }));
  writeFileSync(join(dir, "p.rego"), "package p\nn := count([1, 2])\nu := upper(\"a\")\n");
  const out: string[] = [];
  const code = await runEval("data.p.n", { data: [join(dir, "p.rego")], capabilities: join(dir, "caps.json") }, (s) => out.push(s), (s) => out.push(s));
  assert.equal(code, 2);
  assert.match(out.join(""), /undefined function upper/);
  writeFileSync(join(dir, "q.rego"), "package q\nn := count([1, 2])\n");
  const ok: string[] = [];
  assert.equal(await runEval("data.q.n", { data: [join(dir, "q.rego")], capabilities: join(dir, "caps.json"), format: "raw" }, (s) => ok.push(s), (s) => ok.push(s)), 0);
  assert.equal(ok.join(""), "2\n");
});

test("capabilities allow_net: http.send and net.lookup_ip_addr reach only the listed hosts (OPA's unallowed host)", async () => {
  const names = ["http.send", "net.lookup_ip_addr", "assign", "eq"].map((name) => ({ name }));
  const e = new Engine({ capabilities: { builtins: names, allow_net: ["example.com"] } });
  e.addModule("p.rego", 'package p\nr := http.send({"method": "get", "url": "http://127.0.0.1:9/x", "raise_error": false})\n');
  const rs = await e.query("data.p.r");
  assert.deepEqual(rs[0].expressions[0].value, { error: { code: "eval_http_send_internal_error", message: "http.send: unallowed host: 127.0.0.1" }, status_code: 0 });
  const strict = new Engine({ strictBuiltinErrors: true, capabilities: { builtins: names, allow_net: [] } });
  strict.addModule("q.rego", 'package q\nr := net.lookup_ip_addr("example.org")\n');
  await assert.rejects(async () => strict.query("data.q.r"), /net\.lookup_ip_addr: unallowed host: example\.org/);
});
