// Objects printed as `gator expand` prints them: each object through JSON (so every number is a
// float64) and then go-yaml v2's block style — keys in go-yaml's order (letters after other
// characters, digit runs compared as numbers), sequences not indented under their key, strings
// that would read back as another type double-quoted, strings plain YAML cannot hold
// single-quoted, multi-line strings as literal blocks — documents joined by `---`.
// Not reproduced: go-yaml's folding of plain strings longer than 80 columns.

import { formatFloat } from "../../gotext/fmt.ts";
import { isPlainObject } from "../yaml.ts";

const isLetter = (c: string) => /\p{L}/u.test(c);
const isDigit = (c: string) => /\p{Nd}/u.test(c);

/** go-yaml v2's keyList.Less for string keys. */
export function yamlKeyLess(a: string, b: string): boolean {
  const ar = [...a];
  const br = [...b];
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]);
    const bl = isLetter(br[i]);
    if (al && bl) return ar[i] < br[i];
    if (al || bl) return bl;
    let an = 0;
    let bn = 0;
    if (ar[i] === "0" || br[i] === "0") {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== "0") {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10 + (ar[ai].charCodeAt(0) - 48);
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10 + (br[bi].charCodeAt(0) - 48);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i] < br[i];
  }
  return ar.length < br.length;
}

const RESOLVES_BOOL = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const RESOLVES_NULL = /^(~|null|Null|NULL)$/;
const RESOLVES_INT = /^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*)$/;
const RESOLVES_FLOAT = /^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/;
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** Would go-yaml v2 read this plain text back as something other than a string? */
function resolvesToNonString(s: string): boolean {
  return s === "" || RESOLVES_BOOL.test(s) || RESOLVES_NULL.test(s) || RESOLVES_INT.test(s) || RESOLVES_FLOAT.test(s) || BASE60.test(s) || s === "<<";
}

/** libyaml's analysis: may this single-line text be written plain in block context? */
function plainAllowed(s: string): boolean {
  if (s.length === 0) return false;
  if (/^\s|\s$/.test(s)) return false;
  if (s.startsWith("---") || s.startsWith("...")) return false;
  const first = s[0];
  if (",[]{}#&*!|>'\"%@`".includes(first)) return false;
  if ("-?:".includes(first) && (s.length === 1 || s[1] === " ")) return false;
  if (s.includes(": ") || s.includes(" #") || s.endsWith(":")) return false;
  // Control characters and the other characters libyaml does not print plainly.
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0xfeff || c === 0x2028 || c === 0x2029) return false;
  }
  return true;
}

function doubleQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (c === 0) out += "\\0";
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) out += "\\x" + c.toString(16).toUpperCase().padStart(2, "0");
    else if (c === 0xfeff) out += "\\uFEFF";
    else out += ch;
  }
  return out + '"';
}

function scalarString(s: string): string {
  if (resolvesToNonString(s)) return doubleQuoted(s);
  if (plainAllowed(s)) return s;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0xfeff) return doubleQuoted(s);
  }
  return "'" + s.replace(/'/g, "''") + "'";
}

/** A multi-line string as a literal block (`|`, `|-` or `|+`), lines indented to `indent`. */
function literalBlock(s: string, indent: number): string {
  const trailing = s.length - s.replace(/\n+$/, "").length;
  const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  const lead = /^[ \t]/.test(s) ? "2" : "";
  const body = (trailing === 0 ? s : s.slice(0, s.length - trailing)).split("\n");
  const pad = " ".repeat(indent);
  const lines = body.map((l) => (l === "" ? "" : pad + l));
  const extra = trailing > 1 ? "\n".repeat(trailing - 1) : "";
  return `|${lead}${chomp}\n${lines.join("\n")}\n${extra}`;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return ".NaN";
    if (!Number.isFinite(v)) return v > 0 ? ".Inf" : "-.Inf";
    return formatFloat(v, "g", -1);
  }
  return scalarString(String(v));
}

function sortedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).sort((a, b) => (a === b ? 0 : yamlKeyLess(a, b) ? -1 : 1));
}

const isEmptyCollection = (v: unknown) => (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);

/** The text after "key:" or "- " for a value, then its block lines. */
function emit(v: unknown, indent: number, out: string[], prefix: string): void {
  const pad = " ".repeat(indent);
  if (isPlainObject(v) && Object.keys(v).length > 0) {
    let first = true;
    for (const k of sortedKeys(v)) {
      const lead = first && prefix !== "" ? prefix : pad;
      first = false;
      const key = k.includes("\n") ? doubleQuoted(k) : scalarString(k);
      const val = v[k];
      if (isPlainObject(val) && Object.keys(val).length > 0) {
        out.push(`${lead}${key}:\n`);
        emit(val, indent + 2, out, "");
      } else if (Array.isArray(val) && val.length > 0) {
        out.push(`${lead}${key}:\n`);
        emit(val, indent, out, "");
      } else if (typeof val === "string" && val.includes("\n")) {
        out.push(`${lead}${key}: ${literalBlock(val, indent + 2)}`);
      } else {
        out.push(`${lead}${key}: ${isEmptyCollection(val) ? (Array.isArray(val) ? "[]" : "{}") : scalar(val)}\n`);
      }
    }
    return;
  }
  if (Array.isArray(v) && v.length > 0) {
    let first = true;
    for (const item of v) {
      const lead = (first && prefix !== "" ? prefix : pad) + "- ";
      first = false;
      if ((isPlainObject(item) && Object.keys(item).length > 0) || (Array.isArray(item) && item.length > 0)) {
        emit(item, indent + 2, out, lead);
      } else if (typeof item === "string" && item.includes("\n")) {
        out.push(`${lead}${literalBlock(item, indent + 2)}`);
      } else {
        out.push(`${lead}${isEmptyCollection(item) ? (Array.isArray(item) ? "[]" : "{}") : scalar(item)}\n`);
      }
    }
    return;
  }
  out.push(`${prefix || pad}${isEmptyCollection(v) ? (Array.isArray(v) ? "[]" : "{}") : typeof v === "string" && v.includes("\n") ? literalBlock(v, indent) : scalar(v)}\n`);
}

/** One object as go-yaml v2 writes it (after a JSON round trip). */
export function toGoYaml(v: unknown): string {
  const out: string[] = [];
  emit(JSON.parse(JSON.stringify(v)), 0, out, "");
  return out.join("");
}

/** Objects as `gator expand` prints them: documents joined by `---`, then a newline. */
export function printObjects(objs: unknown[]): string {
  return objs.map(toGoYaml).join("---\n") + "\n";
}
