// The built-in library's per-object Kubernetes rules as Gatekeeper policy: one ConstraintTemplate
// and one Constraint per rule, sharing the library's Rego (carried as `libs`, moved under
// `package lib.…` as Gatekeeper requires), plus a `gator verify` suite per rule.
//
//   node --import tsx scripts/library-gatekeeper.ts [OUT_DIR]     (default: dist/library-gatekeeper)
//   portcullis test -p OUT_DIR/templates -p OUT_DIR/constraints manifests.yaml
//   portcullis verify OUT_DIR/suites/...
//
// The output is a build product (not committed): it is regenerated from library/ every time.
// Cross-document rules (catalog titles marked "combined input") are left out: an admission
// review sees one object. Settings (data.portcullis) become the constraint's
// `parameters.settings`; the Constraint's enforcementAction is the rule's level (deny or warn).
//
// The suites' cases come from examples/library/kubernetes: for each rule, the first corpus
// document the library reports it for ("yes", message ^[ID]) and the complete good Deployment
// ("no").

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve, relative } from "node:path";
import yaml from "js-yaml";
import { Engine } from "../src/index.ts";
import { parseFile } from "../src/formats/index.ts";

const ROOT = resolve(import.meta.dirname, "..");
const LIBRARY = join(ROOT, "library");
const CORPUS = join(ROOT, "examples/library/kubernetes");
const GOOD = join(CORPUS, "good-deployment-complete.yaml");

interface Rule {
  id: string;
  title: string;
  level: "deny" | "warn";
  package: string;
}

function regoFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".rego") && !f.endsWith("_test.rego"))
    .sort()
    .map((f) => join(dir, f));
}

/** A library module as a Gatekeeper lib: `package lib.<pkg>`, data.portcullis_lib → data.lib.portcullis_lib, settings under data.lib. */
export function asLib(source: string): string {
  // Code only: string literals, raw strings and comments keep their text (messages name data.portcullis).
  const token = /"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*/g;
  let out = "";
  let last = 0;
  const code = (s: string) =>
    s
      .replace(/^package (\S+)/m, "package lib.$1")
      .replace(/\bdata\.portcullis_lib\./g, "data.lib.portcullis_lib.")
      .replace(/\bdata\.portcullis\b(?!_)/g, "data.lib.portcullis_settings");
  for (const m of source.matchAll(token)) {
    out += code(source.slice(last, m.index)) + m[0];
    last = m.index! + m[0].length;
  }
  return out + code(source.slice(last));
}

function libraryEngine(): { engine: Engine; namespaces: string[] } {
  const files = [...regoFiles(join(LIBRARY, "lib")), ...regoFiles(join(LIBRARY, "kubernetes"))];
  const engine = new Engine();
  const mods = engine.addModules(files.map((f) => ({ file: relative(ROOT, f), source: readFileSync(f, "utf8") })));
  const namespaces = [...new Set(mods.map((m) => m.package.terms.slice(1).map((t) => String((t as { value?: unknown }).value)).join(".")))];
  return { engine, namespaces };
}

function catalog(engine: Engine): Rule[] {
  const rs = syncRows(engine.query("x = data.portcullis_lib.rules.catalog")) as { bindings: { x: Record<string, Omit<Rule, "id">> } }[];
  return Object.entries(rs[0].bindings.x)
    .filter(([id, r]) => id.startsWith("K8S-") && !/combined input/.test(r.title))
    .map(([id, r]) => ({ id, title: r.title, level: r.level, package: r.package }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The library does no I/O, so its queries answer synchronously. */
function syncRows(rs: unknown): unknown[] {
  if (!Array.isArray(rs)) throw new Error("the library's query needed I/O");
  return rs;
}

const kindOf = (id: string) => `Portcullis${id.replace("-", "").replace("K8S", "K8s")}`;
const fileOf = (id: string) => id.toLowerCase();

function template(rule: Rule, libs: string[]): unknown {
  const kind = kindOf(rule.id);
  const pkg = kind.toLowerCase();
  const rego = `package ${pkg}

import data.lib.${rule.package}

# ${rule.id}: ${rule.title} (generated from library/ by scripts/library-gatekeeper.ts)
violation contains {"msg": r.msg, "details": object.remove(r, ["msg"])} if {
	some lvl in ["deny", "warn"]
	some r in ${rule.package.split(".").pop()}[lvl] with input as input.review.object
		with data.lib.portcullis_settings as object.get(input, ["parameters", "settings"], {})
	r.id == ${JSON.stringify(rule.id)}
}
`;
  return {
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: pkg, annotations: { "portcullis.dev/rule": rule.id, "description": rule.title } },
    spec: {
      crd: {
        spec: {
          names: { kind },
          validation: {
            openAPIV3Schema: {
              type: "object",
              properties: { settings: { type: "object", description: "the library's settings (what data.portcullis holds; library/README.md)", "x-kubernetes-preserve-unknown-fields": true } },
            },
          },
        },
      },
      targets: [{ target: "admission.k8s.gatekeeper.sh", code: [{ engine: "Rego", source: { version: "v1", rego, libs } }] }],
    },
  };
}

function constraint(rule: Rule): unknown {
  return {
    apiVersion: "constraints.gatekeeper.sh/v1beta1",
    kind: kindOf(rule.id),
    metadata: { name: fileOf(rule.id) },
    spec: { enforcementAction: rule.level === "warn" ? "warn" : "deny" },
  };
}

/** Per rule, the first corpus document (file order, document order) the library reports it for. */
function firingDocuments(lib: { engine: Engine; namespaces: string[] }): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const name of readdirSync(CORPUS).sort()) {
    const parsed = parseFile(join(CORPUS, name));
    for (const doc of Array.isArray(parsed) ? parsed : [parsed]) {
      if ((doc as { kind?: string })?.kind === "List") continue; // a suite case reviews one object
      for (const ns of lib.namespaces) {
        for (const lvl of ["deny", "warn"]) {
          const rows = syncRows(lib.engine.query(`x = data.${ns}.${lvl}`, { input: doc })) as { bindings: { x: { id: string }[] } }[];
          for (const row of rows) for (const r of row.bindings.x) if (!out.has(r.id)) out.set(r.id, doc);
        }
      }
    }
  }
  return out;
}

function main(): void {
  const out = resolve(process.argv[2] ?? join(ROOT, "dist/library-gatekeeper"));
  const lib = libraryEngine();
  const rules = catalog(lib.engine);
  const shared = regoFiles(join(LIBRARY, "lib")).map((f) => asLib(readFileSync(f, "utf8")));
  const packages = new Map<string, string>();
  for (const f of regoFiles(join(LIBRARY, "kubernetes"))) {
    const src = readFileSync(f, "utf8");
    const m = /^package (\S+)/m.exec(src);
    if (m) packages.set(m[1], asLib(src));
  }
  const firing = firingDocuments(lib);
  const good = (parseFile(GOOD) as { kind: string }[]).find((d) => d.kind === "Deployment");
  if (existsSync(out)) rmSync(out, { recursive: true });
  for (const d of ["templates", "constraints", "suites/objects"]) mkdirSync(join(out, d), { recursive: true });
  writeFileSync(join(out, "suites/objects/good-deployment.yaml"), yaml.dump(good, { noRefs: true }));
  const tests: unknown[] = [];
  for (const rule of rules) {
    const own = packages.get(rule.package);
    if (own === undefined) throw new Error(`${rule.id}: package ${rule.package} not found under library/kubernetes`);
    const f = fileOf(rule.id);
    writeFileSync(join(out, "templates", `${f}.yaml`), yaml.dump(template(rule, [...shared, own]), { noRefs: true, lineWidth: -1 }));
    writeFileSync(join(out, "constraints", `${f}.yaml`), yaml.dump(constraint(rule), { noRefs: true }));
    const cases: unknown[] = [{ name: "complete-deployment-passes", object: "objects/good-deployment.yaml", assertions: [{ violations: "no" }] }];
    const doc = firing.get(rule.id);
    if (doc !== undefined) {
      writeFileSync(join(out, "suites/objects", `${f}-fires.yaml`), yaml.dump(doc, { noRefs: true }));
      cases.unshift({ name: "corpus-example-fires", object: `objects/${f}-fires.yaml`, assertions: [{ violations: "yes", message: `^\\[${rule.id}\\] ` }] });
    }
    tests.push({ name: f, template: `../templates/${f}.yaml`, constraint: `../constraints/${f}.yaml`, cases });
  }
  writeFileSync(join(out, "suites/suite.yaml"), yaml.dump({ kind: "Suite", apiVersion: "test.gatekeeper.sh/v1alpha1", metadata: { name: "portcullis-library" }, tests }, { noRefs: true }));
  process.stdout.write(`${rules.length} ConstraintTemplates and Constraints, ${[...firing.keys()].filter((id) => rules.some((r) => r.id === id)).length} rules with a firing example, in ${out}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`library-gatekeeper: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
