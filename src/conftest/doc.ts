// `conftest doc`: Markdown documentation from the METADATA annotations of a directory of
// policies. Behaviour taken from conftest v0.71.1 (its help, documentation and observed output):
//
//  - the .rego files under the directory, recursively, except `*_test.rego`, are parsed;
//  - every annotation becomes a section, ordered as OPA flattens an annotation set (by target
//    path, then by the location of the METADATA block);
//  - a section's heading depth is its path length below `data`, re-based on the first section
//    when the directory holds a subpackage, and never more than one deeper than the previous
//    section's;
//  - the default layout is rendered here directly; a user template (`-t`) is a Go text/template
//    executed over the sections (Section and Annotations field names as conftest exposes them).

import { readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { parseModule } from "../rego/parser.ts";
import { RegoError, type ErrorDetail } from "../rego/errors.ts";
import { classifyStage } from "../rego/strict.ts";
import { Engine } from "../engine/index.ts";
import { CONFTEST_TABLE } from "./builtins.ts";
import { parseForCheck, loadingErrorsText, type CheckError } from "../check/index.ts";
import type { Annotation, Module, Rule } from "../rego/ast.ts";
import { renderGoTemplate } from "../builtins/gotemplate.ts";
import { GoInt, GoMap, type GoVal } from "../gotext/fmt.ts";
import { goErrnoText as errnoText } from "../gotext/errno.ts";

export class DocError extends Error {}

export interface RelatedResource {
  ref: string;
  description?: string;
}

export interface Section {
  /** The annotation's target path without `data.` (`main.deny`). */
  path: string;
  depth: number;
  heading: string;
  annotation: Annotation;
}

/** The .rego files conftest documents under dir (test files and other files left out). */
function regoFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.endsWith("_test.rego")) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".rego")) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function packagePath(m: Module): string[] {
  return m.package.terms.slice(1).map((t) => (t.type === "string" ? t.value : String((t as { value?: unknown }).value ?? "")));
}

/** The ground prefix of a rule's head reference (strings up to the first variable part). */
function rulePath(r: Rule): string[] {
  const out: string[] = [];
  for (let i = 0; i < r.head.ref.length; i++) {
    const t = r.head.ref[i];
    if (i === 0 && t.type === "var") out.push(t.name);
    else if (t.type === "string") out.push(t.value);
    else break;
  }
  return out;
}

/** The errors of the compiler's earliest failing stage (OPA stops after a failing stage). */
function earliestStage(e: RegoError): RegoError {
  const stages = e.errors.map((x) => classifyStage(x));
  const first = Math.min(...stages);
  const kept = e.errors.filter((_, i) => stages[i] === first);
  return kept.length === e.errors.length ? e : new RegoError(kept);
}

/** The annotations of a module with their target paths, in source order. */
function moduleTargets(m: Module): Target[] {
  const pkg = packagePath(m);
  const out: Target[] = m.annotations.map((a) => ({ path: pkg, annotation: a }));
  const seen = new Set<Annotation>();
  for (const r of m.rules) {
    for (const a of r.annotations) {
      if (seen.has(a)) continue;
      seen.add(a);
      out.push({ path: [...pkg, ...rulePath(r)], annotation: a });
    }
  }
  return out.sort((x, y) => x.annotation.loc.row - y.annotation.loc.row || x.annotation.loc.col - y.annotation.loc.col);
}

/**
 * OPA's annotation set: one package annotation per package, one document or subpackages
 * annotation per path; a second one is a type error located at it, naming the first.
 */
function redeclarations(modules: Module[]): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const byPackage = new Map<string, Annotation>();
  const byPath = new Map<string, Annotation>();
  const sorted = [...modules].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const m of sorted) {
    for (const t of moduleTargets(m)) {
      const a = t.annotation;
      const table = a.scope === "package" ? byPackage : a.scope === "document" || a.scope === "subpackages" ? byPath : null;
      if (!table) continue;
      const key = JSON.stringify(t.path);
      const first = table.get(key);
      if (first) {
        errors.push({ code: "rego_type_error", message: `${a.scope} annotation redeclared: ${first.loc.file}:${first.loc.row}`, location: a.loc });
      } else table.set(key, a);
    }
  }
  return errors;
}

interface Target {
  path: string[];
  annotation: Annotation;
}

function comparePaths(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

function compareTargets(a: Target, b: Target): number {
  const c = comparePaths(a.path, b.path);
  if (c !== 0) return c;
  const la = a.annotation.loc;
  const lb = b.annotation.loc;
  if (la.file !== lb.file) return la.file < lb.file ? -1 : 1;
  return la.row - lb.row || la.col - lb.col;
}

/** The sections of the documentation of dir, in conftest's order and with its heading depths. */
export function documentSections(dir: string): Section[] {
  const targets: Target[] = [];
  const errors: CheckError[] = [];
  const modules: Module[] = [];
  const files = regoFiles(dir).map((file) => ({ file, source: readFileSync(file, "utf8") }));
  for (const f of files) {
    const r = parseForCheck(f.file, f.source, "v1");
    if (r.errors) errors.push(...r.errors);
    else modules.push(r.module!);
  }
  if (errors.length > 0) throw new DocError(`parse rego annotations: load rego files: ${loadingErrorsText(errors)}`);
  const redeclared = redeclarations(modules);
  if (redeclared.length > 0) throw new DocError(`parse rego annotations: compile: ${new RegoError(redeclared).message}`);
  // conftest compiles the policies (with its builtins) before reading their annotations; the
  // compiler rewrites what it compiles, so it gets its own copies.
  try {
    const engine = new Engine({ regoVersion: "v1", builtins: CONFTEST_TABLE });
    engine.addParsedModules(files.map((f) => parseModule(f.file, f.source, { regoVersion: "v1" })));
    engine.compile();
  } catch (e) {
    if (e instanceof RegoError) throw new DocError(`parse rego annotations: compile: ${earliestStage(e).message}`);
    throw e;
  }
  for (const m of modules) targets.push(...moduleTargets(m));
  if (targets.length === 0) throw new DocError("parse rego annotations: no annotations found");
  targets.sort(compareTargets);
  const sections: Section[] = [];
  let current = 0;
  let offset = 1;
  targets.forEach((t, i) => {
    // paths start with `data`, so a package `a` is one below it
    let depth = t.path.length + 1 - offset;
    if (i === 0 && depth > 1) offset = depth;
    if (depth - current > 1) depth = current + 1;
    current = depth;
    sections.push({ path: t.path.join("."), depth, heading: "#".repeat(Math.max(depth, 0)), annotation: t.annotation });
  });
  return sections;
}

function relatedResources(a: Annotation): RelatedResource[] {
  const rr = Array.isArray(a.related_resources) ? (a.related_resources as RelatedResource[]) : [];
  return rr.map((r) => ({ ...r, ref: goURLString(r.ref) }));
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const VALID_ENCODED = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@[\]/]|%[0-9A-Fa-f]{2})*$/;

/** Go's url.escape of an unescaped component: bytes outside `keep` percent-encoded. */
function goEscape(text: string, keep: string): string {
  let out = "";
  for (const b of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && (UNRESERVED.test(c) || keep.includes(c)) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function goUnescape(text: string): string {
  try {
    return decodeURIComponent(text.replace(/%(?![0-9A-Fa-f]{2})/g, "%25"));
  } catch {
    return text;
  }
}

/**
 * A related resource's ref as OPA keeps it (a Go url.URL) and prints it: the scheme in lower
 * case, the path and fragment kept when validly encoded, else re-encoded as Go encodes them;
 * the query as written.
 */
export function goURLString(ref: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:)?(\/\/[^/?#]*)?([^?#]*)(\?[^#]*)?(#.*)?$/s.exec(ref);
  if (!m) return ref;
  const [, scheme = "", authority = "", path, query = "", fragment = ""] = m;
  const escPath = VALID_ENCODED.test(path) ? path : goEscape(goUnescape(path), "$&+,/:;=@");
  const frag = fragment.slice(1);
  const escFrag = fragment === "" ? "" : "#" + (VALID_ENCODED.test(frag) ? frag : goEscape(goUnescape(frag), "$&+,/:;=?@!()*"));
  return scheme.toLowerCase() + authority + escPath + query + escFrag;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}

/** conftest's default layout. */
export function renderDefault(sections: Section[]): string {
  let out = "";
  for (const s of sections) {
    const a = s.annotation;
    out += `${s.heading} ${s.path} - ${str(a.title)}\n\n${str(a.description)}\n`;
    const rr = relatedResources(a);
    if (rr.length > 0) {
      out += "\nRelated Resources:\n";
      for (const r of rr) out += r.description ? `\n* [${r.description}](${r.ref})` : `\n* ${r.ref}`;
      out += "\n";
    }
    out += "\n";
  }
  return out;
}

// ---- user templates ------------------------------------------------------------------------

function goValue(v: unknown): GoVal {
  if (v === undefined || v === null) return null;
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "number" || typeof v === "bigint") return v;
  if (Array.isArray(v)) return v.map(goValue);
  if (v instanceof Date) return v.toISOString();
  const entries = Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => [k, goValue(x)] as [string, GoVal])
    .sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0));
  return new GoMap(entries);
}

function struct(fields: Record<string, GoVal>): GoMap {
  return new GoMap(Object.entries(fields).sort((p, q) => (p[0] < q[0] ? -1 : 1)));
}

const SECTION_FIELDS = ["Annotations", "Depth", "MarkdownHeading", "RegoPackageName"];
const ANNOTATION_FIELDS = ["Authors", "Custom", "Description", "Entrypoint", "Location", "Organizations", "RelatedResources", "Schemas", "Scope", "Title"];
const NESTED_FIELDS = ["Ref", "Name", "Email", "Path", "Schema", "Definition", "File", "Row", "Col"];
const KNOWN_FIELDS = new Set([...SECTION_FIELDS, ...ANNOTATION_FIELDS, ...NESTED_FIELDS]);

/** The sections as the template sees them: conftest's Section and OPA's Annotations fields. */
function templateData(sections: Section[]): GoVal {
  return sections.map((s) => {
    const a = s.annotation;
    const annotations = struct({
      Scope: a.scope,
      Title: str(a.title),
      Entrypoint: a.entrypoint === true,
      Description: str(a.description),
      Organizations: Array.isArray(a.organizations) ? a.organizations.map(goValue) : [],
      RelatedResources: relatedResources(a).map((r) => struct({ Ref: r.ref, Description: r.description ?? "" })),
      Authors: (Array.isArray(a.authors) ? (a.authors as { name?: string; email?: string }[]) : []).map((x) => struct({ Name: x.name ?? "", Email: x.email ?? "" })),
      Schemas: (Array.isArray(a.schemas) ? (a.schemas as Record<string, unknown>[]) : []).map((x) =>
        struct({ Path: goValue(x.path), Schema: goValue(x.schema ?? []), Definition: goValue(x.definition) }),
      ),
      Custom: a.custom === undefined ? new GoMap([]) : goValue(a.custom),
      Location: struct({ File: a.loc.file, Row: new GoInt(a.loc.row), Col: new GoInt(a.loc.col) }),
    });
    return struct({ Annotations: annotations, Depth: new GoInt(s.depth), MarkdownHeading: s.heading, RegoPackageName: s.path });
  });
}

/**
 * Fields a template names that neither a section nor an annotation has: Go's template stops
 * with "can't evaluate field"; the template data here is a map, so they are caught before
 * running. Chains after `.Custom` (a map of the user's own keys) and from variables are free.
 */
function checkFields(name: string, src: string): void {
  const actions = /\{\{(?!\/\*)([\s\S]*?)\}\}/g;
  for (let m = actions.exec(src); m; m = actions.exec(src)) {
    const body = m[1].replace(/"(?:[^"\\]|\\.)*"|`[^`]*`/g, (s) => " ".repeat(s.length));
    const chains = /(?<![\w$)\]])((?:\.[A-Za-z_]\w*)+)/g;
    for (let c = chains.exec(body); c; c = chains.exec(body)) {
      const names = c[1].slice(1).split(".");
      for (let i = 0; i < names.length; i++) {
        if (names[i] === "Custom") break;
        if (!KNOWN_FIELDS.has(names[i])) {
          const pos = m.index + 2 + c.index;
          const before = src.slice(0, pos);
          const line = before.split("\n").length;
          const col = Buffer.byteLength(before.slice(before.lastIndexOf("\n") + 1));
          const type = i > 0 && names[i - 1] === "Annotations" ? "*ast.Annotations" : "document.Section";
          throw new DocError(`rendering document: template: ${name}:${line}:${col}: executing "${name}" at <${c[1]}>: can't evaluate field ${names[i]} in type ${type}`);
        }
      }
    }
  }
}

export function renderTemplateFile(templatePath: string, sections: Section[]): string {
  let src: string;
  try {
    src = readFileSync(templatePath, "utf8");
  } catch (e) {
    const why = errnoText(e);
    throw new DocError(`rendering document: open ${templatePath}: ${why}`);
  }
  const name = basename(templatePath);
  checkFields(name, src);
  try {
    return renderGoTemplate(src, templateData(sections), name);
  } catch (e) {
    throw new DocError(`rendering document: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The documentation of one directory (conftest's GenerateDocument). */
export function generateDocument(dir: string, templatePath?: string): string {
  const sections = documentSections(dir);
  return templatePath ? renderTemplateFile(templatePath, sections) : renderDefault(sections);
}

/** conftest's output file for a documented directory: NAME.md in outDir (`policy.md` for . and ..). */
export function documentFileName(dir: string): string {
  const name = basename(dir.replace(/\/+$/, "") || "/");
  return `${name === "." || name === ".." || name === "" ? "policy" : name}.md`;
}
