// The playground page: CodeMirror editors for the policy, the input and the data, a query box,
// the mode (eval, conftest, Gatekeeper), examples, fmt/check, share links, and the output of the
// engine, which runs in a Web Worker (./worker.ts) with a deadline: a policy that does not finish
// in time has its worker terminated and replaced, and the page stays responsive.
// Nothing is sent anywhere: the page loads its files and from then on makes no request.

import { EditorView, basicSetup } from "codemirror";
import { EditorState, Compartment, type Extension } from "@codemirror/state";
import { setDiagnostics, lintGutter, type Diagnostic } from "@codemirror/lint";
import { json } from "@codemirror/lang-json";
import { yaml } from "@codemirror/lang-yaml";
import { rego } from "./rego-language.ts";
import { EXAMPLES } from "./examples.ts";
import { encodeState, decodeState } from "./share.ts";
import { FORMATS } from "./formats.ts";
import type { Answer, Marker, Mode, State } from "./api.ts";

/** How long an evaluation may take (the engine's deadline); `?deadline=MS` in the page's URL changes it. */
const DEADLINE_MS = Math.max(100, Number(new URLSearchParams(location.search).get("deadline")) || 5000);
/** After the deadline, how long the engine gets to stop by itself before its worker is terminated. */
const GRACE_MS = 1000;
/** How long the worker may take to load the engine. */
const LOAD_TIMEOUT_MS = 30_000;
/** Quiet time after an edit before the live evaluation. */
const DEBOUNCE_MS = 300;


const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

type Outcome = { kind: "done"; result: unknown } | { kind: "error"; message: string } | { kind: "stopped" };

/** The engine's worker, replaced when it overruns its deadline. */
class Engine {
  private worker!: Worker;
  /** Settles when the worker has loaded the engine (the deadline counts from then) or failed to. */
  private ready!: Promise<void>;
  private markReady!: () => void;
  private seq = 0;
  private pending: { id: number; resolve: (o: Outcome) => void; timer: ReturnType<typeof setTimeout> } | undefined;
  restarts = 0;

  constructor() {
    this.start();
  }

  private start(): void {
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.worker.onmessage = (e: MessageEvent<Reply | { ready: true }>) => {
      const m = e.data;
      if ("ready" in m) return this.markReady();
      const p = this.pending;
      if (!p || p.id !== m.id) return;
      clearTimeout(p.timer);
      this.pending = undefined;
      p.resolve(m.ok ? { kind: "done", result: m.result } : { kind: "error", message: m.error ?? "unknown error" });
    };
    this.worker.onerror = (e) => {
      this.markReady();
      const p = this.pending;
      if (!p) return;
      clearTimeout(p.timer);
      this.pending = undefined;
      this.restart();
      p.resolve({ kind: "error", message: `the engine stopped: ${e.message}` });
    };
  }

  private restart(): void {
    this.worker.terminate();
    this.restarts++;
    this.start();
  }

  /** One call at a time: the page waits for the answer (or the deadline) before the next. */
  async call(op: "run" | "fmt" | "check", state: State): Promise<Outcome> {
    const id = ++this.seq;
    const loaded = await Promise.race([this.ready.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), LOAD_TIMEOUT_MS))]);
    if (!loaded) {
      this.restart();
      return { kind: "error", message: `the engine did not load within ${LOAD_TIMEOUT_MS / 1000} s` };
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        this.pending = undefined;
        this.restart();
        resolve({ kind: "stopped" });
      }, DEADLINE_MS + GRACE_MS);
      this.pending = { id, resolve, timer };
      this.worker.postMessage({ id, op, state, deadlineMs: DEADLINE_MS });
    });
  }
}

function editor(parent: HTMLElement, lang: Compartment, language: Extension, onChange: () => void, label: string): EditorView {
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: "",
      extensions: [
        basicSetup,
        lintGutter(),
        lang.of(language),
        EditorView.updateListener.of((u) => u.docChanged && onChange()),
        EditorView.contentAttributes.of({ "aria-label": label }),
      ],
    }),
  });
}

function setText(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

function inputLanguage(format: string, filename: string): Extension {
  if (format === "json" || format === "jsonc" || format === "cyclonedx" || format === "spdx") return json();
  if (format === "yaml") return yaml();
  if (format === "auto" && /\.(ya?ml)$/i.test(filename)) return yaml();
  if (format === "auto" && /\.json$/i.test(filename)) return json();
  return [];
}

function main(): void {
  const engine = new Engine();
  const policyLang = new Compartment();
  const inputLang = new Compartment();
  const dataLang = new Compartment();
  let mode: Mode = "eval";
  let loading = false;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;
  // Read by tests and shown nowhere: time to the first answer, answers so far, worker restarts, the panes.
  const stats = { firstEvalMs: undefined as number | undefined, evaluations: 0, restarts: 0, state: (): State => state() };
  (window as unknown as { __playground: typeof stats }).__playground = stats;

  const changed = () => {
    if (loading) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => void evaluate(), DEBOUNCE_MS);
  };
  const policy = editor($("policy"), policyLang, rego, changed, "policy");
  const input = editor($("input"), inputLang, json(), changed, "input");
  const data = editor($("data"), dataLang, json(), changed, "data");
  const query = $<HTMLInputElement>("query");
  const format = $<HTMLSelectElement>("format");
  const filename = $<HTMLInputElement>("filename");
  const output = $("output");
  const status = $("status");
  const prints = $("prints");
  query.addEventListener("input", changed);
  filename.addEventListener("input", () => {
    inputLangUpdate();
    changed();
  });
  for (const f of FORMATS) format.add(new Option(f, f));
  format.addEventListener("change", () => {
    inputLangUpdate();
    changed();
  });

  function inputLangUpdate(): void {
    input.dispatch({ effects: inputLang.reconfigure(mode === "gatekeeper" ? yaml() : inputLanguage(format.value, filename.value)) });
  }

  function state(): State {
    return { mode, policy: policy.state.doc.toString(), input: input.state.doc.toString(), format: format.value, filename: filename.value, data: data.state.doc.toString(), query: query.value };
  }

  function setMode(m: Mode): void {
    mode = m;
    document.body.dataset.mode = m;
    for (const b of document.querySelectorAll<HTMLButtonElement>("#modes button")) b.setAttribute("aria-pressed", String(b.dataset.mode === m));
    $("input-title").textContent = m === "eval" ? "Input" : m === "test" ? "Configuration file" : "Objects to review (YAML)";
    $("data-title").textContent = m === "gatekeeper" ? "ConstraintTemplates and Constraints (YAML)" : "Data (JSON or YAML)";
    data.dispatch({ effects: dataLang.reconfigure(m === "gatekeeper" ? yaml() : json()) });
    inputLangUpdate();
  }

  function load(s: State): void {
    loading = true;
    setMode(s.mode);
    setText(policy, s.policy);
    setText(input, s.input);
    setText(data, s.data);
    query.value = s.query;
    format.value = FORMATS.includes(s.format) ? s.format : "auto";
    filename.value = s.filename;
    inputLangUpdate();
    loading = false;
  }

  function mark(markers: Marker[]): void {
    const doc = policy.state.doc;
    const diagnostics: Diagnostic[] = markers.map((m) => {
      const line = doc.line(Math.min(Math.max(1, m.row), doc.lines));
      const from = Math.min(line.from + Math.max(0, m.col - 1), line.to);
      return { from, to: Math.max(from, line.to), severity: "error", message: m.message };
    });
    policy.dispatch(setDiagnostics(policy.state, diagnostics));
    $("markers").textContent = markers.map((m) => `policy.rego:${m.row}:${m.col}: ${m.message}`).join("\n");
  }

  function show(a: Answer): void {
    output.textContent = a.stdout + a.stderr;
    prints.textContent = a.prints.join("\n");
    status.textContent = `exit ${a.exitCode} · ${a.ms} ms`;
    status.dataset.state = a.exitCode === 0 ? "ok" : "fail";
    mark(a.markers);
  }

  function stopped(): void {
    output.textContent = `stopped: the evaluation did not finish within ${DEADLINE_MS} ms; its worker was terminated and a new one started.\n`;
    prints.textContent = "";
    status.textContent = "stopped (deadline)";
    status.dataset.state = "fail";
    stats.restarts = engine.restarts;
  }

  async function evaluate(): Promise<void> {
    if (running) {
      again = true;
      return;
    }
    running = true;
    status.textContent = "evaluating…";
    status.dataset.state = "busy";
    try {
      const o = await engine.call("run", state());
      if (o.kind === "stopped") stopped();
      else if (o.kind === "error") {
        output.textContent = o.message + "\n";
        status.textContent = "error";
        status.dataset.state = "fail";
      } else {
        show(o.result as Answer);
        stats.evaluations++;
        // From the start of the navigation (performance.now()'s origin) to the first answer shown.
        stats.firstEvalMs ??= Math.round(performance.now());
      }
    } finally {
      running = false;
      if (again) {
        again = false;
        void evaluate();
      }
    }
  }

  $("run").addEventListener("click", () => void evaluate());
  $("fmt").addEventListener("click", async () => {
    const o = await engine.call("fmt", state());
    if (o.kind !== "done") return o.kind === "stopped" ? stopped() : void (output.textContent = o.message);
    const r = o.result as { formatted?: string; error?: string; markers: Marker[] };
    if (r.formatted !== undefined) {
      if (r.formatted !== policy.state.doc.toString()) setText(policy, r.formatted);
      status.textContent = "formatted";
      status.dataset.state = "ok";
    } else {
      output.textContent = r.error ?? "";
      status.textContent = "fmt: the policy does not parse";
      status.dataset.state = "fail";
    }
    mark(r.markers);
  });
  $("check").addEventListener("click", async () => {
    const o = await engine.call("check", state());
    if (o.kind !== "done") return o.kind === "stopped" ? stopped() : void (output.textContent = o.message);
    const a = o.result as Answer;
    show(a);
    if (a.exitCode === 0) output.textContent = "check: no errors\n";
  });
  $("share").addEventListener("click", async () => {
    const fragment = await encodeState(state());
    const url = `${location.origin}${location.pathname}${location.search}#${fragment}`;
    history.replaceState(null, "", `#${fragment}`);
    const box = $<HTMLInputElement>("share-link");
    box.value = url;
    box.hidden = false;
    box.select();
    status.textContent = `share link: ${url.length} characters (the state is in the link's fragment, which browsers never send)`;
  });
  for (const b of document.querySelectorAll<HTMLButtonElement>("#modes button")) {
    b.addEventListener("click", () => {
      setMode(b.dataset.mode as Mode);
      void evaluate();
    });
  }
  const examples = $<HTMLSelectElement>("example");
  for (const ex of EXAMPLES) examples.add(new Option(ex.title, ex.id));
  examples.addEventListener("change", () => {
    const ex = EXAMPLES.find((x) => x.id === examples.value);
    if (!ex) return;
    load(ex.state);
    history.replaceState(null, "", location.pathname + location.search);
    void evaluate();
  });

  void (async () => {
    let initial = EXAMPLES[0].state;
    if (location.hash.startsWith("#s=")) {
      try {
        initial = await decodeState(location.hash);
        examples.value = "";
      } catch (e) {
        output.textContent = `share link: ${(e as Error).message}\n`;
      }
    }
    load(initial);
    await evaluate();
  })();
}

main();
