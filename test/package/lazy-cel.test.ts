// The CEL engine (@bufbuild/cel, @bufbuild/protobuf) is loaded on first use: `portcullis eval 1+1`
// and a Rego-only Gatekeeper review do not load it; a K8sNativeValidation template does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

function loadedAfter(script: string): { cel: boolean; protobuf: boolean; out: string } {
  const code = `
    import { createRequire } from "node:module";
    const require = createRequire(import.meta.url);
    ${script}
    const keys = Object.keys(require.cache);
    console.log(JSON.stringify({ cel: keys.some((k) => k.includes("@bufbuild/cel")), protobuf: keys.some((k) => k.includes("@bufbuild/protobuf")) }));
  `;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const last = r.stdout.trim().split("\n").pop()!;
  return { ...JSON.parse(last), out: r.stdout };
}

test("portcullis eval 1+1 does not load the CEL engine", { timeout: 60_000 }, () => {
  const r = loadedAfter(`
    const { main } = await import("./src/cli/main.ts");
    let out = "";
    await main(["eval", "1+1"], { out: (s) => void (out += s), err: () => {}, exitCode: 0 });
    if (!out.includes('"value": 2')) throw new Error(out);
  `);
  assert.deepEqual({ cel: r.cel, protobuf: r.protobuf }, { cel: false, protobuf: false });
});

test("a Rego template does not load the CEL engine; a CEL template does", { timeout: 60_000 }, () => {
  const setup = `
    const { Client } = await import("./src/gatekeeper/client.ts");
    const c = new Client();
    const code = (engine) => engine === "cel"
      ? [{ engine: "K8sNativeValidation", source: { validations: [{ expression: "false", message: "no" }] } }]
      : [{ engine: "Rego", source: { rego: 'package k8sx\\nviolation[{"msg": "no"}] { true }\\n' } }];
    const tmpl = (engine) => ({ apiVersion: "templates.gatekeeper.sh/v1", kind: "ConstraintTemplate", metadata: { name: "k8sx" },
      spec: { crd: { spec: { names: { kind: "K8sX" } } }, targets: [{ target: "admission.k8s.gatekeeper.sh", code: code(engine) }] } });
  `;
  const review = `
    c.addConstraint({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sX", metadata: { name: "x" } });
    const r = await c.review({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } });
    if (r.results.length !== 1 || r.results[0].msg !== "no") throw new Error(JSON.stringify(r.results));
  `;
  const rego = loadedAfter(`${setup} c.addTemplate(tmpl("rego")); ${review}`);
  assert.deepEqual({ cel: rego.cel, protobuf: rego.protobuf }, { cel: false, protobuf: false });
  const cel = loadedAfter(`${setup} c.addTemplate(tmpl("cel")); ${review}`);
  assert.deepEqual({ cel: cel.cel, protobuf: cel.protobuf }, { cel: true, protobuf: true });
});
