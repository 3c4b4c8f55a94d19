// A module's AST as `opa parse` prints it (`portcullis parse FILE.rego`; the command is
// src/cli/parse-command.ts).
//
//  - JSON (`--format json`): OPA's AST JSON, key for key in OPA's order; comments included
//    and locations left out by default, `--json-include locations,-comments` as in opa.
//    Locations carry `text`, the base64 of the node's source text, found from the tokens
//    (the AST records where nodes start, the tokens where they end).
//  - pretty (the default): OPA's indented tree, one node per line.
//
// Shapes were learnt by running `opa parse` (1.19) on the conformance and Gatekeeper modules;
// docs/PARSE.md lists what is known to differ.

import type { Annotation, Body, Comment, Expr, Location, Module, Rule, Term, VarTerm } from "./ast.ts";
import { lex, T_IDENT, T_LBRACE, T_LBRACK, T_LPAREN, T_RBRACE, T_RBRACK, T_RPAREN, T_MINUS, T_TPL_BEGIN, T_TPL_END, T_ASSIGN, T_EQ, T_EQEQ, T_OR, type Token } from "./lexer.ts";
import { goString, goJSON } from "../gotext/plainjson.ts";

// ---- JSON text in a fixed key order ----------------------------------------------------------

/** JSON text inserted as is (number literals keep their source spelling). */
class Raw {
  constructor(readonly text: string) {}
}
/** A Go value marshalled with sorted keys (annotation contents). */
class GoValue {
  constructor(readonly value: unknown) {}
}
type J = Raw | GoValue | null | boolean | string | J[] | { [k: string]: J | undefined };

export function jsonOut(x: J, indent = "  ", level = ""): string {
  if (x === null) return "null";
  if (x instanceof Raw) return x.text;
  if (x instanceof GoValue) return goJSON(x.value, indent, level);
  if (typeof x === "boolean") return x ? "true" : "false";
  if (typeof x === "string") return goString(x);
  const inner = level + indent;
  if (Array.isArray(x)) {
    if (x.length === 0) return "[]";
    return "[\n" + x.map((e) => inner + jsonOut(e, indent, inner)).join(",\n") + "\n" + level + "]";
  }
  const keys = Object.keys(x).filter((k) => x[k] !== undefined);
  if (keys.length === 0) return "{}";
  return "{\n" + keys.map((k) => inner + goString(k) + ": " + jsonOut(x[k] as J, indent, inner)).join(",\n") + "\n" + level + "}";
}

// ---- Term order (OPA keeps object keys and set elements sorted) -------------------------------

const TYPE_RANK: Record<string, number> = {
  null: 0, boolean: 1, number: 2, string: 3, var: 4, ref: 5, array: 6, object: 7, set: 8,
  arraycomp: 9, objectcomp: 10, setcomp: 11, call: 12,
};

function cmpNum(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (x !== y && Number.isFinite(x) && Number.isFinite(y)) return x < y ? -1 : 1;
  return 0;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpList(a: Term[], b: Term[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareTerms(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

export function compareTerms(a: Term, b: Term): number {
  const ra = TYPE_RANK[a.type];
  const rb = TYPE_RANK[b.type];
  if (ra !== rb) return ra - rb;
  switch (a.type) {
    case "null":
      return 0;
    case "boolean":
      return Number(a.value) - Number((b as typeof a).value);
    case "number":
      return cmpNum(a.value, (b as typeof a).value);
    case "string":
      return cmpStr(a.value, (b as typeof a).value);
    case "var":
      return cmpStr(a.name, (b as typeof a).name);
    case "ref":
      return cmpList(a.terms, (b as typeof a).terms);
    case "array":
    case "set":
      return cmpList(sortedItems(a), sortedItems(b as typeof a));
    case "object": {
      const x = sortedPairs(a.items);
      const y = sortedPairs((b as typeof a).items);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareTerms(x[i][0], y[i][0]) || compareTerms(x[i][1], y[i][1]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case "call":
      return cmpList([a.op, ...a.args], [(b as typeof a).op, ...(b as typeof a).args]);
    default:
      return 0;
  }
}

function sortedItems(t: Term & { items: Term[] }): Term[] {
  return t.type === "set" ? [...t.items].sort(compareTerms) : t.items;
}

/** Set elements as OPA keeps them: sorted, duplicates dropped. */
function uniqueSorted(items: Term[]): Term[] {
  const out: Term[] = [];
  for (const t of [...items].sort(compareTerms)) if (out.length === 0 || compareTerms(out[out.length - 1], t) !== 0) out.push(t);
  return out;
}

function sortedPairs(items: [Term, Term][]): [Term, Term][] {
  return [...items].sort((p, q) => compareTerms(p[0], q[0]));
}

// ---- Source spans ----------------------------------------------------------------------------

/** Where nodes end, from the module's tokens: gives each location its source text. */
class Spans {
  private toks: Token[];
  private at = new Map<string, number>();
  private match = new Map<number, number>();
  private lines: string[];
  constructor(private source: string) {
    this.toks = lex(source).tokens;
    this.lines = source.split("\n");
    const stack: number[] = [];
    this.toks.forEach((t, i) => {
      this.at.set(`${t.row}:${t.col}`, i);
      if (t.kind === T_LBRACE || t.kind === T_LBRACK || t.kind === T_LPAREN || t.kind === T_TPL_BEGIN) stack.push(i);
      else if (t.kind === T_RBRACE || t.kind === T_RBRACK || t.kind === T_RPAREN || t.kind === T_TPL_END) {
        const o = stack.pop();
        if (o !== undefined) this.match.set(o, i);
      }
    });
  }

  tok(i: number): Token | undefined {
    return this.toks[i];
  }

  index(l: Location): number | undefined {
    return this.at.get(`${l.row}:${l.col}`);
  }

  closing(i: number): number {
    return this.match.get(i) ?? i;
  }

  isIdent(i: number, text: string): boolean {
    const t = this.toks[i];
    return t !== undefined && t.kind === T_IDENT && t.text === text;
  }

  /** Index of the last token of a term. */
  end(t: Term): number | undefined {
    const s = this.index(t.loc);
    if (s === undefined) return undefined;
    const tk = this.toks[s];
    switch (t.type) {
      case "null":
      case "boolean":
      case "string":
      case "var":
        return tk.kind === T_TPL_BEGIN ? this.closing(s) : s;
      case "number":
        return tk.kind === T_MINUS ? s + 1 : s;
      case "array":
      case "object":
      case "set":
      case "arraycomp":
      case "setcomp":
      case "objectcomp":
        if (tk.kind === T_IDENT && this.toks[s + 1]?.kind === T_LPAREN) return this.closing(s + 1); // set()
        return tk.kind === T_LBRACE || tk.kind === T_LBRACK ? this.closing(s) : s;
      case "ref": {
        if (t.terms.length === 1) return this.end(t.terms[0]) ?? s;
        const last = t.terms[t.terms.length - 1];
        const w = this.widened(last);
        const ls = w?.[0];
        if (ls !== undefined && this.toks[ls - 1]?.kind === T_LBRACK) return this.closing(ls - 1);
        if (ls !== undefined && this.toks[ls - 1]?.kind === T_LBRACK) return this.closing(ls - 1);
        return this.end(last) ?? s;
      }
      case "call": {
        if (tk.kind === T_TPL_BEGIN) return this.closing(s);
        const e = this.end(t.op);
        if (!this.isOperator(t) && e !== undefined && this.toks[e + 1]?.kind === T_LPAREN) return this.closing(e + 1);
        // Operators: the last operand (with its parentheses) ends the call.
        const last = t.args[t.args.length - 1];
        return (last ? this.widened(last)?.[1] : undefined) ?? e ?? s;
      }
    }
  }

  /** An operator call (`a + b`, unary `-x`) rather than `f(…)`. */
  isOperator(t: Term & { type: "call" }): boolean {
    const o = this.index(t.op.loc);
    const a = t.args[0] ? this.index(t.args[0].loc) : undefined;
    if (o === undefined) return false;
    if (this.toks[o]?.kind === T_MINUS && a === o) return true; // unary minus: minus(0, x)
    return a !== undefined && a < o;
  }

  /** First token of a term: an operator call starts with its first operand (parentheses included). */
  start(t: Term): number | undefined {
    if (t.type === "call" && this.isOperator(t)) {
      const a = t.args[0];
      const ai = this.index(a.loc);
      const oi = this.index(t.op.loc);
      if (ai === oi) return oi; // unary minus
      return this.widened(a)?.[0];
    }
    return this.index(t.loc);
  }

  /** The token an operator call is located at: its first operand's (recursively). */
  locStart(t: Term): number | undefined {
    if (t.type === "call" && this.isOperator(t)) {
      const ai = this.index(t.args[0].loc);
      const oi = this.index(t.op.loc);
      if (ai === oi) return oi;
      return this.locStart(t.args[0]);
    }
    return this.index(t.loc);
  }

  /** [first, last] token of a term with the parentheses around it. */
  widened(t: Term): [number, number] | undefined {
    const s = this.start(t);
    const e = this.end(t);
    if (s === undefined || e === undefined) return undefined;
    return this.parens(s, e);
  }

  /** Widen [s, e] over enclosing parentheses that group (rather than call) a term. */
  parens(s: number, e: number): [number, number] {
    while (this.toks[s - 1]?.kind === T_LPAREN && this.match.get(s - 1) === e + 1) {
      const before = this.toks[s - 2];
      const call = before !== undefined && before.end === this.toks[s - 1].start && (before.kind === T_IDENT || before.kind === T_RBRACK || before.kind === T_RPAREN);
      if (call) break;
      s--;
      e++;
    }
    return [s, e];
  }

  text(from: number | undefined, to: number | undefined): string | undefined {
    if (from === undefined || to === undefined) return undefined;
    const a = this.toks[from];
    const b = this.toks[Math.max(from, to)];
    return this.source.slice(a.start, b.end);
  }

  /** The text of comment lines [row, last] (whole lines from the column given). */
  lineText(row: number, col: number, lastRow: number): string {
    const out: string[] = [];
    for (let r = row; r <= lastRow; r++) out.push((this.lines[r - 1] ?? "").replace(/\r$/, "").slice(r === row ? col - 1 : 0));
    return out.join("\n");
  }
}

/** Base64 of the UTF-8 bytes (no Node Buffer: the core runs in a browser too). */
function b64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

// ---- Module → JSON ---------------------------------------------------------------------------

export interface RegoJSONOptions {
  locations?: boolean;
  comments?: boolean;
}

class ToJSON {
  private spans: Spans;
  private wild = new Map<VarTerm, string>();
  constructor(
    private m: Module,
    source: string,
    private o: RegoJSONOptions,
  ) {
    this.spans = new Spans(source);
    this.numberWildcards();
  }

  /** `_` becomes $0, $1, … in source order, as OPA's parser names them. */
  private numberWildcards(): void {
    const found: VarTerm[] = [];
    const term = (t: Term | null | undefined): void => {
      if (!t) return;
      switch (t.type) {
        case "var":
          if (t.name === "_") found.push(t);
          return;
        case "ref":
          return t.terms.forEach(term);
        case "array":
        case "set":
          return t.items.forEach(term);
        case "object":
          return t.items.forEach(([k, v]) => (term(k), term(v)));
        case "call":
          term(t.op);
          return t.args.forEach(term);
        case "arraycomp":
        case "setcomp":
          term(t.head);
          return body(t.body);
        case "objectcomp":
          term(t.key);
          term(t.value);
          return body(t.body);
      }
    };
    const body = (b: Body) => {
      for (const e of b) {
        const n = e.node;
        if (n.type === "term") term(n.term);
        else if (n.type === "call") (term(n.op), n.args.forEach(term));
        else if (n.type === "some") n.vars.forEach(term);
        else if (n.type === "somein") (term(n.key), term(n.value), term(n.collection));
        else if (n.type === "every") (term(n.key), term(n.value), term(n.domain), body(n.body));
        for (const w of e.with) (term(w.target), term(w.value));
      }
    };
    let n = 0;
    const flush = () => {
      for (const v of found) if (!this.wild.has(v)) this.wild.set(v, `$${n++}`);
      found.length = 0;
    };
    for (const r of this.m.rules) {
      r.head.ref.forEach(term);
      r.head.args?.forEach(term);
      term(r.head.key);
      term(r.head.value);
      body(r.body);
      flush();
      r.elses.forEach((e, i) => {
        // Each else has its own copy of the head, whose wildcards are named afresh.
        const names = new Map<VarTerm, string>();
        const argWild: VarTerm[] = [];
        const collect = (t: Term): void => {
          if (t.type === "var" && t.name === "_") argWild.push(t);
          else if (t.type === "ref") t.terms.forEach(collect);
          else if (t.type === "array" || t.type === "set") t.items.forEach(collect);
          else if (t.type === "object") t.items.forEach(([k, v]) => (collect(k), collect(v)));
        };
        r.head.args?.forEach(collect);
        for (const v of argWild) names.set(v, `$${n++}`);
        this.elseWild.set(`${this.m.rules.indexOf(r)}:${i}`, names);
        term(e.value);
        body(e.body);
        flush();
      });
    }
  }

  private elseWild = new Map<string, Map<VarTerm, string>>();
  private currentElse: Map<VarTerm, string> | null = null;

  private loc(l: Location, text: string | undefined): J | undefined {
    if (!this.o.locations) return undefined;
    const j: { [k: string]: J } = { file: l.file, row: new Raw(String(l.row)), col: new Raw(String(l.col)) };
    if (text !== undefined) j.text = b64(text);
    return j;
  }

  private termLoc(t: Term): J | undefined {
    if (!this.o.locations) return undefined;
    const sp = this.spans;
    let s = sp.index(t.loc);
    let e = sp.end(t);
    if (s === undefined || e === undefined) return this.loc(t.loc, undefined);
    // Location: where the term starts (an operator call: its first operand, parentheses
    // excluded); text: with the parentheses around the term and its first operand.
    const locTok = sp.tok(sp.locStart(t) ?? s)!;
    s = sp.start(t) ?? s;
    [s, e] = sp.parens(s, e);
    // A negative number literal's text is just its `-` (as opa has it).
    if (t.type === "number" && sp.tok(s)?.kind === T_MINUS) e = s;
    const tk = locTok;
    let from = s;
    // A ref whose head is a composite term: opa's text starts at the head's last token.
    if (t.type === "ref" && t.terms.length > 1 && !["var", "call"].includes(t.terms[0].type)) {
      const he = sp.end(t.terms[0]);
      if (he !== undefined && he >= s) from = he;
    }
    return this.loc({ file: t.loc.file, row: tk.row, col: tk.col }, sp.text(from, e));
  }

  module(): J {
    const m = this.m;
    const out: { [k: string]: J | undefined } = {};
    const pkgIdx = this.spans.index(m.package.loc);
    const pkgKw = pkgIdx !== undefined ? pkgIdx - 1 : undefined;
    const pkgLoc = pkgKw !== undefined && this.spans.isIdent(pkgKw, "package") ? this.spans.tok(pkgKw)! : undefined;
    out.package = {
      location: pkgLoc ? this.loc({ file: m.file, row: pkgLoc.row, col: pkgLoc.col }, "package") : this.loc(m.package.loc, undefined),
      path: m.package.terms.map((t) => this.term(t)),
    };
    if (m.imports.length > 0) {
      out.imports = m.imports.map((im) => ({
        alias: im.alias ?? undefined,
        location: this.loc(im.loc, "import"),
        path: this.term(im.path),
      }));
    }
    const anns: Annotation[] = [...m.annotations, ...m.rules.flatMap((r) => r.annotations)];
    const uniq = [...new Set(anns)].sort((a, b) => a.loc.row - b.loc.row);
    if (uniq.length > 0) out.annotations = uniq.map((a) => this.annotation(a));
    if (m.rules.length > 0) out.rules = m.rules.map((r, i) => this.rule(r, i));
    if (this.o.comments !== false && m.comments.length > 0) out.comments = m.comments.map((c) => this.comment(c));
    return out;
  }

  private comment(c: Comment): J {
    const l: { [k: string]: J } = { file: c.loc.file, row: new Raw(String(c.loc.row)), col: new Raw(String(c.loc.col)) };
    if (this.o.locations) {
      // The first comment of a METADATA block carries the whole block's text.
      const a = [...this.m.annotations, ...this.m.rules.flatMap((r) => r.annotations)].find((x) => x.loc.row === c.loc.row && x.loc.col === c.loc.col);
      l.text = a ? b64(this.blockText(a)) : b64("#" + c.text);
    }
    return { Text: c.text === "" ? null : b64(c.text), Location: l };
  }

  private annotation(a: Annotation): J {
    const entries: [string, J][] = [];
    for (const [k, v] of Object.entries(a)) {
      if (k === "loc" || v === undefined) continue;
      entries.push([k, new GoValue(v)]);
    }
    if (this.o.locations) entries.push(["location", this.loc(a.loc, this.blockText(a))!]);
    entries.sort((x, y) => cmpStr(x[0], y[0]));
    return Object.fromEntries(entries);
  }

  /** The whole `# METADATA` comment block of an annotation. */
  private blockText(a: Annotation): string {
    let last = a.loc.row;
    const rows = new Set(this.m.comments.filter((c) => c.loc.col === a.loc.col).map((c) => c.loc.row));
    while (rows.has(last + 1) && !this.m.comments.some((c) => c.loc.row === last + 1 && c.text.trim() === "METADATA")) last++;
    return this.spans.lineText(a.loc.row, a.loc.col, last);
  }

  /** The value a rule head was written with (`p if …` has an implicit `true`). */
  private explicitValue(r: Rule): boolean {
    const v = r.head.value;
    if (!v) return false;
    return !(v.type === "boolean" && v.value === true && v.loc.row === r.loc.row && v.loc.col === r.loc.col);
  }

  private termNoLoc(t: Term): J {
    const saved = this.o.locations;
    this.o.locations = false;
    try {
      return this.term(t);
    } finally {
      this.o.locations = saved;
    }
  }

  /** `else := v` (rather than `else = v`). */
  private elseAssign(l: Location): boolean {
    const i = this.spans.index(l);
    return i !== undefined && this.spans.tok(i + 1)?.kind === T_ASSIGN;
  }

  private head(r: Rule, value: Term | null, headText: string | undefined, headLoc: Location, assign = r.head.assign): J {
    const h = r.head;
    const j: { [k: string]: J | undefined } = {};
    const n = h.ref.length;
    const first = h.ref[0];
    const name = first.type === "var" ? first.name : "";
    const v0 = this.m.regoVersion === "v0";
    const key1 = n === 2 ? h.ref[1] : null;
    if (n === 1) j.name = name;
    else if (r.isDefault) j.name = undefined;
    else if (h.kind === "function") {
      // (opa names `f["a.b"](x)` after f, but not `f.k(x)` or `f["k"](x)`.)
      j.name = key1?.type === "string" && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key1.value) ? name : undefined;
    } else if (h.kind === "single" && n === 2 && (v0 || this.explicitValue(r))) j.name = name;
    if (h.args && h.args.length > 0) j.args = h.args.map((a) => this.term(a));
    if (h.kind === "multi") j.key = h.key ? this.term(h.key) : undefined;
    // A two-part ref head names its key (in v1, unless the key is a string and the rule has a body).
    else if (h.kind === "single" && key1 && !r.isDefault && (v0 || !r.hasBody || key1.type !== "string")) j.key = this.term(key1);
    if (this.valueLoc && j.key) {
      const k = this.termNoLoc(h.kind === "multi" ? h.key! : key1!) as { [k: string]: J | undefined };
      delete k.location;
      j.key = { location: this.valueLoc, ...k };
    }
    if (h.kind !== "multi" && value) {
      if (this.valueLoc && value === h.value) {
        const saved = this.o.locations;
        this.o.locations = false;
        const v = this.term(value) as { [k: string]: J | undefined };
        this.o.locations = saved;
        delete v.location;
        j.value = { location: this.valueLoc, ...v };
      } else if (value === h.value && !this.explicitValue(r) && h.ref.length === 2 && h.kind !== "function" && this.o.locations) {
        // `p.a if …`: the implicit `true` of a ref head is located at the ref.
        const sp = this.spans;
        const v = this.termNoLoc(value) as { [k: string]: J | undefined };
        delete v.location;
        const ref: Term = { type: "ref", terms: h.ref, loc: h.ref[0].loc };
        j.value = { location: this.loc(h.ref[0].loc, sp.text(sp.index(h.ref[0].loc), sp.end(ref))), ...v };
      } else if (value === h.value && !this.explicitValue(r)) {
        // `p if …`: the implicit `true` has no location.
        const saved = this.o.locations;
        this.o.locations = false;
        j.value = this.term(value);
        this.o.locations = saved;
      } else j.value = this.term(value);
    }
    if (assign) j.assign = true;
    j.ref = h.ref.map((t) => this.term(t));
    j.location = this.loc(headLoc, headText);
    return j;
  }

  /** Location given to the head value of a `p { … } { … }` continuation rule. */
  private valueLoc: J | undefined;

  private rule(r: Rule, idx: number): J {
    const sp = this.spans;
    const prev = idx > 0 ? this.m.rules[idx - 1] : null;
    // The second and later blocks of `p { … } { … }`: located at their own braces.
    if (prev && prev.loc.row === r.loc.row && prev.loc.col === r.loc.col && r.body.length > 0) {
      const b0 = sp.index(r.body[0].loc);
      if (b0 !== undefined && sp.tok(b0 - 1)?.kind === T_LBRACE) {
        const open = sp.tok(b0 - 1)!;
        const text = sp.text(b0 - 1, sp.closing(b0 - 1));
        const l = this.loc({ file: r.loc.file, row: open.row, col: open.col }, text);
        this.valueLoc = l;
        try {
          const j = this.ruleJSON(r);
          (j.head as { [k: string]: J | undefined }).location = l;
          j.location = l;
          return j;
        } finally {
          this.valueLoc = undefined;
        }
      }
    }
    return this.ruleJSON(r);
  }

  private ruleJSON(r: Rule): { [k: string]: J | undefined } {
    const sp = this.spans;
    const j: { [k: string]: J | undefined } = {};
    if (r.annotations.length > 0) j.annotations = r.annotations.map((a) => this.annotation(a));
    // Spans: the head runs from its name to its last term; the rule to its last body/else.
    const headStart = sp.index(r.head.ref[0].loc);
    let headEnd = this.headEnd(r);
    const ruleStart = sp.index(r.loc);
    let bodyEnd: number | undefined;
    let pos = headEnd !== undefined ? headEnd + 1 : undefined;
    if (pos !== undefined && !r.isDefault) {
      ({ end: bodyEnd, next: pos } = this.bodyEnd(pos, r.body));
    }
    // A rule without a body has `true` for one, located at its value (or key, or name).
    const stand = this.explicitValue(r) ? r.head.value : r.head.ref[0];
    const bodyLoc = r.body.length > 0 ? undefined : r.isDefault ? r.loc : stand!.loc;
    const bodyText = r.isDefault ? "default" : sp.text(sp.index(stand!.loc), sp.end(stand!));
    j.body = this.body(r.body, bodyLoc, bodyText, r.isDefault || r.body.length > 0 ? undefined : this.termLoc(stand!));
    if (r.isDefault) j.default = true;
    let ruleEnd = bodyEnd ?? headEnd;
    if (r.elses.length > 0) {
      let next: J | undefined;
      const parts: { start?: number; end?: number; headEnd?: number }[] = [];
      for (const e of r.elses) {
        const start = sp.index(e.loc);
        let p = start !== undefined ? start + 1 : undefined;
        let he = start;
        if (p !== undefined && e.value && !(e.value.type === "boolean" && e.value.loc.row === e.loc.row && e.value.loc.col === e.loc.col)) {
          he = sp.end(e.value);
          p = he !== undefined ? he + 1 : undefined;
        }
        let end = he;
        if (p !== undefined) {
          const b = this.bodyEnd(p, e.body);
          if (b.end !== undefined) end = b.end;
        }
        parts.push({ start, end, headEnd: he });
        ruleEnd = end ?? ruleEnd;
      }
      for (let i = r.elses.length - 1; i >= 0; i--) {
        const e = r.elses[i];
        const pt = parts[i];
        const ej: { [k: string]: J | undefined } = {};
        ej.body = this.body(e.body, e.body.length > 0 ? undefined : e.loc, sp.text(pt.start, pt.headEnd));
        if (next) ej.else = next;
        this.currentElse = this.elseWild.get(`${this.m.rules.indexOf(r)}:${i}`) ?? null;
        ej.head = this.head(r, e.value, sp.text(pt.start, pt.headEnd), e.loc, this.elseAssign(e.loc));
        this.currentElse = null;
        // (An else's text runs to the end of the whole chain.)
        ej.location = this.loc(e.loc, sp.text(pt.start, ruleEnd));
        next = ej;
      }
      j.else = next;
    }
    const headLoc = r.head.ref[0].loc;
    j.head = this.head(r, r.head.value, sp.text(headStart, headEnd), headLoc);
    j.location = this.loc(r.loc, r.isDefault ? "default" : sp.text(ruleStart, ruleEnd));
    void headEnd;
    headEnd = undefined;
    return j;
  }

  /** Last token of a rule head (name, args, key, value). */
  private headEnd(r: Rule): number | undefined {
    const sp = this.spans;
    const h = r.head;
    let e = sp.end(h.ref[h.ref.length - 1]);
    const lastRef = h.ref[h.ref.length - 1];
    const ls = sp.index(lastRef.loc);
    if (h.ref.length > 1 && ls !== undefined && sp.tok(ls - 1)?.kind === T_LBRACK) e = sp.closing(ls - 1);
    if (h.args && e !== undefined && sp.tok(e + 1)?.kind === T_LPAREN) e = sp.closing(e + 1);
    if (h.kind === "multi" && h.key) {
      const ke = sp.end(h.key);
      if (ke !== undefined && (e === undefined || ke > e)) e = ke;
      // v0 `p[x]`: the bracket closes after the key.
      if (ke !== undefined && sp.tok(ke + 1)?.kind === T_RBRACK) e = ke + 1;
    }
    if (h.value && this.explicitValue(r)) {
      const ve = sp.end(h.value);
      if (ve !== undefined && (e === undefined || ve > e)) e = ve;
    }
    return e;
  }

  /** Where a body that starts at token `pos` (after `if`, or braces) ends. */
  private bodyEnd(pos: number, body: Body): { end?: number; next?: number } {
    const sp = this.spans;
    if (body.length === 0) return { next: pos };
    let p = pos;
    if (sp.isIdent(p, "if")) p++;
    if (sp.tok(p)?.kind === T_LBRACE && sp.index(body[0].loc) !== p) {
      const c = sp.closing(p);
      return { end: c, next: c + 1 };
    }
    const e = this.exprEnd(body[body.length - 1]);
    return { end: e, next: e !== undefined ? e + 1 : undefined };
  }

  private exprEnd(e: Expr): number | undefined {
    const sp = this.spans;
    const n = e.node;
    let end: number | undefined;
    const upd = (x: number | undefined) => {
      if (x !== undefined && (end === undefined || x > end)) end = x;
    };
    const tend = (t: Term) => {
      const a = sp.index(t.loc);
      const b = sp.end(t);
      return a === undefined || b === undefined ? b : sp.parens(a, b)[1];
    };
    switch (n.type) {
      case "term":
        upd(tend(n.term));
        break;
      case "call": {
        const op = sp.end(n.op);
        upd(op);
        n.args.forEach((a) => upd(tend(a)));
        // `f(x)` written as a statement: the closing parenthesis.
        const s = sp.index(e.loc);
        if (op !== undefined && s !== undefined && sp.index(n.op.loc) === s && sp.tok(op + 1)?.kind === T_LPAREN) upd(sp.closing(op + 1));
        else if (op !== undefined && sp.tok(op + 1)?.kind === T_LPAREN && sp.index(n.op.loc) !== undefined && (sp.index(n.op.loc) as number) < (end ?? 0)) {
          const st = sp.index(n.op.loc)!;
          if (n.args.every((a) => (sp.index(a.loc) ?? 0) > st)) upd(sp.closing(op + 1));
        }
        break;
      }
      case "some":
        n.vars.forEach((v) => upd(sp.end(v)));
        break;
      case "somein":
        upd(sp.end(n.collection));
        break;
      case "every": {
        const d = sp.end(n.domain);
        if (d !== undefined && sp.tok(d + 1)?.kind === T_LBRACE) upd(sp.closing(d + 1));
        else upd(d);
        break;
      }
    }
    for (const w of e.with) upd(tend(w.value));
    return end;
  }

  private body(b: Body, emptyLoc: Location | undefined, emptyText: string | undefined, given?: J): J[] {
    if (b.length === 0) {
      const l = given ?? this.loc(emptyLoc!, emptyText);
      return [{ index: new Raw("0"), location: l, terms: { location: l, type: "boolean", value: true } }];
    }
    return b.map((e, i) => this.expr(e, i));
  }

  private expr(e: Expr, index: number): J {
    const sp = this.spans;
    const j: { [k: string]: J | undefined } = { index: new Raw(String(index)) };
    j.location = this.loc(e.loc, sp.text(sp.index(e.loc), this.exprEnd(e)));
    if (e.negated) j.negated = true;
    const n = e.node;
    const kwLoc = (word: string): J | undefined => this.loc(e.negated ? this.afterNot(e) : e.loc, word);
    switch (n.type) {
      case "term":
        j.terms = this.term(n.term);
        break;
      case "call":
        j.terms = [this.term(n.op), ...n.args.map((a) => this.term(a))];
        break;
      case "some":
        j.terms = { location: kwLoc("some"), symbols: n.vars.map((v) => this.term(v)) };
        break;
      case "somein": {
        const first = n.key ?? n.value;
        const inIdx = this.inToken(n.value, n.collection);
        const inTok = inIdx !== undefined ? sp.tok(inIdx) : undefined;
        const inLoc = inTok ? this.loc({ file: e.loc.file, row: inTok.row, col: inTok.col }, "in") : undefined;
        const op = ["internal", n.key ? "member_3" : "member_2"];
        const opTerm: J = {
          location: inLoc,
          type: "ref",
          value: [
            { location: inLoc, type: "var", value: op[0] },
            { location: inLoc, type: "string", value: op[1] },
          ],
        };
        const args = n.key ? [n.key, n.value, n.collection] : [n.value, n.collection];
        const callLoc = this.loc(first.loc, sp.text(sp.index(first.loc), sp.end(n.collection)));
        j.terms = { location: kwLoc("some"), symbols: [{ location: callLoc, type: "call", value: [opTerm, ...args.map((a) => this.term(a))] }] };
        break;
      }
      case "every":
        j.terms = {
          body: n.body.map((x, i) => this.expr(x, i)),
          domain: this.term(n.domain),
          key: n.key ? this.term(n.key) : null,
          location: kwLoc("every"),
          value: this.term(n.value),
        };
        break;
    }
    if (e.with.length > 0) {
      j.with = e.with.map((w) => {
        const s = sp.index(w.loc);
        // A bare function name as target is a var (input and data stay refs).
        const t0 = w.target.terms[0];
        const bare = w.target.terms.length === 1 && t0.type === "var" && t0.name !== "input" && t0.name !== "data";
        return { location: this.loc(w.loc, sp.text(s, sp.end(w.value))), target: this.term(bare ? t0 : w.target), value: this.term(w.value) };
      });
    }
    return j;
  }

  private afterNot(e: Expr): Location {
    const s = this.spans.index(e.loc);
    const t = s !== undefined ? this.spans.tok(s + 1) : undefined;
    return t ? { file: e.loc.file, row: t.row, col: t.col } : e.loc;
  }

  /** The `in` token between a some-in's value and collection. */
  private inToken(value: Term, coll: Term): number | undefined {
    const sp = this.spans;
    const ve = sp.end(value);
    const cs = sp.index(coll.loc);
    if (ve === undefined || cs === undefined) return undefined;
    for (let i = ve + 1; i < cs; i++) if (sp.isIdent(i, "in")) return i;
    return undefined;
  }

  term(t: Term): J {
    const location = this.termLoc(t);
    switch (t.type) {
      case "null":
        return { location, type: "null", value: {} };
      case "boolean":
        return { location, type: "boolean", value: t.value };
      case "number":
        return { location, type: "number", value: new Raw(t.value) };
      case "string":
        return { location, type: "string", value: t.value };
      case "var":
        return { location, type: "var", value: this.currentElse?.get(t) ?? this.wild.get(t) ?? t.name };
      case "ref":
        return { location, type: "ref", value: t.terms.map((x) => this.term(x)) };
      case "array":
        return { location, type: "array", value: t.items.map((x) => this.term(x)) };
      case "set":
        return { location, type: "set", value: uniqueSorted(t.items).map((x) => this.term(x)) };
      case "object":
        return { location, type: "object", value: sortedPairs(t.items).map(([k, v]) => [this.term(k), this.term(v)]) };
      case "arraycomp":
        return { location, type: "arraycomprehension", value: { term: this.term(t.head), body: t.body.map((e, i) => this.expr(e, i)) } };
      case "setcomp":
        return { location, type: "setcomprehension", value: { term: this.term(t.head), body: t.body.map((e, i) => this.expr(e, i)) } };
      case "objectcomp":
        return { location, type: "objectcomprehension", value: { key: this.term(t.key), value: this.term(t.value), body: t.body.map((e, i) => this.expr(e, i)) } };
      case "call": {
        if (isTemplate(t)) return this.template(t, location);
        const a0 = t.args[0];
        // Unary minus is minus(0, x); the 0 comes from nowhere.
        const oi = this.spans.index(t.op.loc);
        const synthetic = a0 && a0.type === "number" && a0.value === "0" && oi !== undefined && this.spans.index(a0.loc) === oi;
        const args = t.args.map((a) => (a === a0 && synthetic ? { type: "number", value: new Raw("0") } : this.term(a)));
        let op = this.term(t.op);
        // (opa leaves the operator of `a + -b` unlocated, not that of `(-b)` or `= -b`.)
        const prevKind = oi !== undefined ? this.spans.tok(oi - 1)?.kind : undefined;
        const afterOperator = prevKind !== undefined && prevKind >= T_EQEQ && prevKind <= T_OR && prevKind !== T_EQ;
        if (synthetic && afterOperator) {
          const saved = this.o.locations;
          this.o.locations = false;
          op = this.term(t.op);
          this.o.locations = saved;
        }
        return { location, type: "call", value: [op, ...args] };
      }
    }
  }

  /** A template string (the parser's internal.template_string call) as OPA's templatestring term. */
  private template(t: Term & { type: "call" }, location: J | undefined): J {
    const items = (t.args[0] as Term & { items: Term[] }).items;
    const parts: J[] = items.map((it, k) => {
      if (it.type !== "setcomp") {
        const j = this.term(it) as { [key: string]: J | undefined };
        if (this.o.locations) {
          // Text parts run from the end of the previous part (the template's `$"` for the
          // first) through the delimiter that ends them.
          const sp = this.spans;
          const at = k === 0 ? sp.index(t.loc) : sp.index(it.loc);
          const tok = at !== undefined ? sp.tok(at) : undefined;
          let e = sp.index(it.loc);
          if (e !== undefined) e++;
          if (tok) j.location = this.loc({ file: it.loc.file, row: tok.row, col: tok.col }, sp.text(at, e));
        }
        return j;
      }
      const e = it.body[0];
      const value = e.node.type === "call" ? e.node.args[1] : it.head;
      if (value.type === "null" || value.type === "boolean" || value.type === "number" || value.type === "string") return this.term(value);
      // (A call is written out as a call expression, as opa has it.)
      const node: Expr["node"] = value.type === "call" && !isTemplate(value) ? { type: "call", op: value.op, args: value.args } : { type: "term", term: value };
      const x: Expr = { node, negated: false, with: e.with, loc: value.loc };
      return this.expr(x, 0);
    });
    const i = this.spans.index(t.loc);
    const multi = i !== undefined && !!this.spans.tok(i)?.raw;
    return { location, type: "templatestring", value: { parts, multi_line: multi } };
  }
}

function isTemplate(t: Term & { type: "call" }): boolean {
  const ts = t.op.terms;
  return ts.length === 2 && ts[0].type === "var" && ts[0].name === "internal" && ts[1].type === "string" && ts[1].value === "template_string" && t.args[0]?.type === "array";
}

/** `opa parse --format json` output for a module (with a trailing newline). */
export function regoJSON(m: Module, source: string, o: RegoJSONOptions = {}): string {
  return jsonOut(new ToJSON(m, source, o).module()) + "\n";
}

// ---- Pretty tree -----------------------------------------------------------------------------

/** `opa parse` (pretty) output: one node per line, one space of indent per level. */
export function regoPretty(m: Module): string {
  const lines: string[] = [];
  const put = (depth: number, s: string): void => void lines.push(" ".repeat(depth) + s);
  const term = (t: Term, d: number): void => {
    switch (t.type) {
      case "null":
        return put(d, "null");
      case "boolean":
        return put(d, String(t.value));
      case "number":
        return put(d, t.value);
      case "string":
        return put(d, goSprintfNoArgs(goQuote(t.value)));
      case "var":
        return put(d, t.name);
      case "ref":
        put(d, "ref");
        return t.terms.forEach((x) => term(x, d + 1));
      case "array":
        put(d, "array");
        return t.items.forEach((x) => term(x, d + 1));
      case "set":
        put(d, "set");
        return uniqueSorted(t.items).forEach((x) => term(x, d + 1));
      case "object":
        put(d, "object");
        for (const [k, v] of sortedPairs(t.items)) (term(k, d + 1), term(v, d + 1));
        return;
      case "arraycomp":
      case "setcomp":
        put(d, t.type === "arraycomp" ? "arraycomprehension" : "setcomprehension");
        term(t.head, d + 1);
        return body(t.body, d + 1);
      case "objectcomp":
        put(d, "objectcomprehension");
        term(t.key, d + 1);
        term(t.value, d + 1);
        return body(t.body, d + 1);
      case "call":
        if (isTemplate(t)) return put(d, "templatestring");
        put(d, "call");
        term(t.op, d + 1);
        return t.args.forEach((a) => term(a, d + 1));
    }
  };
  const expr = (e: Expr, i: number, d: number): void => {
    put(d, `expr${e.negated ? " negated" : ""} index=${i}`);
    const n = e.node;
    switch (n.type) {
      case "term":
        term(n.term, d + 1);
        break;
      case "call":
        term(n.op, d + 1);
        n.args.forEach((a) => term(a, d + 1));
        break;
      case "some":
        put(d + 1, "somedecl");
        n.vars.forEach((v) => term(v, d + 2));
        break;
      case "somein":
        put(d + 1, "somedecl");
        put(d + 2, "call");
        put(d + 3, "ref");
        put(d + 4, "internal");
        put(d + 4, goString(n.key ? "member_3" : "member_2"));
        if (n.key) term(n.key, d + 3);
        term(n.value, d + 3);
        term(n.collection, d + 3);
        break;
      case "every":
        put(d + 1, "every");
        if (n.key) term(n.key, d + 2);
        term(n.value, d + 2);
        term(n.domain, d + 2);
        body(n.body, d + 2);
        break;
    }
    for (const w of e.with) {
      put(d + 1, "with");
      const t0 = w.target.terms[0];
      const bare = w.target.terms.length === 1 && t0.type === "var" && t0.name !== "input" && t0.name !== "data";
      term(bare ? t0 : w.target, d + 2);
      term(w.value, d + 2);
    }
  };
  const body = (b: Body, d: number): void => {
    put(d, "body");
    if (b.length === 0) {
      put(d + 1, "expr index=0");
      put(d + 2, "true");
      return;
    }
    b.forEach((e, i) => expr(e, i, d + 1));
  };
  const head = (r: Rule, value: Term | null, d: number): void => {
    put(d, "head");
    put(d + 1, "ref");
    r.head.ref.forEach((t) => term(t, d + 2));
    if (r.head.args && r.head.args.length > 0) {
      put(d + 1, "args");
      r.head.args.forEach((a) => term(a, d + 2));
    }
    if (r.head.kind !== "multi" && value) term(value, d + 1);
  };
  const rule = (r: Rule, d: number): void => {
    put(d, "rule");
    head(r, r.head.value, d + 1);
    body(r.body, d + 1);
    // else branches nest: each is a rule under the previous one.
    let depth = d + 1;
    for (const e of r.elses) {
      put(depth, "rule");
      head(r, e.value, depth + 1);
      body(e.body, depth + 1);
      depth++;
    }
  };
  put(0, "module");
  put(1, "package");
  term(m.package, 2);
  for (const im of m.imports) {
    put(1, "import");
    term(im.path, 2);
    put(2, im.alias ?? "");
  }
  for (const r of m.rules) rule(r, 1);
  if (m.annotations.length > 0 || m.rules.some((r) => r.annotations.length > 0)) put(1, "annotations");
  for (let i = 0; i < m.comments.length; i++) put(1, "comment");
  return lines.join("\n") + "\n";
}

/**
 * opa's tree printer passes string literals through Go's Sprintf as the format, so their `%`
 * verbs come out as Go prints verbs without arguments (`%s` → `%!s(MISSING)`, `%%` → `%`).
 */
function goSprintfNoArgs(f: string): string {
  let out = "";
  for (let i = 0; i < f.length; i++) {
    const c = f[i];
    if (c !== "%") {
      out += c;
      continue;
    }
    let j = i + 1;
    while (j < f.length && "+-# 0".includes(f[j])) j++;
    if (f[j] === "*") {
      out += "%!(BADWIDTH)";
      j++;
    } else while (j < f.length && /[0-9]/.test(f[j])) j++;
    if (f[j] === ".") {
      j++;
      if (f[j] === "*") {
        out += "%!(BADPREC)";
        j++;
      } else while (j < f.length && /[0-9]/.test(f[j])) j++;
    }
    if (j >= f.length) {
      out += "%!(NOVERB)";
      i = j;
      continue;
    }
    const verb = f[j];
    out += verb === "%" ? "%" : `%!${verb}(MISSING)`;
    i = j;
  }
  return out;
}

/** Go's strconv.Quote (what %q prints): printable characters as they are, others escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c === 12) out += "\\f";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c === 11) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || (c >= 0xd800 && c <= 0xdfff) || c === 0xfeff || c === 0x2028 || c === 0x2029) {
      out += c > 0xffff ? "\\U" + c.toString(16).padStart(8, "0") : "\\u" + c.toString(16).padStart(4, "0");
    } else out += ch;
  }
  return out + '"';
}
