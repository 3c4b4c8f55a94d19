// Input-format case generation: mutations of sample files (examples/, test/) and hand-written
// snippets, splicing between samples of one format, and per-format structural recipes (deep
// nesting, anchors/aliases, entity expansion, __proto__ keys, edge numbers and dates, unusual
// Unicode) that depend on one size parameter so that they can be shrunk by bisection.

import { join } from "node:path";
import { Rng } from "./rng.ts";
import { formatSamples } from "./corpus.ts";
import { NASTY_CHARS, NASTY_KEYS, NUMBER_TEXTS } from "./values.ts";
import { capSize } from "./gen-rego.ts";
import { PARSER_NAMES } from "../../src/formats/index.ts";

export interface FormatCase {
  target: "formats";
  parser: string;
  /** The file name handed to the parser (some formats resolve imports relative to it). */
  path: string;
  content?: string;
  recipe?: { gen: string; n: number };
  how: string;
}

const rep = (s: string, n: number) => s.repeat(Math.max(0, n));
function chain(n: number, f: (i: number) => string, sep = "\n"): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(f(i));
  return parts.join(sep);
}
/** Keep quadratic recipes bounded. */
const cap = (n: number, m: number) => Math.min(n, m);
const indentNest = (n: number, open: (i: number) => string, leaf: string, close?: (i: number) => string) => {
  n = cap(n, 1500);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(rep(" ", i) + open(i));
  lines.push(rep(" ", n) + leaf);
  if (close) for (let i = n - 1; i >= 0; i--) lines.push(rep(" ", i) + close(i));
  return lines.join("\n");
};

// ---- Hand-written snippets: syntax features the samples may not cover ------------------------

const SNIPPETS: Record<string, string[]> = {
  yaml: [
    "a: 1\nb: [1, 2, {c: d}]\n",
    "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n",
    "- &a [1, 2]\n- *a\n- !!set {a, b}\n- !!omap [{a: 1}, {b: 2}]\n- !!binary aGVsbG8=\n- !custom x\n",
    "? [complex, key]\n: value\n? {a: 1}\n: v\n",
    "text: |\n  line1\n  line2\nfolded: >-\n  a\n  b\n",
    "on: yes\noff: no\ny: n\noctal: 0755\nhex: 0x1F\nsep: 1_000\ninf: .inf\nnan: .NaN\nts: 2001-12-14t21:59:43.10-05:00\n",
    "---\na: 1\n---\n---\nb: 2\n...\n",
    "%YAML 1.1\n%TAG ! tag:example.com,2000:\n--- !foo\na: 1\n",
    "__proto__: {polluted: true}\nconstructor: {prototype: {x: 1}}\n",
    "\"quoted \\u2028 \\x00 \\ud800\": 'single '' quote'\n",
  ],
  json: [
    '{"a": 1, "b": [true, false, null], "c": {"d": "e"}}',
    '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"x": 1}}}',
    '[1e400, -0, 0.1, 123456789012345678901234567890, 9007199254740993, 5e-324]',
    '{"a": 1, "a": 2}',
    '"\\ud800\\udc00\\ud800 \\u0000 \\u2028"',
    '{"a": "\\uDFFF\\uD800"}',
  ],
  jsonc: ['{\n  // comment\n  "a": 1, /* block */ "b": [1, 2]\n}\n', '/* unterminated', '{"a": 1,}'],
  hcl2: [
    'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n  tags = { a = "b" }\n  count = var.n > 0 ? 1 : 0\n}\n',
    'locals {\n  x = [for i in var.l : i * 2 if i > 0]\n  y = { for k, v in var.m : k => v... }\n  z = var.a[*].b\n}\n',
    'variable "v" {\n  default = <<-EOT\n    hello ${var.x}\n    %{ for a in b }${a}%{ endfor }\n  EOT\n}\n',
    'x = "${a ? "b" : "c"}%{if d}e%{else}f%{endif}"\n',
    "__proto__ = 1\nconstructor { prototype = 2 }\n",
    'block "__proto__" "constructor" {\n  toString = 1\n}\n',
    "a = 1e400\nb = 99999999999999999999999999\nc = -0\nd = 0x10\n",
  ],
  hcl1: ['variable "x" {\n  default = "y"\n}\nprovider "aws" {\n  region = "us-east-1"\n  list = [1, 2]\n}\n', "a = <<EOF\ntext\nEOF\n"],
  toml: [
    'title = "x"\n[owner]\nname = "a"\ndob = 1979-05-27T07:32:00-08:00\n[[products]]\nname = "h"\n[[products]]\nname = "n"\n',
    'a.b.c = 1\n"quoted.key" = 2\ninline = { x = 1, y = { z = [1, 2] } }\n',
    "ld = 1979-05-27\nlt = 07:32:00.999999999\nldt = 1979-05-27T07:32:00.123456789\nodt = 1979-05-27T00:32:00.999999-07:00\n",
    "int = 0xDEADBEEF\noct = 0o755\nbin = 0b1101\nflt = 6.626e-34\ninf = inf\nnan = -nan\nbig = 9223372036854775807\n",
    "__proto__ = 1\n[constructor]\nprototype = 2\n[[__proto__.x]]\n",
    's = """\nmulti\nline"""\nl = \'\'\'\nliteral\'\'\'\n',
  ],
  dockerfile: [
    "# syntax=docker/dockerfile:1\nFROM alpine:3.19 AS base\nARG V=1\nENV A=b C=\"d e\"\nRUN apk add --no-cache curl && \\\n    echo done\nCOPY --from=base --chown=1:1 /a /b\nCMD [\"sh\", \"-c\", \"echo $A\"]\n",
    "# escape=`\nFROM windows\nRUN dir `\n  c:\\\n",
    "FROM x\nRUN <<EOF\necho a\nEOF\nCOPY <<A <<B /dst/\nx\nA\ny\nB\n",
    "FROM x\nHEALTHCHECK --interval=5s CMD curl -f http://x/ || exit 1\nONBUILD RUN x\nSHELL [\"pwsh\", \"-c\"]\nEXPOSE 80/tcp\nLABEL a=b \"c\"=\"d\"\n",
    "ARG A=${B:-${C:+x}}\nFROM ${A}\nUSER ${U:?err}\n",
  ],
  ini: [
    "; comment\nglobal = 1\n[section]\nkey = value\nnum = 3.14\nbool = true\n[other.sub]\nk = \"quoted\"\n",
    "[__proto__]\npolluted = 1\n[constructor]\nprototype = x\n__proto__ = y\n",
    "[n]\na = 1e400\nb = 0x1p-2\nc = Inf\nd = NaN\ne = -0\nf = 1_000\ng = t\nh = F\n",
    '[s]\nmulti = """line1\nline2"""\ncont = a \\\n  b\n',
  ],
  properties: ["a=b\nc : d\ne f\nlong = a \\\n   b\nunicode=\\u00e9\\uD800\n# comment\n! bang\n", "__proto__=1\nconstructor=2\n"],
  dotenv: ['A=1\nB="two ${A}"\nC=\'single\'\nexport D=$A$B\nE=${UNSET:-default}\n', "__proto__=1\nconstructor=2\n"],
  ignore: ["node_modules/\n*.log\n!keep.log\n/abs\n**/deep/**\n\\#hash\n", "[a-z]*\n"],
  xml: [
    '<?xml version="1.0"?>\n<root a="1"><child>text</child><child b="2"/><![CDATA[cdata <x>]]><!-- c --></root>',
    '<a xmlns:x="u"><x:b x:c="d">&amp;&lt;&#65;&#x42;</x:b></a>',
    '<__proto__ constructor="x"><toString>1</toString><__proto__>2</__proto__></__proto__>',
    '<!DOCTYPE r [<!ENTITY e "v">]><r>&e;</r>',
    '<r><a>1</a>mixed<a>2</a></r>',
  ],
  edn: ['{:a 1 :b [1 2 3] :c #{1 2} :d (1 2) :e "s" :f nil :g true :h \\c :i #inst "2020-01-01T00:00:00Z"}', '[1N 1.5M 1/2 ##Inf ##NaN -0.0 0x10 #_ x :ns/kw sym #tag v]'],
  hocon: ['a { b = 1, c = ${a.b} }\nd = [1, 2]\ne = ${?ENV}\nf = "s" "t"\ng += 3\ninclude "x"\n', "a = ${b}\nb = ${a}\n"],
  vcl: ['vcl 4.0;\nbackend default { .host = "127.0.0.1"; .port = "8080"; }\nacl local { "localhost"; "10.0.0.0"/8; }\nsub vcl_recv { if (req.url ~ "^/x") { set req.http.X = "y"; } }\n'],
  jsonnet: [
    'local x = 1; { a: x, b: [i * 2 for i in [1, 2]], c: std.length("abc"), d:: "hidden", e: self.a + 1 }',
    "local f(n) = if n == 0 then 0 else f(n - 1); f(100)",
    "{ a: { b: 1 } } + { a+: { c: 2 } }",
    "std.manifestJson({a: [1, 2]}) + std.format('%05d', 3)",
  ],
  cue: ['a: 1\nb: a + 1\n#Def: { x: int }\nc: #Def & { x: 2 }\nd: [1, 2, ...]\ne: *"default" | string\n', 'x: { y: z: 1 }\nif true { w: 1 }\nfor k, v in x { "\\(k)": v }\n'],
  textproto: ['# proto-file: demo.proto\n# proto-message: demo.Foo\nname: "x"\ncount: 3\ninner { v: "i" }\n'],
  codeowners: ["# comment\n* @owner\n/docs/ @a @b user@example.com\n**/*.js @js\n\\#escaped @x\n"],
  nginx: ['events {}\nhttp {\n  server {\n    listen 80;\n    location / { proxy_pass http://x; }\n    set $a "b;c";\n  }\n}\n'],
  spdx: ["SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\nPackageName: p\nSPDXID: SPDXRef-p\nPackageComment: <text>multi\nline</text>\nRelationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-p\n"],
  cyclonedx: [
    '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", "name": "a", "version": "1"}]}',
    '<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components><component type="library"><name>a</name></component></components></bom>',
  ],
};

// ---- Recipes ---------------------------------------------------------------------------------

type Recipe = (n: number) => string;

const GENERIC: Record<string, Recipe> = {
  longLine: (n) => rep("a", n * 100),
  manyLines: (n) => rep("a\n", n * 10),
  nastyUnicode: (n) => rep(NASTY_CHARS.join(""), cap(n, 20000)),
  nul: (n) => rep("\u0000", n),
  loneSurrogates: (n) => rep("\ud800x\udc00", n),
  crOnly: (n) => rep("a\r", n),
  bomInside: (n) => rep("\ufeffa", n),
};

const RECIPES: Record<string, Record<string, Recipe>> = {
  yaml: {
    flowSeq: (n) => rep("[", n) + rep("]", n),
    flowMap: (n) => rep("{a: ", n) + "1" + rep("}", n),
    blockMap: (n) => indentNest(n, () => "a:", "b: 1"),
    blockSeq: (n) => indentNest(n, () => "-", "1"),
    compactSeq: (n) => rep("- ", n) + "1",
    laughs: (n) => {
      const levels = cap(n, 40);
      let s = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
      for (let i = 1; i < levels; i++) s += `a${i}: &a${i} [${rep(`*a${i - 1}, `, 9)}*a${i - 1}]\n`;
      return s;
    },
    mergeChain: (n) => `b0: &b0 {k0: 0}\n${chain(n, (i) => `b${i + 1}: &b${i + 1} {<<: *b${i}, k${i + 1}: ${i + 1}}`)}\n`,
    mergeDeep: (n) => `a: &a {x: 1}\n${chain(n, (i) => `m${i}: {<<: [*a${i ? "," : ""}${i ? ` *a` : ""}]}`)}\n`,
    aliasMany: (n) => `a: &a [1, 2]\nb: [${chain(n, () => "*a", ", ")}]\n`,
    selfAlias: (n) => `a: &a [${rep("[", n)}*a${rep("]", n)}]\n`,
    protoKeys: (n) => chain(n, (i) => `${NASTY_KEYS[i % NASTY_KEYS.length]}: {__proto__: {p${i}: ${i}}}`) + "\n<<: {__proto__: 1}\n",
    bigNumbers: (n) => `a: ${rep("9", n * 10)}\nb: 0x${rep("f", n)}\nc: 0o${rep("7", n)}\nd: 1e${n * 100}\ne: 0.${rep("0", n)}1\nf: -${rep("1_", n)}1\n`,
    documents: (n) => rep("---\na: 1\n", n),
    tags: (n) => chain(n, (i) => `t${i}: ${["!!binary", "!!set", "!!omap", "!!timestamp", "!!int", "!!float", "!!str", "!!map", "!!seq", "!custom", "!!python/object:x", "!<tag:x>"][i % 12]} ${["aGk=", "{a}", "[{a: 1}]", "2001-12-14", "0x1", "1e400", "x", "{}", "[]", "v", "y", "z"][i % 12]}`),
    blockScalar: (n) => `a: |${rep("+", 1)}\n${rep("  line\n", n)}b: >-\n${rep("  fold\n", n)}`,
    keys: (n) => `? ${rep("[", n)}k${rep("]", n)}\n: v\n`,
    anchorsNames: (n) => `a: &${rep("x", n)} 1\nb: *${rep("x", n)}\n`,
  },
  json: {
    arrays: (n) => rep("[", n) + rep("]", n),
    objects: (n) => rep('{"a":', n) + "1" + rep("}", n),
    bigNumber: (n) => rep("9", n * 10),
    bigExponent: (n) => `[1e${n * 100}, -1e-${n * 100}, 0.${rep("0", n)}1]`,
    longString: (n) => `"${rep("\\u00e9\\ud800", n * 10)}"`,
    manyKeys: (n) => `{${chain(n * 10, (i) => `"${NASTY_KEYS[i % NASTY_KEYS.length]}${i}": ${i}`, ",")}, "__proto__": {"x": 1}}`,
    dupKeys: (n) => `{${chain(n * 10, () => `"a": 1`, ",")}}`,
    wideArray: (n) => `[${chain(n * 10, (i) => String(i), ",")}]`,
  },
  jsonc: {
    comments: (n) => rep("/* c */ // x\n", n) + "{}",
    nested: (n) => rep("[ // c\n", n) + rep("]", n),
  },
  hcl2: {
    blocks: (n) => rep("a {\n", n) + rep("}\n", n),
    labeled: (n) => rep('r "x" "y" {\n', n) + rep("}\n", n),
    parens: (n) => `x = ${rep("(", n)}1${rep(")", n)}\n`,
    tuples: (n) => `x = ${rep("[", n)}1${rep("]", n)}\n`,
    objects: (n) => `x = ${rep("{a = ", n)}1${rep("}", n)}\n`,
    templates: (n) => `x = ${rep('"${', n)}1${rep('}"', n)}\n`,
    directives: (n) => `x = "${rep("%{if true}", n)}a${rep("%{endif}", n)}"\n`,
    forDirectives: (n) => `x = "${chain(n, (i) => `%{for a${i} in b}`, "")}a${rep("%{endfor}", n)}"\n`,
    heredoc: (n) => `x = <<EOT\n${rep("${a}\n", n)}EOT\ny = <<-EOT\n${rep("  %{if b}c%{endif}\n", n)}\n`,
    traversal: (n) => `x = a${rep(".b", n)}${rep("[0]", n)}${rep("[*]", n)}\n`,
    calls: (n) => `x = ${rep("f(", n)}1${rep(")", n)}\n`,
    conditionals: (n) => `x = ${rep("true ? ", n)}1${rep(" : 0", n)}\n`,
    binary: (n) => `x = 1${rep(" + 1", n)}\n`,
    unary: (n) => `x = ${rep("!", n)}true\ny = ${rep("-", n)}1\n`,
    forExprs: (n) => `x = ${chain(n, (i) => `[for a${i} in b : `, "")}1${rep("]", n)}\n`,
    protoKeys: (n) => chain(n, (i) => `${NASTY_KEYS[i % NASTY_KEYS.length].replace(/[^A-Za-z0-9_]/g, "_") || "k"} = ${i}\n"${NASTY_KEYS[i % NASTY_KEYS.length]}" "__proto__" {\n  __proto__ = 1\n}`) + "\n",
    numbers: (n) => `a = ${rep("9", n * 10)}\nb = 1e${n * 100}\nc = 0.${rep("0", n)}1\n`,
  },
  hcl1: {
    blocks: (n) => rep("a {\n", n) + rep("}\n", n),
    lists: (n) => `x = ${rep("[", n)}1${rep("]", n)}\n`,
    objects: (n) => `x = ${rep("{ a = ", n)}1${rep(" }", n)}\n`,
  },
  toml: {
    inlineTables: (n) => `a = ${rep("{b = ", n)}1${rep("}", n)}\n`,
    arrays: (n) => `a = ${rep("[", n)}1${rep("]", n)}\n`,
    dottedKeys: (n) => `${chain(n + 1, () => "a", ".")} = 1\n`,
    tableHeader: (n) => `[${chain(n + 1, () => "a", ".")}]\nx = 1\n`,
    arrayTables: (n) => rep(`[[${chain(cap(n, 200) + 1, () => "a", ".")}]]\nx = 1\n`, n),
    protoKeys: (n) => chain(n, (i) => `[${NASTY_KEYS[i % NASTY_KEYS.length] ? JSON.stringify(NASTY_KEYS[i % NASTY_KEYS.length]) : '""'}.t${i}]\n__proto__ = ${i}\nconstructor.prototype.p${i} = 1`) + "\n",
    dates: (n) => chain(n, (i) => `d${i} = ${["1979-05-27T07:32:00.9999999999999Z", "9999-12-31T23:59:60Z", "0000-01-01T00:00:00Z", "1979-02-30", "24:00:00", "1979-05-27 07:32:00", "2000-01-01T00:00:00+23:59", "1979-05-27T07:32:00.999999999-00:00", `1979-05-27T07:32:00.${rep("9", i + 1)}Z`][i % 9]}`) + "\n",
    numbers: (n) => `a = ${rep("9", n * 10)}\nb = 0x${rep("f", n)}\nc = 1e${n * 100}\nd = 0.${rep("0", n)}1\ne = 9223372036854775808\n`,
    strings: (n) => `a = "${rep("\\U0010FFFF\\uD800\\u0000", n)}"\nb = """${rep("x\\\n  ", n)}"""\n`,
  },
  dockerfile: {
    manyLines: (n) => "FROM x\n" + chain(n * 5, (i) => `RUN echo ${i}`),
    continuation: (n) => `FROM x\nRUN a ${rep("\\\n", n * 5)}b\n`,
    heredoc: (n) => `FROM x\nRUN <<EOF${chain(cap(n, 500), (i) => ` <<E${i}`, "")}\n${rep("line\n", n)}`,
    argNest: (n) => `ARG A=${rep("${A:-", n)}x${rep("}", n)}\nFROM ${rep("${A:+", n)}y${rep("}", n)}\n`,
    jsonForm: (n) => `FROM x\nCMD [${chain(n * 5, () => '"a"', ", ")}]\nRUN ${rep("[", n)}${rep("]", n)}\n`,
    onbuild: (n) => `FROM x\n${rep("ONBUILD ", n)}RUN x\n`,
    flags: (n) => `FROM x\nCOPY ${chain(n, (i) => `--f${i}=${rep("v", i % 50)}`, " ")} a b\nRUN --mount=${chain(n, (i) => `k${i}=v`, ",")} x\n`,
    escapeDirective: (n) => `# escape=${rep("`", 1)}\n${rep("# directive=x\n", n)}FROM x\nRUN a \`\n b\n`,
  },
  ini: {
    sections: (n) => chain(n * 5, (i) => `[${NASTY_KEYS[i % NASTY_KEYS.length]}${i % 3 ? "" : ".sub"}]\n__proto__ = ${i}\nconstructor = x`),
    numbers: (n) => `[n]\n${chain(n, (i) => `k${i} = ${NUMBER_TEXTS[i % NUMBER_TEXTS.length]}`)}\nbig = ${rep("9", n * 10)}\nhex = 0x${rep("f", n)}p-${n}\nweird = ${["Inf", "-Inf", "NaN", "+Inf", "1e400", "0x1p-2", "1_000", "0b101", "t", "F", "TRUE"][n % 11]}\n`,
    continuation: (n) => `[s]\na = ${rep("x \\\n", n)}\nb = """${rep("line\n", n)}"""\n`,
    longKeys: (n) => `${rep("k", n * 10)} = ${rep("v", n * 10)}\n[${rep("s", n * 10)}]\n`,
  },
  properties: {
    continuation: (n) => `a = ${rep("x \\\n", n * 5)}\n`,
    escapes: (n) => `a = ${rep("\\u00e9\\uD800\\u", n)}\n`,
  },
  dotenv: {
    expansion: (n) => `A0=x\n${chain(cap(n, 64), (i) => `A${i + 1}=\${A${i}}\${A${i}}`)}\n`,
    nested: (n) => `A=${rep("${B:-", n)}x${rep("}", n)}\n`,
    quotes: (n) => `A="${rep('\\"', n)}\nB='${rep("x\n", n)}'\n`,
  },
  ignore: {
    patterns: (n) => chain(n * 5, (i) => ["**/".repeat(i % 20) + "x", "[" + rep("a-", i % 30) + "]", "!".repeat(i % 5) + "y", "\\" + "*".repeat(i % 9)][i % 4]),
  },
  xml: {
    nesting: (n) => rep("<a>", n) + rep("</a>", n),
    selfClosing: (n) => `<r>${rep("<a/>", n * 10)}</r>`,
    attributes: (n) => `<r ${chain(n, (i) => `a${i}="${i}"`, " ")} __proto__="x" constructor="y"/>`,
    entities: (n) => `<r>${chain(n, (i) => ["&#0;", "&#xD800;", "&#x110000;", "&#99999999999999;", "&unknown;", "&amp;", "&#x;", "&#-1;", "&lt", "&#65"][i % 10], "")}</r>`,
    laughs: (n) => {
      const levels = cap(n, 40);
      let d = '<!DOCTYPE r [<!ENTITY e0 "xxxxxxxxxx">';
      for (let i = 1; i < levels; i++) d += `<!ENTITY e${i} "${rep(`&e${i - 1};`, 10)}">`;
      return `${d}]><r>&e${levels - 1};</r>`;
    },
    protoNames: (n) => `<__proto__>${chain(n, (i) => `<${["__proto__", "constructor", "toString", "hasOwnProperty", "-attr", "#content", "valueOf"][i % 7].replace(/[#]/g, "_")} __proto__="${i}">${i}</${["__proto__", "constructor", "toString", "hasOwnProperty", "-attr", "#content", "valueOf"][i % 7].replace(/[#]/g, "_")}>`, "")}</__proto__>`,
    cdata: (n) => `<r>${rep("<![CDATA[x]]>", n)}<![CDATA[${rep("]", n)}</r>`,
    comments: (n) => `<r>${rep("<!-- - -->", n)}<!--${rep("-", n)}</r>`,
    repeated: (n) => `<r>${rep("<a>1</a>", n * 5)}</r>`,
    namespaces: (n) => `<r ${chain(n, (i) => `xmlns:n${i}="u${i}"`, " ")}>${chain(n, (i) => `<n${i}:a n${i}:b="c"/>`, "")}</r>`,
    mixed: (n) => `<r>${rep("t<a>x</a>", n)}</r>`,
  },
  edn: {
    vectors: (n) => rep("[", n) + rep("]", n),
    maps: (n) => rep("{:a ", n) + "1" + rep("}", n),
    lists: (n) => rep("(", n) + rep(")", n),
    sets: (n) => rep("#{", n) + rep("}", n),
    tags: (n) => rep("#t ", n) + "1",
    discard: (n) => rep("#_ ", n) + "1 2",
  },
  hocon: {
    objects: (n) => rep("a {", n) + rep("}", n),
    arrays: (n) => `a = ${rep("[", n)}${rep("]", n)}`,
    substitutions: (n) => `a0 = 1\n${chain(n, (i) => `a${i + 1} = \${a${i}}`)}\n`,
    cycle: (n) => chain(n + 1, (i) => `a${i} = \${a${(i + 1) % (n + 1)}}`) + "\n",
    concat: (n) => `a = [1]\n${chain(cap(n, 40), (i) => `a = \${a} \${a}${i === 0 ? "" : ""}`)}\n`,
    paths: (n) => `${chain(n + 1, () => "a", ".")} = 1\n`,
  },
  vcl: {
    subs: (n) => `vcl 4.0;\nsub vcl_recv {\n${rep("if (a) {\n", n)}set req.x = 1;\n${rep("}\n", n)}}\n`,
    backends: (n) => `vcl 4.0;\n${chain(n, (i) => `backend b${i} { .host = "h${i}"; }`)}\n`,
  },
  jsonnet: {
    arrays: (n) => rep("[", n) + rep("]", n),
    objects: (n) => rep("{a:", n) + "1" + rep("}", n),
    recursion: (n) => `local f(x) = if x == 0 then 0 else 1 + f(x - 1); f(${n * 10})`,
    loop: (n) => `local f(x) = f(x + 1); f(${n})`,
    mutual: (n) => `local a = { x: self.y, y: self.x }; a.x + ${n}`,
    bigRange: (n) => `std.length(std.range(0, ${n * 10000}))`,
    stringRepeat: (n) => `std.length(std.repeat("ab", ${n * 1000}))`,
    format: (n) => `std.format("%${n}d", 1)`,
    locals: (n) => `${chain(n, (i) => `local v${i} = ${i};`, " ")} v0`,
    comprehension: (n) => `[${chain(cap(n, 6), (i) => `x${i}`, " + ")} ${chain(cap(n, 6), (i) => `for x${i} in std.range(0, ${n})`, " ")}]`,
    parseDeep: (n) => `std.parseJson("${rep("[", n)}${rep("]", n)}")`,
  },
  cue: {
    structs: (n) => rep("a: {", n) + "b: 1" + rep("}", n),
    shorthand: (n) => rep("a: ", n) + "1",
    lists: (n) => `a: ${rep("[", n)}1${rep("]", n)}`,
    references: (n) => `a0: 1\n${chain(n, (i) => `a${i + 1}: a${i}`)}\n`,
    cycle: (n) => chain(n + 1, (i) => `a${i}: a${(i + 1) % (n + 1)}`) + "\n",
    disjunctions: (n) => `a: ${chain(n + 1, (i) => `*${i}`, " | ")}`,
  },
  textproto: {
    nesting: (n) => `# proto-file: demo.proto\n# proto-message: demo.Foo\n${rep("inner { ", n)}${rep("}", n)}`,
    repeated: (n) => `# proto-file: demo.proto\n# proto-message: demo.Foo\n${rep('tags: "a"\n', n * 5)}`,
    numbers: (n) => `# proto-file: demo.proto\n# proto-message: demo.Foo\ncount: ${rep("9", n * 5)}\nratio: 1e${n * 100}\nu: -${rep("1", n)}\n`,
  },
  codeowners: {
    rules: (n) => chain(n * 5, (i) => `${rep("**/", i % 30)}*.x${i} ${chain((i % 5) + 1, (j) => `@o${j}`, " ")}`),
  },
  nginx: {
    blocks: (n) => rep("a {\n", n) + rep("}\n", n),
    params: (n) => `a ${chain(n * 5, (i) => `p${i}`, " ")};\n`,
    quotes: (n) => `a "${rep('\\"', n)}";\nb '${rep("x", n)};\n`,
  },
  spdx: {
    packages: (n) => "SPDXVersion: SPDX-2.3\n" + chain(n, (i) => `PackageName: p${i}\nSPDXID: SPDXRef-p${i}\nRelationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-p${i}`),
    text: (n) => `SPDXVersion: SPDX-2.3\nDocumentComment: <text>${rep("x\n", n)}`,
  },
  cyclonedx: {
    jsonNested: (n) => `{"bomFormat": "CycloneDX", "components": ${rep('[{"components": ', n)}[]${rep("}]", n)}}`,
    xmlNested: (n) => `<bom xmlns="http://cyclonedx.org/schema/bom/1.5">${rep("<components><component>", n)}${rep("</component></components>", n)}</bom>`,
  },
};

export function recipeNames(parser: string): string[] {
  return [...Object.keys(RECIPES[parser] ?? {}), ...Object.keys(GENERIC).map((g) => "generic:" + g)];
}

export function recipeText(parser: string, gen: string, n: number): string {
  if (gen.startsWith("generic:")) return GENERIC[gen.slice(8)](n);
  const f = RECIPES[parser]?.[gen];
  if (!f) throw new Error(`no recipe ${parser}/${gen}`);
  return f(n);
}

// ---- Mutation -----------------------------------------------------------------------------

const PUNCT = "{}[]()<>:;,=\"'`#$%&*!?|\\/@-_.+~^\n\t ";

function mutateText(r: Rng, text: string, others: () => string): string {
  let s = text;
  const edits = 1 + (r.chance(0.5) ? 0 : r.int(8));
  for (let e = 0; e < edits; e++) {
    const i = r.int(s.length + 1);
    switch (r.int(12)) {
      case 0:
        s = s.slice(0, i) + r.pick(NASTY_CHARS) + s.slice(i);
        break;
      case 1:
        s = s.slice(0, i) + PUNCT[r.int(PUNCT.length)] + s.slice(i);
        break;
      case 2:
        s = s.slice(0, i) + s.slice(i + 1 + r.int(20));
        break;
      case 3: {
        const len = 1 + r.int(40);
        s = s.slice(0, i) + s.slice(i, i + len) + s.slice(i);
        break;
      }
      case 4: {
        const j = r.int(s.length + 1);
        const len = 1 + r.int(40);
        s = s.slice(0, i) + s.slice(j, j + len) + s.slice(i);
        break;
      }
      case 5: {
        const lines = s.split("\n");
        const a = r.int(lines.length);
        const b = r.int(lines.length);
        const op = r.int(4);
        if (op === 0) lines.splice(a, 1);
        else if (op === 1) lines.splice(a, 0, lines[b]);
        else if (op === 2) [lines[a], lines[b]] = [lines[b], lines[a]];
        else lines[a] = " ".repeat(r.int(12)) + lines[a].trimStart();
        s = lines.join("\n");
        break;
      }
      case 6:
        s = s.slice(0, i); // truncation: unterminated constructs
        break;
      case 7: {
        const key = r.pick(NASTY_KEYS);
        const m = /[A-Za-z_][A-Za-z0-9_-]*/g;
        const words: number[] = [];
        let x: RegExpExecArray | null;
        while ((x = m.exec(s)) && words.length < 500) words.push(x.index, x[0].length);
        if (words.length) {
          const w = 2 * r.int(words.length / 2);
          s = s.slice(0, words[w]) + key + s.slice(words[w] + words[w + 1]);
        }
        break;
      }
      case 8: {
        const num = /-?\d+(\.\d+)?([eE][-+]?\d+)?/g;
        const spots: [number, number][] = [];
        let x: RegExpExecArray | null;
        while ((x = num.exec(s)) && spots.length < 500) spots.push([x.index, x[0].length]);
        if (spots.length) {
          const [at, len] = r.pick(spots);
          s = s.slice(0, at) + r.pick(NUMBER_TEXTS) + s.slice(at + len);
        }
        break;
      }
      case 9: {
        const o = others();
        const j = r.int(o.length + 1);
        s = s.slice(0, i) + o.slice(j, j + 1 + r.int(200)) + s.slice(i);
        break;
      }
      case 10: {
        // repeat a chunk many times (nesting by repetition of an opener)
        const len = 1 + r.int(8);
        s = s.slice(0, i) + s.slice(i, i + len).repeat(r.size(20, 5000)) + s.slice(i);
        break;
      }
      default:
        s = s.slice(0, i) + String.fromCharCode(r.int(0x80)) + s.slice(i + 1);
    }
  }
  return s;
}

function recipeSize(r: Rng): number {
  return Math.max(1, r.weighted([
    [75, r.range(1, 60)],
    [20, r.range(60, 1000)],
    [4, r.range(1000, 10000)],
    [1, r.range(10000, 100000)],
  ]));
}

const FILE_NAMES: Record<string, string> = {
  yaml: "fuzz.yaml", json: "fuzz.json", jsonc: "fuzz.jsonc", dockerfile: "Dockerfile", hcl2: "fuzz.tf", hcl1: "fuzz.hcl1",
  toml: "fuzz.toml", ini: "fuzz.ini", properties: "fuzz.properties", dotenv: "fuzz.env", ignore: ".gitignore", xml: "fuzz.xml",
  edn: "fuzz.edn", spdx: "fuzz.spdx", cyclonedx: "fuzz.cyclonedx", hocon: "fuzz.hocon", vcl: "fuzz.vcl", cue: "fuzz.cue",
  textproto: "fuzz.textproto", codeowners: "CODEOWNERS", nginx: "nginx.conf",
};

/**
 * Where a format's fuzz input pretends to live, relative to the repository (imports resolve next
 * to the samples).
 */
export function fuzzPath(parser: string): string {
  return join("examples/formats", parser, parser === "jsonnet" ? "fuzz.jsonnet" : FILE_NAMES[parser] ?? `fuzz.${parser}`);
}

export const FORMAT_NAMES: string[] = PARSER_NAMES;

export function generateFormatCase(seed: number, parser: string, index: number): FormatCase {
  const r = Rng.forCase(seed, "formats:" + parser, index);
  const samples = (formatSamples().get(parser) ?? []).map((s) => s.content);
  const pool = [...samples, ...(SNIPPETS[parser] ?? [])];
  if (pool.length === 0) pool.push("");
  const path = fuzzPath(parser);
  const mode = r.weighted([
    [55, "mutate"],
    [10, "splice"],
    [25, "recipe"],
    [10, "generic"],
  ] as const);
  if (mode === "recipe" || mode === "generic") {
    const names = mode === "recipe" ? Object.keys(RECIPES[parser] ?? {}) : [];
    const gen = names.length ? r.pick(names) : "generic:" + r.pick(Object.keys(GENERIC));
    const n = capSize(recipeSize(r), (k) => recipeText(parser, gen, k).length);
    return { target: "formats", parser, path, recipe: { gen, n }, how: `recipe ${gen}(${n})` };
  }
  const base = r.pick(pool);
  let content: string;
  if (mode === "splice") {
    const other = r.pick(pool);
    const a = base.split("\n");
    const b = other.split("\n");
    content = [...a.slice(0, r.int(a.length + 1)), ...b.slice(r.int(b.length + 1))].join("\n");
    if (r.chance(0.5)) content = mutateText(r, content, () => r.pick(pool));
  } else {
    content = mutateText(r, base, () => r.pick(pool));
  }
  return { target: "formats", parser, path, content, how: mode };
}

export function formatContent(c: FormatCase): string {
  if (c.recipe) return recipeText(c.parser, c.recipe.gen, c.recipe.n);
  return c.content ?? "";
}
