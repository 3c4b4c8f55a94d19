// The built-in library's Dockerfile rules against hadolint's own test cases, topic by topic.
//
//   node --import tsx scripts/library-compare-docker.ts --hadolint DIR [--cache DIR] [--verbose] [--json FILE]
//
// DIR is a checkout (or `git archive`) of github:hadolint/hadolint; its rule specs
// (test/Hadolint/Rule/DL*Spec.hs) embed Dockerfile snippets with `ruleCatches "DLxxxx" ...` (the
// rule must fire) and `ruleCatchesNot` (it must not). This script extracts those snippets and
// verdicts into the cache directory (default ~/.cache/portcullis/hadolint-cases.json, never the
// repository), runs the library over each snippet and compares: for a DL rule mapped to DF rules
// in the catalog (peers.hadolint), hadolint's "catches" must match "some mapped DF rule reports".
// Mappings marked with a parenthesis ("DL3026 (config)", "DL3018 (pins)") are partial and skipped;
// ONBUILD variants (onBuildRuleCatches) and config-dependent assertChecks are not compared.
// Exit status: 0 after a report, 2 on bad arguments or an unreadable checkout.
import { readFileSync, readdirSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve, relative, dirname } from "node:path";
import { homedir } from "node:os";
import { parseArgs } from "node:util";
import { Engine } from "../src/index.ts";
import { parseDockerfile } from "../src/formats/dockerfile.ts";

const ROOT = resolve(import.meta.dirname, "..");
const LIBRARY = join(ROOT, "library");
const MAX_SPEC_BYTES = 1 << 20;

interface Case {
  dl: string;
  spec: string;
  it: string;
  catches: boolean;
  dockerfile: string;
}

type Token = { kind: "str"; text: string } | { kind: "word"; text: string } | { kind: "punct"; text: string };

/** Haskell source -> string literals, identifiers and punctuation; comments dropped. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === "-" && src[i + 1] === "-") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === '"') {
      i++;
      let text = "";
      while (i < src.length && src[i] !== '"') {
        if (src[i] === "\\") {
          const e = src[i + 1];
          if (e === undefined) break;
          if (/\s/.test(e)) {
            // string gap: backslash, whitespace, backslash
            i += 2;
            while (i < src.length && src[i] !== "\\") i++;
            i++;
            continue;
          }
          const simple: Record<string, string> = { n: "\n", t: "\t", '"': '"', "\\": "\\", "'": "'", "&": "", r: "\r" };
          if (e in simple) {
            text += simple[e];
            i += 2;
          } else if (/[0-9]/.test(e)) {
            let j = i + 1;
            while (j < src.length && /[0-9]/.test(src[j])) j++;
            text += String.fromCodePoint(Number(src.slice(i + 1, j)));
            i = j;
          } else {
            text += e;
            i += 2;
          }
        } else {
          text += src[i++];
        }
      }
      i++;
      out.push({ kind: "str", text });
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < src.length && /[A-Za-z0-9_.']/.test(src[j])) j++;
      out.push({ kind: "word", text: src.slice(i, j) });
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      out.push({ kind: "punct", text: c });
      i++;
    }
  }
  return out;
}

/** The cases of one spec file: ruleCatches / ruleCatchesNot with a literal or a let-bound list. */
export function extractCases(spec: string, src: string): { cases: Case[]; skipped: number } {
  const toks = tokenize(src);
  const vars = new Map<string, string[]>();
  const cases: Case[] = [];
  let it = "";
  let skipped = 0;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.kind !== "word") continue;
    if (t.text === "it" && toks[k + 1]?.kind === "str") {
      it = toks[k + 1].text;
      vars.clear();
    } else if (t.text === "let" && toks[k + 1]?.kind === "word" && toks[k + 2]?.text === "=" && toks[k + 3]?.text === "[") {
      const lines: string[] = [];
      let j = k + 4;
      while (j < toks.length && toks[j].text !== "]") {
        if (toks[j].kind === "str") lines.push(toks[j].text);
        j++;
      }
      vars.set(toks[k + 1].text, lines);
    } else if (t.text === "let" && toks[k + 1]?.kind === "word" && toks[k + 2]?.text === "=" && toks[k + 3]?.kind === "str") {
      vars.set(toks[k + 1].text, [toks[k + 3].text]);
    } else if ((t.text === "ruleCatches" || t.text === "ruleCatchesNot") && toks[k + 1]?.kind === "str") {
      const dl = toks[k + 1].text;
      const arg = toks[k + 2];
      let dockerfile: string | undefined;
      if (arg?.kind === "str") dockerfile = arg.text;
      else if (arg?.kind === "word" && vars.get(arg.text)?.length === 1) dockerfile = vars.get(arg.text)![0];
      else if (arg?.text === "$" && toks[k + 3]?.text === "Text.unlines" && toks[k + 4]?.kind === "word") {
        const lines = vars.get(toks[k + 4].text);
        if (lines) dockerfile = lines.join("\n") + "\n";
      }
      if (dockerfile === undefined) skipped++;
      else cases.push({ dl, spec, it, catches: t.text === "ruleCatches", dockerfile });
    }
  }
  return { cases, skipped };
}

function regoFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...regoFiles(p));
    else if (e.name.endsWith(".rego") && !e.name.endsWith("_test.rego")) out.push(p);
  }
  return out;
}

function rows(r: unknown): { bindings: Record<string, unknown> }[] {
  if (!Array.isArray(r)) throw new Error("the library query did not complete synchronously");
  return r as { bindings: Record<string, unknown> }[];
}

function main(): number {
  const { values } = parseArgs({
    options: {
      hadolint: { type: "string" },
      cache: { type: "string", default: join(homedir(), ".cache", "portcullis") },
      verbose: { type: "boolean", default: false },
      json: { type: "string" },
    },
  });
  if (!values.hadolint) {
    process.stderr.write("usage: library-compare-docker.ts --hadolint DIR [--cache DIR] [--verbose] [--json FILE]\n");
    return 2;
  }
  const specDir = join(resolve(values.hadolint), "test", "Hadolint", "Rule");
  if (!existsSync(specDir)) {
    process.stderr.write(`library-compare-docker: ${specDir} does not exist (expected a hadolint checkout)\n`);
    return 2;
  }
  const cases: Case[] = [];
  let skipped = 0;
  for (const name of readdirSync(specDir).filter((n) => /^DL\d{4}Spec\.hs$/.test(n)).sort()) {
    const src = readFileSync(join(specDir, name), "utf8");
    if (src.length > MAX_SPEC_BYTES) throw new Error(`${name} is larger than ${MAX_SPEC_BYTES} bytes`);
    const r = extractCases(name, src);
    cases.push(...r.cases);
    skipped += r.skipped;
  }
  mkdirSync(resolve(values.cache!), { recursive: true });
  const cacheFile = join(resolve(values.cache!), "hadolint-cases.json");
  writeFileSync(cacheFile, JSON.stringify(cases, null, 1));
  if (relative(ROOT, cacheFile).split(/[\\/]/)[0] !== "..") process.stderr.write("library-compare-docker: warning: the cache is inside the repository\n");

  const engine = new Engine();
  engine.addModules(regoFiles(LIBRARY).map((f) => ({ file: relative(ROOT, f), source: readFileSync(f, "utf8") })));
  const catalog = rows(engine.query("x = data.portcullis_lib.rules.catalog"))[0].bindings.x as Record<string, { peers?: Record<string, string> }>;
  const byDl = new Map<string, string[]>();
  for (const [id, rule] of Object.entries(catalog)) {
    for (const part of (rule.peers?.hadolint ?? "").split(",").map((s) => s.trim())) {
      if (!/^DL\d{4}$/.test(part)) continue; // partial mappings carry a parenthesis
      byDl.set(part, [...(byDl.get(part) ?? []), id]);
    }
  }

  interface Topic { dl: string; ids: string[]; cases: number; agree: number; parseErrors: number; disagree: { it: string; catches: boolean; got: string[]; dockerfile: string }[] }
  const topics = new Map<string, Topic>();
  let unmapped = 0;
  for (const c of cases) {
    const ids = byDl.get(c.dl);
    if (!ids) {
      unmapped++;
      continue;
    }
    const topic = topics.get(c.dl) ?? { dl: c.dl, ids, cases: 0, agree: 0, parseErrors: 0, disagree: [] };
    topics.set(c.dl, topic);
    topic.cases++;
    let input: unknown;
    try {
      input = parseDockerfile(c.dockerfile, "Dockerfile");
    } catch {
      topic.parseErrors++;
      topic.disagree.push({ it: c.it, catches: c.catches, got: ["(parse error)"], dockerfile: c.dockerfile });
      continue;
    }
    const got = rows(engine.query(
      "x = {r.id | some ns, p in data.dockerfile; some r in p.deny} | {r.id | some ns, p in data.dockerfile; some r in p.warn}",
      { input },
    ))[0].bindings.x as string[];
    const fires = ids.some((id) => got.includes(id));
    if (fires === c.catches) topic.agree++;
    else topic.disagree.push({ it: c.it, catches: c.catches, got: got.filter((g) => ids.includes(g)), dockerfile: c.dockerfile });
  }

  const list = [...topics.values()].sort((a, b) => a.dl.localeCompare(b.dl));
  const total = list.reduce((n, t) => n + t.cases, 0);
  const agree = list.reduce((n, t) => n + t.agree, 0);
  process.stdout.write(`hadolint cases: ${cases.length} extracted (${skipped} not extractable), ${unmapped} of DL rules without a full DF mapping\n`);
  process.stdout.write(`compared: ${total}, agree: ${agree} (${total ? ((100 * agree) / total).toFixed(1) : "0"}%)\n\n`);
  process.stdout.write("| hadolint | library | cases | agree | disagree |\n| --- | --- | --- | --- | --- |\n");
  for (const t of list) process.stdout.write(`| ${t.dl} | ${t.ids.join(", ")} | ${t.cases} | ${t.agree} | ${t.cases - t.agree} |\n`);
  if (values.verbose) {
    for (const t of list) {
      for (const d of t.disagree) {
        process.stdout.write(`\n${t.dl} (${t.ids.join(", ")}) — ${d.it}: hadolint ${d.catches ? "catches" : "passes"}, library ${d.got.length ? d.got.join(", ") : "passes"}\n${d.dockerfile.trimEnd().replace(/^/gm, "    ")}\n`);
      }
    }
  }
  if (values.json) {
    mkdirSync(dirname(resolve(values.json)), { recursive: true });
    writeFileSync(values.json, JSON.stringify({ extracted: cases.length, skipped, unmapped, compared: total, agree, topics: list }, null, 1));
  }
  return 0;
}

if (process.argv[1] === import.meta.filename) process.exitCode = main();
