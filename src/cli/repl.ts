// `portcullis repl`: an interactive Rego session like `opa run`'s REPL.
//
// The session keeps one module per package the user has typed rules into (default package
// `repl`); each is kept as source text (one entry per definition), so `show` can print it
// formatted and a definition can be replaced or unset. Files named with -d (or as arguments)
// are loaded as `opa run` loads them. Every change rebuilds the engine from scratch: sessions
// are small, and a rebuild keeps the state simple (and compile errors exact).
//
// What a line is, in order: a command (help, show, unset, package, import, json, pretty, exit,
// …); a single `x := …` / `x = …` (a rule definition; `input := …` sets the input document);
// a query; a rule (`p if …`, `p contains …`, `f(x) := …`, `default …`). A line that ends
// before its statement does (an open brace, a trailing operator) starts multi-line input,
// which — as in opa — ends with an empty line.

import type { Body, Module, Rule, Term } from "../rego/ast.ts";
import { parseModule, parseQuery, termString } from "../rego/parser.ts";
import { Engine, type RawResult } from "../engine/index.ts";
import { RegoError, type ErrorDetail } from "../rego/errors.ts";
import { formatSource, formatModule, parseForFormat } from "../rego/format.ts";
import { toJSONText, type Value } from "../rego/value.ts";
import { loadPaths, LoadError, type LoadedFiles } from "../load/index.ts";
import { formatResults } from "./eval.ts";
import { PACKAGE_VERSION } from "../package.ts";

export interface ReplOptions {
  /** Policy and data files or directories to load. */
  paths?: string[];
  regoVersion?: "v0" | "v1";
  strictBuiltinErrors?: boolean;
}

/** One definition typed at the prompt (the text may define several rules of one name). */
interface Entry {
  name: string;
  text: string;
  /** Complete and function rules replace earlier definitions of their name; partial ones add. */
  replaces: boolean;
  /** Definition order (for `show`, which lists the input rule among the others). */
  seq: number;
}

let seqCounter = 0;

interface ReplModule {
  pkg: string; // "repl", "a.b"
  imports: string[]; // `import …` lines
  entries: Entry[];
  /** `input := …` typed in this package: the input document for queries. */
  input: { text: string; rhs: string; seq: number } | null;
  /** Switched to or defined in (`show` says "no rules defined" before that). */
  created: boolean;
}

const REPL_FILE = (pkg: string) => `repl:${pkg}`;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

const PKG_VERSION = PACKAGE_VERSION;

export const BANNER = `Portcullis ${PKG_VERSION} (Rego REPL)\n\nRun 'help' to see a list of commands.\n\n`;

const HELP = `
Examples
========

> data                 # show all documents
> data[x] = _          # show all top level keys
> data.system.version  # drill into specific document

Commands
========

                       <stmt> : evaluate the statement
               package <term> : change active package
                import <term> : add import to active module
                        show  : show active module definition
                  show debug  : show REPL settings
                  unset <var> : unset rules in currently active module
          unset-package <var> : unset packages in currently active module
                         json : set output format to JSON
                       pretty : set output format to pretty
        strict-builtin-errors : toggle strict built-in error mode
                 help [topic] : print this message
                         exit : exit out of shell (or ctrl+d)

Multi-line input: a line that leaves a statement open (an open brace, a trailing
operator) continues on the next lines; an empty line ends it.

Additional Topics
=================

                   help input : how to set input document
`;

const HELP_INPUT = `
Input document
==============

Define a rule named input in the current package to set the input document:

> input := {"user": "alice", "method": "GET"}
> input = data.mock.allowed

Queries then see it as input. 'unset input' removes it.
`;

export class Repl {
  private modules = new Map<string, ReplModule>();
  private current = "repl";
  private format: "pretty" | "json" = "pretty";
  private strictBuiltinErrors: boolean;
  private regoVersion: "v0" | "v1";
  private files: LoadedFiles = { modules: [], data: [] };
  private engine: Engine | null = null;
  /** Lines of a multi-line statement being typed. */
  private buffer: string[] = [];

  constructor(
    private opts: ReplOptions,
    private out: (s: string) => void,
  ) {
    this.regoVersion = opts.regoVersion ?? "v1";
    this.strictBuiltinErrors = opts.strictBuiltinErrors ?? false;
    this.modules.set("repl", { pkg: "repl", imports: [], entries: [], input: null, created: false });
  }

  /** Load (or reload) the files; throws LoadError/RegoError for the caller to report. */
  load(): void {
    const files = loadPaths(this.opts.paths ?? []);
    const prev = this.files;
    this.files = files;
    try {
      this.build();
    } catch (e) {
      this.files = prev;
      this.engine = null;
      throw e;
    }
  }

  /** The prompt for the next line ("> ", or "| " inside multi-line input). */
  prompt(): string {
    return this.buffer.length > 0 ? "| " : "> ";
  }

  get inMultiLine(): boolean {
    return this.buffer.length > 0;
  }

  /** Drop a partly typed multi-line statement (Ctrl-C). */
  cancel(): void {
    this.buffer = [];
  }

  /** Handle one line of input; resolves to "exit" when the session should end. */
  async line(text: string): Promise<"exit" | undefined> {
    if (this.buffer.length > 0) {
      if (text.trim() !== "") {
        this.buffer.push(text);
        return;
      }
      const src = this.buffer.join("\n");
      this.buffer = [];
      await this.statement(src, true);
      return;
    }
    const t = text.trim();
    if (t === "") return;
    const [cmd, ...args] = t.split(/\s+/);
    switch (cmd) {
      case "exit":
      case "quit":
        if (args.length === 0) return "exit";
        break;
      case "help":
        this.out(args[0] === "input" ? HELP_INPUT : HELP);
        return;
      case "show":
        if (args.length === 0) return void this.show();
        if (args[0] === "debug" && args.length === 1) return void this.showDebug();
        break;
      case "json":
      case "pretty":
        if (args.length === 0) {
          this.format = cmd;
          return;
        }
        break;
      case "strict-builtin-errors":
        if (args.length === 0) {
          this.strictBuiltinErrors = !this.strictBuiltinErrors;
          return;
        }
        break;
      case "trace":
      case "notes":
      case "fails":
      case "metrics":
      case "instrument":
      case "profile":
      case "types":
      case "unknown":
      case "pretty-limit":
      case "dump":
      case "target":
        this.out(`error: the ${cmd} command is not supported by portcullis\n`);
        return;
      case "unset":
        return void this.unset(args);
      case "unset-package":
        return void this.unsetPackage(args);
      case "package":
      case "import":
        // (opa takes a package or import it cannot read for the start of multi-line input.)
        if (!this.parses(cmd === "package" ? `${t}\n` : `package repl\n\n${t}\n`)) {
          this.buffer = [text];
          return;
        }
        if (cmd === "package") return void this.setPackage(t.slice("package".length).trim());
        return void this.addImport(t);
    }
    await this.statement(text, false);
  }

  // ---- commands --------------------------------------------------------------------------------

  private parses(src: string): boolean {
    try {
      parseModule("", src, { regoVersion: this.regoVersion });
      return true;
    } catch {
      return false;
    }
  }

  private mod(): ReplModule {
    let m = this.modules.get(this.current);
    if (!m) this.modules.set(this.current, (m = { pkg: this.current, imports: [], entries: [], input: null, created: true }));
    return m;
  }

  /**
   * The module's source. For compiling in v0 mode the future keywords are imported (not shown):
   * `if`, `contains`, `in` and `every` work at the prompt whatever the Rego version.
   */
  private moduleSource(m: ReplModule, entries = m.entries, imports = m.imports, forBuild = false): string {
    const parts = [`package ${m.pkg}`];
    if (forBuild && this.regoVersion === "v0") parts.push("import future.keywords");
    if (imports.length) parts.push(imports.join("\n"));
    for (const e of entries) parts.push(e.text);
    return parts.join("\n\n") + "\n";
  }

  private show(): void {
    const m = this.mod();
    if (!m.created && m.entries.length === 0 && m.imports.length === 0 && !m.input) return void this.out("no rules defined\n");
    const entries = m.input ? [...m.entries, { name: "input", text: m.input.text, replaces: true, seq: m.input.seq }] : [...m.entries];
    entries.sort((a, b) => a.seq - b.seq);
    let text: string;
    try {
      if (this.regoVersion === "v0") {
        // Parsed with the future keywords the prompt allows, printed as v0 (as opa shows it).
        const src = this.moduleSource(m, entries, m.imports, true);
        const mod = parseForFormat(REPL_FILE(m.pkg), src, "v0");
        mod.imports = mod.imports.filter((im) => termString(im.path) !== "future.keywords");
        text = formatModule(mod, src, { regoVersion: "v0" });
      } else text = formatSource(REPL_FILE(m.pkg), this.moduleSource(m, entries), { parseVersion: "v1" });
    } catch {
      text = this.moduleSource(m, entries);
    }
    this.out(text.replace(/\n+$/, "") + "\n");
  }

  private showDebug(): void {
    const settings = {
      explain: "off",
      metrics: false,
      instrument: false,
      profile: false,
      "strict-builtin-errors": this.strictBuiltinErrors,
    };
    this.out(JSON.stringify(settings, null, "\t") + "\n");
  }

  private unset(args: string[]): void {
    if (args.length !== 1) return void this.out("code bad arguments: unset <var>: expects exactly one argument\n");
    const name = args[0];
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name)) return void this.out("code bad arguments: arguments must identify a rule\n");
    const m = this.mod();
    if (name === "input" && m.input) {
      m.input = null;
      this.engine = null;
      return;
    }
    const keep = m.entries.filter((e) => e.name !== name && !e.name.startsWith(name + "."));
    if (keep.length === m.entries.length) return void this.out("warning: no matching rules in current module\n");
    m.entries = keep;
    this.engine = null;
  }

  private unsetPackage(args: string[]): void {
    if (args.length !== 1) return void this.out("code bad arguments: unset-package <var>: expects exactly one argument\n");
    const pkg = args[0].replace(/^data\./, "");
    const m = this.modules.get(pkg);
    if (!m || (m.entries.length === 0 && m.imports.length === 0 && !m.input)) return void this.out("warning: no matching package\n");
    this.modules.delete(pkg);
    this.engine = null;
  }

  private setPackage(path: string): void {
    try {
      const m = parseModule("", `package ${path}\n`, { regoVersion: this.regoVersion });
      const parts = m.package.terms.slice(1).map((t) => (t.type === "string" ? t.value : termString(t)));
      // (Segments that are not identifiers keep the quoted form `package` accepts.)
      this.current = parts.map((p, i) => (IDENT.test(p) ? (i === 0 ? p : "." + p) : `[${JSON.stringify(p)}]`)).join("");
      this.mod().created = true;
    } catch (e) {
      this.printError(e, null);
    }
  }

  private addImport(line: string): void {
    const m = this.mod();
    const src = `package ${m.pkg}\n\n${line}\n`;
    try {
      const parsed = parseModule(REPL_FILE(m.pkg), src, { regoVersion: this.regoVersion });
      if (parsed.imports.length !== 1 || parsed.rules.length !== 0) throw RegoError.single("rego_parse_error", "expected one import", { file: "", row: 1, col: 1 });
    } catch (e) {
      this.printError(e, { row0: 3, file: REPL_FILE(m.pkg) }, line);
      return;
    }
    if (m.imports.includes(line)) return;
    const imports = [...m.imports, line];
    if (!this.tryBuild(m, m.entries, imports, (this.regoVersion === "v0" ? 5 : 3) + m.imports.length)) return;
    m.imports = imports;
    m.created = true;
  }

  // ---- statements -----------------------------------------------------------------------------

  private async statement(src: string, multiLine: boolean): Promise<void> {
    // A package or import (typed over several lines, or not readable on one).
    const kw = /^\s*(package|import)\b/.exec(src)?.[1];
    if (kw) {
      const text = src.trim();
      if (kw === "package") {
        try {
          parseModule("", text + "\n", { regoVersion: this.regoVersion });
        } catch (e) {
          return void this.printError(e, { row0: 1, file: "" }, src);
        }
        return void this.setPackage(text.slice("package".length).trim());
      }
      return void this.addImport(text);
    }
    let body: Body | null = null;
    let queryError: RegoError | null = null;
    try {
      body = parseQuery(src, { regoVersion: "v1", file: "" });
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      queryError = e;
    }
    if (body) {
      const def = this.asDefinition(body, src);
      if (def === "error") return;
      if (def) return void this.define(def.text, def.name, def.input);
      return this.query(src, body);
    }
    // Not a query: rules.
    const m = this.mod();
    const hidden = this.regoVersion === "v0" ? "import future.keywords\n\n" : "";
    const header = `package ${m.pkg}\n\n${hidden}${m.imports.length ? m.imports.join("\n") + "\n\n" : ""}`;
    const row0 = header.split("\n").length;
    let parsed: Module | null = null;
    let moduleError: RegoError | null = null;
    try {
      parsed = parseModule(REPL_FILE(m.pkg), header + src + "\n", { regoVersion: this.regoVersion });
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      moduleError = e;
    }
    if (parsed && parsed.rules.length > 0 && parsed.imports.length === m.imports.length + (hidden ? 1 : 0)) {
      return void this.defineRules(src, parsed.rules);
    }
    const eof = (e: RegoError | null) => !!e && e.errors.some((x) => /unexpected eof|non-terminated/.test(x.message));
    if (!multiLine && (eof(queryError) || eof(moduleError))) {
      this.buffer = [src];
      return;
    }
    // Report whichever reading got further into the input.
    const at = (e: RegoError | null, shift: number) => {
      const l = e?.errors[0]?.location;
      return l ? (l.row - shift) * 1e6 + l.col : -1;
    };
    if (moduleError && at(moduleError, row0 - 1) > at(queryError, 0)) this.printError(moduleError, { row0, file: REPL_FILE(m.pkg) }, src);
    else this.printError(queryError ?? moduleError, null, src);
  }

  /** `x := …` / `x = …` on its own defines a rule x (`input` sets the input document). */
  private asDefinition(body: Body, src: string): { name: string; text: string; input: boolean } | "error" | null {
    if (body.length !== 1) return null;
    const e = body[0];
    const n = e.node;
    if (n.type !== "call" || e.negated) return null;
    const op = n.op.terms.length === 1 && n.op.terms[0].type === "var" ? n.op.terms[0].name : "";
    if ((op !== "assign" && op !== "eq") || n.args.length !== 2) return null;
    if (e.with.length > 0) {
      const l = n.args[0];
      if (l.type === "var" || (l.type === "ref" && l.terms.length === 1)) {
        this.out("expressions using with keyword cannot be used for rule head\n");
        return "error";
      }
      return null;
    }
    let lhs: Term = n.args[0];
    if (lhs.type === "ref" && lhs.terms.length === 1) lhs = lhs.terms[0];
    if (lhs.type !== "var") {
      if (op === "assign" && (lhs.type === "array" || lhs.type === "object")) {
        this.out(`${lhs.type} cannot be used for rule name\n`);
        return "error";
      }
      return null;
    }
    if (lhs.name === "_" || lhs.name.startsWith("$")) return null;
    const text = src.trim();
    if (lhs.name === "input") {
      // The text after the operator.
      const m = /^input\s*:?=\s*([\s\S]*)$/.exec(text);
      return m ? { name: "input", text, input: true } : null;
    }
    return { name: lhs.name, text, input: false };
  }

  private define(text: string, name: string, input: boolean): void {
    const m = this.mod();
    if (input) {
      const rhs = /^input\s*:?=\s*([\s\S]*)$/.exec(text)![1];
      const prev = m.input;
      m.input = { text, rhs, seq: prev?.seq ?? seqCounter++ };
      this.engine = null;
      // Check the value can be computed now (reports unsafe variables and such).
      try {
        this.inputValue();
      } catch (e) {
        m.input = prev;
        this.printError(e, null, text);
        return;
      }
      this.out(`Rule 'input' ${prev ? "re-defined" : "defined"} in package ${m.pkg}. Type 'show' to see rules.\n`);
      return;
    }
    this.defineEntries(m, [{ name, text, replaces: true, seq: seqCounter++ }], text);
  }

  private defineRules(text: string, rules: Rule[]): void {
    const m = this.mod();
    const names = [...new Set(rules.map(ruleName))];
    const replaces = rules.every((r) => r.head.kind !== "multi" && !(r.head.kind === "single" && r.head.ref.length > 1 && r.head.ref[r.head.ref.length - 1].type !== "string"));
    if (names.length === 1 && !rules.some((r) => r.isDefault)) {
      this.defineEntries(m, [{ name: names[0], text: text.trim(), replaces, seq: seqCounter++ }], text);
      return;
    }
    this.defineEntries(m, [{ name: names[0], text: text.trim(), replaces: false, seq: seqCounter++ }], text);
  }

  private defineEntries(m: ReplModule, add: Entry[], src: string): void {
    let entries = m.entries;
    const messages: string[] = [];
    for (const e of add) {
      const existed = entries.some((x) => x.name === e.name);
      if (e.replaces && existed) entries = entries.filter((x) => x.name !== e.name);
      entries = [...entries, e];
      messages.push(`Rule '${e.name}' ${e.replaces && existed ? "re-defined" : "defined"} in package ${m.pkg}. Type 'show' to see rules.\n`);
    }
    // Rows of the new text in the module source, for error positions.
    const before = this.moduleSource(m, entries.slice(0, -1), m.imports, true);
    const row0 = before.split("\n").length + 1;
    if (!this.tryBuild(m, entries, m.imports, row0, src)) return;
    m.entries = entries;
    m.created = true;
    if (this.format === "pretty") for (const msg of messages) this.out(msg);
  }

  /** Compile with a candidate module; on errors, report them and keep the previous state. */
  private tryBuild(m: ReplModule, entries: Entry[], imports: string[], row0: number, src?: string): boolean {
    const saved = { entries: m.entries, imports: m.imports };
    m.entries = entries;
    m.imports = imports;
    try {
      this.build();
      return true;
    } catch (e) {
      m.entries = saved.entries;
      m.imports = saved.imports;
      this.engine = null;
      this.printError(e, { row0, file: REPL_FILE(m.pkg) }, src);
      return false;
    }
  }

  private build(): void {
    const engine = new Engine({
      regoVersion: this.regoVersion,
      strictBuiltinErrors: this.strictBuiltinErrors,
      print: (line) => this.out(line + "\n"),
    });
    const modules = [...this.files.modules];
    for (const m of this.modules.values()) {
      if (!m.created && m.entries.length === 0) continue; // (a package typed into exists, even when empty)
      modules.push({ file: REPL_FILE(m.pkg), source: this.moduleSource(m, m.entries, m.imports, true) });
    }
    engine.addModules(modules);
    engine.compile();
    for (const d of this.files.data) engine.addData(d.value, d.path);
    this.engine = engine;
  }

  private getEngine(): Engine {
    if (!this.engine) this.build();
    return this.engine!;
  }

  // ---- queries --------------------------------------------------------------------------------

  /** Names a query in the current package resolves: its rules (typed or loaded) and imports. */
  private scope(m: ReplModule = this.mod()): Map<string, string> {
    const pkgRef = "data." + m.pkg.split(".").map((p) => (IDENT.test(p) ? p : JSON.stringify(p))).join(".");
    const out = new Map<string, string>();
    const pkgKey = m.pkg;
    const add = (mod: Module) => {
      const path = mod.package.terms.slice(1).map((t) => (t.type === "string" ? t.value : termString(t))).join(".");
      if (path !== pkgKey) return;
      for (const r of mod.rules) {
        const n = r.head.ref[0];
        if (n.type === "var") out.set(n.name, `${pkgRef}.${n.name}`);
      }
    };
    for (const f of this.files.modules) {
      try {
        add(parseModule(f.file, f.source, { regoVersion: this.regoVersion }));
      } catch {
        /* reported when loading */
      }
    }
    for (const e of m.entries) out.set(e.name.split(".")[0], `${pkgRef}.${e.name.split(".")[0]}`);
    // Imports come last: they take precedence, as in a module.
    if (m.imports.length) {
      try {
        const parsed = parseModule("", `package ${m.pkg}\n\n${m.imports.join("\n")}\n`, { regoVersion: this.regoVersion });
        for (const im of parsed.imports) {
          const ts = im.path.terms;
          const head = ts[0];
          if (head.type !== "var" || (head.name !== "data" && head.name !== "input")) continue;
          const last = ts[ts.length - 1];
          const alias = im.alias ?? (ts.length === 1 ? head.name : last.type === "string" ? last.value : null);
          if (alias) out.set(alias, termString(im.path));
        }
      } catch {
        /* imports were checked when added */
      }
    }
    return out;
  }

  /** The query with package rules and import aliases spelled out as refs (OPA resolves them so). */
  private rewrite(src: string, body: Body, m: ReplModule = this.mod()): { text: string; shifts: { row: number; col: number; by: number }[] } {
    const scope = this.scope(m);
    const local = new Set<string>();
    const declare = (t: Term | null) => {
      if (!t) return;
      if (t.type === "var") local.add(t.name);
      else if (t.type === "ref" && t.terms.length === 1 && t.terms[0].type === "var") local.add(t.terms[0].name);
      else if (t.type === "array") t.items.forEach(declare);
      else if (t.type === "object") t.items.forEach(([, v]) => declare(v));
    };
    const spots: { row: number; col: number; len: number; text: string }[] = [];
    const visitBody = (b: Body) => {
      for (const e of b) {
        const n = e.node;
        if (n.type === "call" && n.op.terms.length === 1 && n.op.terms[0].type === "var" && n.op.terms[0].name === "assign") declare(n.args[0]);
        if (n.type === "some") n.vars.forEach(declare);
        if (n.type === "somein") (declare(n.key), declare(n.value));
        if (n.type === "every") (declare(n.key), declare(n.value));
      }
    };
    const visitTerm = (t: Term | null): void => {
      if (!t) return;
      switch (t.type) {
        case "var":
          if (!local.has(t.name) && scope.has(t.name)) spots.push({ row: t.loc.row, col: t.loc.col, len: t.name.length, text: scope.get(t.name)! });
          return;
        case "ref":
          // The head and composite operands; variables in operands stay variables (as in opa,
          // `data[x]` enumerates even when a rule x exists).
          return t.terms.forEach((x, i) => (i === 0 || (x.type !== "string" && x.type !== "var") ? visitTerm(x) : undefined));
        case "array":
        case "set":
          return t.items.forEach(visitTerm);
        case "object":
          return t.items.forEach(([k, v]) => (visitTerm(k), visitTerm(v)));
        case "call":
          visitTerm(t.op);
          return t.args.forEach(visitTerm);
        case "arraycomp":
        case "setcomp":
          visitBody(t.body);
          visitTerm(t.head);
          return exprs(t.body);
        case "objectcomp":
          visitBody(t.body);
          visitTerm(t.key);
          visitTerm(t.value);
          return exprs(t.body);
      }
    };
    const exprs = (b: Body) => {
      for (const e of b) {
        const n = e.node;
        if (n.type === "term") visitTerm(n.term);
        else if (n.type === "call") {
          visitTerm(n.op);
          n.args.forEach(visitTerm);
        } else if (n.type === "somein") (visitTerm(n.key), visitTerm(n.value), visitTerm(n.collection));
        else if (n.type === "every") {
          visitTerm(n.domain);
          visitBody(n.body);
          exprs(n.body);
        }
        for (const w of e.with) {
          const t0 = w.target.terms[0];
          // A with target naming a package rule is that rule's data path.
          if (t0.type === "var" && t0.name !== "input" && t0.name !== "data" && scope.has(t0.name) && scope.get(t0.name)!.startsWith("data.")) visitTerm(t0);
          visitTerm(w.value);
        }
      }
    };
    visitBody(body);
    exprs(body);
    const lines = src.split("\n");
    const shifts: { row: number; col: number; by: number }[] = [];
    // Splice from the end of each line so earlier columns stay valid.
    spots.sort((a, b) => b.row - a.row || b.col - a.col);
    for (const s of spots) {
      const line = lines[s.row - 1];
      const i = [...line].slice(0, s.col - 1).join("").length;
      lines[s.row - 1] = line.slice(0, i) + s.text + line.slice(i + s.len);
      shifts.push({ row: s.row, col: s.col, by: s.text.length - s.len });
    }
    return { text: lines.join("\n"), shifts };
  }

  private inputValue(): unknown {
    // The input rule of the current package, else one defined in another package (opa keeps
    // using it after `package` switches).
    let m = this.mod();
    if (!m.input) {
      const other = [...this.modules.values()].find((x) => x.input);
      if (!other) return undefined;
      m = other;
    }
    if (!m.input) return undefined;
    const body = parseQuery(m.input.rhs, { regoVersion: "v1", file: "" });
    const { text } = this.rewrite(m.input.rhs, body, m);
    const rs = this.getEngine().queryRaw(text, { strictBuiltinErrors: this.strictBuiltinErrors });
    if (rs instanceof Promise) throw RegoError.single("rego_compile_error", "input cannot be computed with I/O builtins");
    if (rs.length === 0) return undefined;
    const vals = new Set(rs.map((r) => toJSONText(r.expressions[0])));
    if (vals.size > 1) throw RegoError.single("eval_conflict_error", "complete rules must not produce multiple outputs", { file: "", row: 1, col: 1 });
    return JSON.parse(toJSONText(rs[0].expressions[0]));
  }

  private async query(src: string, body: Body): Promise<void> {
    const { text, shifts } = this.rewrite(src, body);
    let raw: RawResult[];
    try {
      const input = this.inputValue();
      raw = await this.getEngine().queryRaw(text, { input, strictBuiltinErrors: this.strictBuiltinErrors });
    } catch (e) {
      this.printError(e, null, src, shifts);
      return;
    }
    const texts = exprTexts(src, body);
    if (this.format === "json") {
      this.out(formatResults(raw, texts, "json"));
      return;
    }
    this.out(prettyResults(raw, texts));
  }

  // ---- errors ---------------------------------------------------------------------------------

  /**
   * Print an error as opa's REPL does: `row:col: code: message` for what was typed (rows
   * counted in the typed text), `file:row: code: message` for errors in loaded files.
   */
  private printError(e: unknown, at: { row0: number; file: string } | null, src?: string, shifts: { row: number; col: number; by: number }[] = []): void {
    if (e instanceof LoadError) return void this.out(`error: ${e.message}\n`);
    if (!(e instanceof RegoError)) {
      this.out(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      return;
    }
    const lines = (src ?? "").split("\n");
    const fmt = (x: ErrorDetail): string => {
      const l = x.location;
      let where = "";
      let detail = "";
      if (l) {
        const typed = l.file === "" || l.file === "query" || (at !== null && l.file === at.file);
        if (typed) {
          const row = at && l.file === at.file ? l.row - at.row0 + 1 : l.row;
          let col = l.col;
          for (const s of shifts) if (s.row === row && col > s.col) col = Math.max(s.col, col - s.by);
          where = `${row}:${col}: `;
          if (x.code === "rego_parse_error") {
            // At the end of input (column 0), opa points at the last character typed.
            let r = row;
            let c = col;
            if (c === 0) {
              r = row - 1;
              while (r > 1 && (lines[r - 1] ?? "").trim() === "") r--;
              c = (lines[r - 1] ?? "").length;
            }
            const line = lines[r - 1];
            if (line !== undefined && r >= 1) {
              const trimmed = line.replace(/^\t+/, "");
              detail = `\n\t${trimmed}\n\t${" ".repeat(Math.max(0, c - 1 - (line.length - trimmed.length)))}^`;
            }
          }
        } else where = `${l.file}:${l.row}: `;
      }
      return `${where}${x.code}: ${x.message}${detail}`;
    };
    // Of syntax errors, opa's parser reports the first.
    const errs = e.errors[0]?.code === "rego_parse_error" && !/keyword is required/.test(e.errors[0].message) ? e.errors.slice(0, 1) : e.errors;
    if (errs.length === 1) this.out(`1 error occurred: ${fmt(errs[0])}\n`);
    else this.out(`${errs.length} errors occurred:\n${errs.map(fmt).join("\n")}\n`);
  }

  /** Report a load/compile failure (for -w reloads and startup). */
  reportError(e: unknown): void {
    this.printError(e, null);
  }
}

function ruleName(r: Rule): string {
  const parts: string[] = [];
  for (const t of r.head.ref) {
    if (t.type === "var" && parts.length === 0) parts.push(t.name);
    else if (t.type === "string" && IDENT.test(t.value)) parts.push(t.value);
    else break;
  }
  return parts.join(".");
}

/** Source text of each expression of a query (as opa shows them in table headers and JSON). */
function exprTexts(src: string, body: Body): { text: string; row: number; col: number }[] {
  const lines = src.split("\n");
  const offset = (row: number, col: number) => {
    let o = 0;
    for (let r = 1; r < row; r++) o += lines[r - 1].length + 1;
    return o + [...lines[row - 1]].slice(0, col - 1).join("").length;
  };
  return body.map((e, i) => {
    const start = offset(e.loc.row, e.loc.col);
    const end = i + 1 < body.length ? offset(body[i + 1].loc.row, body[i + 1].loc.col) : src.length;
    return { text: src.slice(start, end).replace(/[\s;]+$/, ""), row: e.loc.row, col: e.loc.col };
  });
}

/**
 * opa's REPL output: `undefined`; a single value as indented JSON; otherwise a table with a
 * column per variable and per expression whose value is not `true`.
 */
export function prettyResults(raw: RawResult[], texts: { text: string }[]): string {
  if (raw.length === 0) return "undefined\n";
  const vars: string[] = [];
  for (const r of raw) for (const k of r.bindings.keys()) if (!vars.includes(k)) vars.push(k);
  const exprCols: number[] = [];
  texts.forEach((_, i) => {
    if (raw.some((r) => r.expressions[i] !== true)) exprCols.push(i);
  });
  if (vars.length === 0) {
    if (raw.length === 1 && texts.length === 1) return toJSONText(raw[0].expressions[0], "  ") + "\n";
    if (raw.length === 1 && exprCols.length === 0) return "true\n";
    // Several solutions without variables: every expression gets a column.
    if (raw.length > 1) exprCols.splice(0, exprCols.length, ...texts.map((_, i) => i));
  }
  const head = [...vars, ...exprCols.map((i) => texts[i].text)];
  const cell = (v: Value | undefined) => (v === undefined ? "" : toJSONText(v));
  const rows = raw.map((r) => [...vars.map((v) => cell(r.bindings.get(v))), ...exprCols.map((i) => cell(r.expressions[i]))]);
  if (head.length === 0) return "true\n";
  return table(head, rows);
}

function width(s: string): number {
  return [...s].length;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i]))));
  const line = (l: string, m: string, r: string) => l + widths.map((w) => "─".repeat(w + 2)).join(m) + r;
  const center = (s: string, w: number) => {
    const left = Math.floor((w - width(s)) / 2);
    return " ".repeat(left) + s + " ".repeat(w - width(s) - left);
  };
  const out = [line("┌", "┬", "┐"), "│" + head.map((h, i) => " " + center(h, widths[i]) + " ").join("│") + "│", line("├", "┼", "┤")];
  for (const r of rows) out.push("│" + r.map((c, i) => " " + c + " ".repeat(widths[i] - width(c)) + " ").join("│") + "│");
  out.push(line("└", "┴", "┘"));
  return out.join("\n") + "\n";
}
