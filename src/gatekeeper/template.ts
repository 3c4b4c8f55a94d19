// ConstraintTemplates: reading, validating and compiling them.
//
// A template (templates.gatekeeper.sh/v1, v1beta1, v1alpha1) names a constraint kind
// (spec.crd.spec.names.kind), gives the schema of its parameters
// (spec.crd.spec.validation.openAPIV3Schema) and one target, admission.k8s.gatekeeper.sh, with
// its code: the legacy `rego` + `libs` fields, or `code[]` entries of which the `Rego` engine is
// used (`source.rego`, `source.libs`, `source.version: v1` for Rego v1; v0 otherwise).
// `K8sNativeValidation` (CEL) code wins over Rego when present, with no fallback, as in
// Gatekeeper (cel/driver.ts); with the CEL driver turned off (`k8sNativeValidation: false`,
// `--enable-k8s-native-validation=false`) the Rego is used and a CEL-only template is reported
// as unsupported.
//
// Gatekeeper's checks are applied: the name is the lowercase kind, exactly one target, a
// `violation` partial-set rule, Rego reads only `input`, `data.inventory` and `data.lib.*`,
// libraries live under `package lib.…`, imports are limited to future.keywords and data.lib.
// Each template gets an Engine of its own, so packages of different templates never collide.

import { Engine } from "../engine/index.ts";
import { GATEKEEPER_BUILTINS } from "./externaldata.ts";
import { RegoError, formatError, formatErrors, type ErrorDetail } from "../rego/errors.ts";
import { parseModule } from "../rego/parser.ts";
import type { BuiltinTable } from "../rego/builtin.ts";
import type { Module, Term, RefTerm } from "../rego/ast.ts";
import { isPlainObject, type Obj } from "./yaml.ts";
import { checkSchemaShape } from "./schema.ts";
import { celCodeOf, compileCelSource, CelSourceError, type CelTemplate, type FailurePolicy } from "./cel/driver.ts";
import { parserErrorDetail, detailText } from "../builtins/support/parsedetail.ts";

export const TARGET = "admission.k8s.gatekeeper.sh";
const TEMPLATE_GROUP = "templates.gatekeeper.sh";
const TEMPLATE_VERSIONS = ["v1", "v1beta1", "v1alpha1"];

/** Errors about a template, naming the file and field. */
export class TemplateError extends Error {
  constructor(
    message: string,
    public readonly file?: string,
    public readonly field?: string,
    /** "invalid" (Gatekeeper rejects it), "unsupported" (CEL-only), "compile" (Rego errors). */
    public readonly reason: "invalid" | "unsupported" | "compile" | "read" = "invalid",
    /** For "compile": the Rego errors (code, message, location), as a status writer reports them. */
    public readonly regoErrors: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = "TemplateError";
  }
}

export interface RegoSource {
  rego: string;
  libs: string[];
  version: "v0" | "v1";
  /** Field path of the Rego source within the template, for error messages. */
  field: string;
}

export interface CompiledTemplate {
  name: string;
  kind: string;
  apiVersion: string;
  /** The raw template object. */
  object: Obj;
  /** openAPIV3Schema of spec.parameters (undefined when the template gives none). */
  schema: Obj | undefined;
  /** v1alpha1/v1beta1 templates default to legacySchema: unknown parameters are kept. */
  legacySchema: boolean;
  source: RegoSource;
  engine: Engine;
  /** The query that yields violations: data.<package>.violation[r] */
  query: string;
  /** The package path of the main module. */
  packagePath: string[];
  file?: string;
  /** Inventory version last copied into the engine. */
  inventoryVersion: number;
  /** The CEL (K8sNativeValidation) code when it is the template's driver; the Rego is then not used. */
  cel?: CelTemplate;
}

/** Driver choice for templates (Gatekeeper's --enable-k8s-native-validation and its default failure policy). */
export interface TemplateOptions {
  /** Evaluate K8sNativeValidation code when a template has it (default true). */
  k8sNativeValidation?: boolean;
  /** failurePolicy of CEL sources that give none (default "Fail"). */
  celFailurePolicy?: FailurePolicy;
}

export function isTemplate(o: Obj): boolean {
  if (o.kind !== "ConstraintTemplate" || typeof o.apiVersion !== "string") return false;
  const [g, v] = o.apiVersion.split("/");
  return g === TEMPLATE_GROUP && TEMPLATE_VERSIONS.includes(v);
}

function where(file?: string): string {
  return file ? ` (${file})` : "";
}

/** The template's one target, checked. */
function targetOf(tmpl: Obj, file?: string): Obj {
  const name = tmpl.metadata?.name ?? "";
  const targets = tmpl.spec?.targets;
  if (!Array.isArray(targets) || targets.length !== 1) {
    throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: must declare exactly one target (spec.targets has ${Array.isArray(targets) ? targets.length : 0})${where(file)}`, file, "spec.targets");
  }
  const t = targets[0];
  if (!isPlainObject(t)) throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: spec.targets[0] must be an object${where(file)}`, file, "spec.targets[0]");
  if (t.target !== TARGET) {
    throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: spec.targets[0].target ${JSON.stringify(t.target ?? "")} not recognized, known targets [${TARGET}]${where(file)}`, file, "spec.targets[0].target");
  }
  return t;
}

/** Pick the Rego source of the target, following Gatekeeper's precedence (legacy `rego` wins). */
export function regoSourceOf(tmpl: Obj, file?: string): RegoSource {
  const name = tmpl.metadata?.name ?? "";
  const t = targetOf(tmpl, file);
  const libsOf = (v: unknown, field: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: ${field} must be a list of strings${where(file)}`, file, field);
    return v as string[];
  };
  if (typeof t.rego === "string" && t.rego !== "") {
    return { rego: t.rego, libs: libsOf(t.libs, "spec.targets[0].libs"), version: "v0", field: "spec.targets[0].rego" };
  }
  const code = Array.isArray(t.code) ? t.code : [];
  const engines: string[] = [];
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (!isPlainObject(c)) continue;
    engines.push(String(c.engine ?? ""));
    if (c.engine !== "Rego") continue;
    const src = c.source;
    const field = `spec.targets[0].code[${i}].source`;
    if (!isPlainObject(src) || typeof src.rego !== "string" || src.rego === "") {
      throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: ${field}.rego must be a non-empty string${where(file)}`, file, `${field}.rego`);
    }
    const version = src.version === undefined || src.version === "" || src.version === "v0" ? "v0" : src.version === "v1" ? "v1" : null;
    if (!version) throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: ${field}.version must be "v0" or "v1", got ${JSON.stringify(src.version)}${where(file)}`, file, `${field}.version`);
    return { rego: src.rego, libs: libsOf(src.libs, `${field}.libs`), version, field: `${field}.rego` };
  }
  if (engines.length > 0) {
    // As Gatekeeper words it when no enabled driver handles the template (here: CEL-only with
    // the CEL driver turned off).
    throw new TemplateError(
      `no language driver is installed that handles this constraint template: available drivers: map[Rego:1], wanted ""`,
      file,
      "spec.targets[0].code",
      "unsupported",
    );
  }
  throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: spec.targets[0] has no rego and no code${where(file)}`, file, "spec.targets[0]");
}

// ---- Rego checks ---------------------------------------------------------------------------

function refString(r: RefTerm): string {
  let s = "";
  r.terms.forEach((t, i) => {
    if (i === 0) s += t.type === "var" ? t.name : "<term>";
    else if (t.type === "string") s += /^[A-Za-z_][A-Za-z0-9_]*$/.test(t.value) ? `.${t.value}` : `[${JSON.stringify(t.value)}]`;
    else if (t.type === "var") s += `[${t.name}]`;
    else if (t.type === "number") s += `[${t.value}]`;
    else s += "[_]";
  });
  return s;
}

/** Every reference in a module whose head is `data`, with its location. */
function dataRefs(m: Module): RefTerm[] {
  const out: RefTerm[] = [];
  const seen = new Set<unknown>();
  const visit = (n: unknown) => {
    if (n === null || typeof n !== "object" || seen.has(n)) return;
    seen.add(n);
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const o = n as Record<string, unknown>;
    if (o.type === "ref" && Array.isArray(o.terms)) {
      const head = (o.terms as Term[])[0];
      if (head && head.type === "var" && head.name === "data") out.push(o as unknown as RefTerm);
    }
    for (const [k, v] of Object.entries(o)) if (k !== "loc" && k !== "comments" && k !== "annotations") visit(v);
  };
  visit(m.rules);
  return out;
}

function allowedDataRef(r: RefTerm): boolean {
  const t1 = r.terms[1];
  return !!t1 && t1.type === "string" && (t1.value === "inventory" || t1.value === "lib");
}

function pkgPath(m: Module): string[] {
  return m.package.terms.slice(1).map((t) => (t.type === "string" ? t.value : t.type === "var" ? t.name : "?"));
}

function checkModule(m: Module, label: string, isLib: boolean, tmplName: string, file?: string): void {
  const bad = dataRefs(m).filter((r) => !allowedDataRef(r));
  if (bad.length) {
    // Gatekeeper's words (its module names: {template}, {libs["lib_0"]})
    const lines = bad.map((r) => `disallowed ref ${refString(r)}\n`);
    throw new TemplateError(
      `invalid ConstraintTemplate: invalid data references: check refs failed on module {${isLib ? `libs[${JSON.stringify(label)}]` : label}}: errors (${bad.length}):\n${lines.join("")}`,
      file,
      label,
    );
  }
  for (const imp of m.imports) {
    const path = refString(imp.path);
    const head = imp.path.terms[0];
    const headName = head?.type === "var" ? head.name : "";
    if (headName === "input") throw new TemplateError(`invalid ConstraintTemplate: invalid import: cannot import input: ${JSON.stringify(path)}`, file, `${label}:${imp.loc.row}`);
    const ok = path === "future.keywords" || path.startsWith("future.keywords.") || path === "data.lib" || path.startsWith("data.lib.") || path.startsWith('data.lib["');
    if (!ok) throw new TemplateError(`invalid ConstraintTemplate: invalid import: bad import: ${JSON.stringify(path)}`, file, `${label}:${imp.loc.row}`);
  }
  if (isLib) {
    const p = pkgPath(m);
    if (p[0] !== "lib") throw new TemplateError(`invalid ConstraintTemplate: invalid lib prefix: path ${dataPathQuery(p)} not found in lib prefixes`, file, label);
  }
}

/**
 * Parse errors as Gatekeeper reports them (OPA's error list): `invalid ConstraintTemplate: 1
 * error occurred: template:3: rego_parse_error: …` with the source line and a caret under each.
 */
function parseErrorText(errors: ErrorDetail[], src: string): string {
  const lines = errors.map((e) => {
    const d = e.code === "rego_parse_error" && e.location && e.location.row > 0 ? parserErrorDetail(src, e.location.row, e.location.col) : undefined;
    return formatError(e) + (d ? detailText(d) : "");
  });
  return lines.length === 1 ? `1 error occurred: ${lines[0]}` : `${lines.length} errors occurred:\n${lines.join("\n")}`;
}

function parseOrThrow(label: string, src: string, version: "v0" | "v1", tmplName: string, field: string, file?: string): Module {
  try {
    return parseModule(label, src, { regoVersion: version });
  } catch (e) {
    if (e instanceof RegoError) throw new TemplateError(`invalid ConstraintTemplate: ${parseErrorText(e.errors, src)}`, file, field, "compile", e.errors);
    throw e;
  }
}

/** The data path of a module's package as a query prefix: data.a.b or data["a-b"]. */
export function dataPathQuery(path: string[]): string {
  return "data" + path.map((p) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join("");
}

/** Validate a template object and compile its code (CEL when present and enabled, else Rego into a fresh Engine). */
export function compileTemplate(tmpl: Obj, file?: string, builtins: BuiltinTable = GATEKEEPER_BUILTINS, opts: TemplateOptions = {}): CompiledTemplate {
  if (!isPlainObject(tmpl)) throw new TemplateError(`ConstraintTemplate must be an object${where(file)}`, file);
  if (!isTemplate(tmpl)) {
    throw new TemplateError(
      `not a ConstraintTemplate${where(file)}: got apiVersion ${JSON.stringify(tmpl.apiVersion ?? "")} kind ${JSON.stringify(tmpl.kind ?? "")}, want ${TEMPLATE_GROUP}/{${TEMPLATE_VERSIONS.join(",")}} ConstraintTemplate`,
      file,
      "kind",
    );
  }
  const name = tmpl.metadata?.name;
  if (typeof name !== "string" || name === "") throw new TemplateError(`invalid ConstraintTemplate: metadata.name is required${where(file)}`, file, "metadata.name");
  const kind = tmpl.spec?.crd?.spec?.names?.kind;
  if (typeof kind !== "string" || kind === "") throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: spec.crd.spec.names.kind is required${where(file)}`, file, "spec.crd.spec.names.kind");
  if (name !== kind.toLowerCase()) {
    throw new TemplateError(
      `invalid ConstraintTemplate: the ConstraintTemplate's name ${JSON.stringify(name)} is not equal to the lowercase of CRD's Kind: ${JSON.stringify(kind.toLowerCase())} (metadata.name vs spec.crd.spec.names.kind)${where(file)}`,
      file,
      "metadata.name",
    );
  }
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(kind)) throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: spec.crd.spec.names.kind ${JSON.stringify(kind)} must be alphanumeric and start with a letter${where(file)}`, file, "spec.crd.spec.names.kind");
  const validation = tmpl.spec?.crd?.spec?.validation;
  const schema = isPlainObject(validation) && isPlainObject(validation.openAPIV3Schema) ? (validation.openAPIV3Schema as Obj) : undefined;
  if (schema) {
    const probs = checkSchemaShape(schema, "spec.crd.spec.validation.openAPIV3Schema");
    if (probs.length) throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: invalid parameters schema${where(file)}: ${probs.join("; ")}`, file, "spec.crd.spec.validation.openAPIV3Schema");
  }
  const version = String(tmpl.apiVersion).split("/")[1];
  const legacySchema = version === "v1" ? validation?.legacySchema === true : validation?.legacySchema !== false;

  const celCode = opts.k8sNativeValidation === false ? null : celCodeOf(tmpl);
  if (celCode) {
    targetOf(tmpl, file);
    let cel: CelTemplate;
    try {
      cel = compileCelSource(celCode.source, opts.celFailurePolicy);
    } catch (e) {
      // Gatekeeper's own words, as gator prints them after "adding template".
      if (e instanceof CelSourceError) throw new TemplateError(e.message, file, celCode.field);
      throw e;
    }
    return {
      name,
      kind,
      apiVersion: tmpl.apiVersion,
      object: tmpl,
      schema,
      legacySchema,
      source: { rego: "", libs: [], version: "v0", field: celCode.field },
      engine: new Engine({ builtins }),
      query: "",
      packagePath: [],
      file,
      inventoryVersion: -1,
      cel,
    };
  }
  const source = regoSourceOf(tmpl, file);
  const main = parseOrThrow("template", source.rego, source.version, name, source.field, file);
  const libs = source.libs.map((l, i) => parseOrThrow(`lib_${i}`, l, source.version, name, source.field.replace(/rego$/, `libs[${i}]`), file));

  const violation = main.rules.filter((r) => {
    const h = r.head.ref[0];
    return r.head.ref.length === 1 && h.type === "var" && h.name === "violation";
  });
  if (violation.length === 0) {
    throw new TemplateError(`invalid ConstraintTemplate: invalid rego: invalid module: missing required rules: [violation]`, file, source.field);
  }
  const notSet = violation.find((r) => r.head.kind !== "multi");
  if (notSet) {
    throw new TemplateError(
      `invalid ConstraintTemplate ${JSON.stringify(name)}: invalid rego: template:${notSet.loc.row}: "violation" must be a partial set rule (violation[{"msg": msg}] { … })${where(file)}`,
      file,
      source.field,
    );
  }
  checkModule(main, "template", false, name, file);
  libs.forEach((l, i) => checkModule(l, `lib_${i}`, true, name, file));
  const packagePath = pkgPath(main);
  if (packagePath[0] === "lib") throw new TemplateError(`invalid ConstraintTemplate ${JSON.stringify(name)}: the template's package ${packagePath.join(".")} must not be under lib${where(file)}`, file, source.field);

  const engine = new Engine({ regoVersion: source.version, strictBuiltinErrors: false, builtins });
  try {
    engine.addModules([
      { file: "template", source: source.rego, regoVersion: source.version },
      ...source.libs.map((l, i) => ({ file: `lib_${i}`, source: l, regoVersion: source.version })),
    ]);
    engine.compile();
  } catch (e) {
    if (e instanceof RegoError) {
      throw new TemplateError(`unable to compile modules: ${formatErrors(e.errors)}`, file, source.field, "compile", e.errors);
    }
    throw e;
  }
  return {
    name,
    kind,
    apiVersion: tmpl.apiVersion,
    object: tmpl,
    schema,
    legacySchema,
    source,
    engine,
    query: `${dataPathQuery(packagePath)}.violation[r]`,
    packagePath,
    file,
    inventoryVersion: -1,
  };
}
