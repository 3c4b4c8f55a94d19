// Builtin call generation from each builtin's OPA declaration: arguments of the declared types
// (and sometimes of the wrong ones), with edge values (huge and big numbers, deep and wide
// collections, long and malformed strings, __proto__ keys) and domain strings for the builtins
// that parse something (regexes, globs, times, CIDRs, JWTs, PEM certificates, JSON/YAML, GraphQL,
// templates, Rego modules, config files).

import { Rng } from "./rng.ts";
import type { Enc } from "./values.ts";
import { NASTY_CHARS, NASTY_KEYS, NUMBER_TEXTS } from "./values.ts";
import { OPA_BUILTINS as BUILTINS } from "../../src/builtins/index.ts";
import type { TypeDecl } from "../../src/builtins/registry.ts";
import { cryptoFixtures, formatSamples } from "./corpus.ts";
import { generateRegoCase, regoModules, getMaxInput, MAX_INPUT } from "./gen-rego.ts";
import { FORMAT_NAMES, generateFormatCase, formatContent } from "./gen-formats.ts";

export interface BuiltinCase {
  target: "builtins";
  name: string;
  args: Enc[];
  /** "input": arguments passed as input[i]; "literal": written into the query as Rego terms. */
  mode: "input" | "literal";
  strict: boolean;
  how: string;
}

/** Builtins that do network I/O: never called by the fuzzer. */
export const NETWORK_BUILTINS = new Set(["http.send", "net.lookup_ip_addr"]);

export function fuzzableBuiltins(): string[] {
  return [...BUILTINS.keys()].filter((n) => !NETWORK_BUILTINS.has(n)).sort();
}

// ---- Domain strings --------------------------------------------------------------------------

const REGEXES = [
  "a+", "^a*$", "(a+)+$", "(a|aa)+$", "(a*)*b", "(?i)abc", "(?P<n>x)(?P=n)", "\\1", "(a)\\1", "[[:alpha:]]+", "[[:foo:]]",
  "\\p{L}+", "\\p{Greek}", "\\pN", "\\P{Zzzz}", "\\Q.*\\E", "a{1000}", "a{1001}", "(a{1000}){1000}", "a{2,1}", "x{0,}",
  "(?=a)", "(?!a)", "(?<=a)b", "(?<!a)b", "(?s).", "(?m)^$", "(?U)a+", "[^]", "[a-", "(", ")", "*", "+?", "a**", "\\",
  "\\x{10FFFF}", "\\x{110000}", "\\C", "\\z", "\\Z", "\\A", "\\b\\B", "[\\d-z]", "[z-a]", "(?i)ſ", "\\u00e9", "\\ud800",
  ".*.*.*.*.*.*=.*", "(a|b|c|d|e|f|g)*z", "^(([a-z])+.)+[A-Z]([a-z])+$", "(x+x+)+y", "(?:)", "|", "a||b", "(?#comment)",
];
const GLOBS = ["*", "**", "?", "[a-z]", "[!a-z]", "[^a]", "{a,b}", "{a,{b,{c,d}}}", "\\*", "*.*.*", "**/**/**", "[", "{", "a{", "[]]", "[a-]"];
const TIMES = [
  "2021-01-01T00:00:00Z", "2021-01-01T00:00:00.123456789+05:30", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
  "10000-01-01T00:00:00Z", "2021-02-29T00:00:00Z", "2021-13-01T00:00:00Z", "2021-01-01T24:00:00Z", "2021-01-01T00:00:60Z",
  "2021-01-01t00:00:00z", "2021-01-01 00:00:00Z", "2021-01-01T00:00:00+24:00", "-0001-01-01T00:00:00Z", "1e9", "",
];
const LAYOUTS = [
  "2006-01-02T15:04:05Z07:00", "Mon Jan _2 15:04:05 2006", "02 Jan 06 15:04 MST", "2006-01-02", "15:04:05.000000000",
  "Jan _2 15:04:05.999999999", "RFC3339", "RFC822Z", "ANSIC", "2006-002", "__2", ".000", ",999", "Z0700", "-07:00:00", "",
];
const DURATIONS = ["1h", "1h2m3.5s", "-1.5µs", "1us", "300ms", "9999999999h", "2562047h47m16.854775808s", "1e10s", ".5s", "1", "h", "1hh", "0", "-0", "+5m", "1.5.5s"];
const UNITS = ["10", "10Mi", "1.5G", "1e400K", "-1Ki", "0x10", "mi", "1.1.1", "1E", "100m", "1Ei", "99999999999999999999Yi", " 1 K", "1kb", "1KiB", ".5M", "1e3"];
const SEMVERS = ["1.2.3", "v1.2.3", "1.2.3-alpha.1+build.5", "1.2.3-01", "1.2", "99999999999999999999.0.0", "1.2.3-", "1.2.3+", "0.0.0-0.a.0", "1.2.3-α"];
const CIDRS = [
  "10.0.0.0/8", "192.168.1.0/24", "0.0.0.0/0", "::/0", "2001:db8::/32", "fe80::1%eth0/64", "1.2.3.4/33", "::ffff:1.2.3.4/96",
  "2001:db8::/129", "256.1.1.1/24", "1.2.3.4", "::1", "a.b.c.d/x", "1.2.3.4/-1", "10.0.0.0/31", "10.0.0.0/32", "01.2.3.4/8",
  "1.2.3.4/08", "::ffff:0:0/96", "1:2:3:4:5:6:7:8:9/64", "10.0.0.0/16", "10.0.0.0/20",
];
const URIS = ["https://u:p@example.com:8080/a/b?c=d&e=%zz#f", "mailto:x@y", "//host", "http://[::1]:80/", "http://[::1", "%", "a:b:c", "http://x/%E0%A4%A", "file:///etc", ""];
const UUIDS = ["f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "{f81d4fae-7dec-11d0-a765-00a0c91e6bf6}", "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "f81d4fae7dec11d0a76500a0c91e6bf6", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", ""];
const SPRINTF = ["%v", "%d", "%s", "%x", "%X", "%o", "%b", "%e", "%f", "%.9999f", "%*d", "%[2]d", "%[0]d", "%-10s", "%#v", "%q", "%T", "%%", "%", "%!", "%.3s", "%+d", "%08.3f", "%c", "%U", "%10000000d", "%.*f", "%[1]*d", "%v %v %v"];
const TEMPLATES = ["{{.x}}", "{{range .a}}{{.}}{{end}}", "{{if .x}}a{{else}}b{{end}}", "{{", "}}", "{{.x.y.z}}", "{{template \"x\"}}", "{{printf \"%v\" .}}", "{{with .a}}{{.}}{{end}}", "{{ $x := 1 }}{{ $x }}", "{{len .}}", "{{index . 0}}"];
const GRAPHQL_SCHEMAS = ["type Query { a: Int }", "schema { query: Q } type Q { f(x: Int = 1): [String!]! }", "interface I { a: Int } type T implements I { a: Int }", "type Q { a: Q }", "scalar S directive @d on FIELD", "type Q {"];
const GRAPHQL_QUERIES = ["{ a }", "query Q($x: Int) { f(x: $x) }", "{ a { b { c } } }", "fragment F on Q { a } { ...F }", "{ ...F } fragment F on Q { ...F }", "mutation { m }", "{"];
const JSON_SCHEMAS = [
  '{"type":"object","properties":{"a":{"type":"string","pattern":"(a+)+$"}},"required":["a"]}',
  '{"$ref":"#"}', '{"definitions":{"x":{"$ref":"#/definitions/x"}},"$ref":"#/definitions/x"}', '{"type":"array","items":{"$ref":"#"}}',
  '{"allOf":[{"type":"string"},{"minLength":99999999999}]}', '{"type":"number","multipleOf":0}', '{"enum":[]}', '{"$ref":"http://x/y"}',
  '{"type":"string","format":"date-time"}', '{"not":{"not":{"not":{}}}}', "true", "false", "{", "[]",
];
const JWT_ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "none", "None", "", "A128KW", "dir", "RSA-OAEP"];

function b64url(s: string): string {
  return Buffer.from(s, "utf8").toString("base64url");
}

let pems: string[] | undefined;
function pemBlobs(): string[] {
  return (pems ??= cryptoFixtures().map((f) => f.text));
}

/** A PEM with its DER body mutated (bit flips, truncation, duplicated chunks). */
function mutatedPem(r: Rng): string {
  const pems = pemBlobs().filter((p) => p.includes("-----BEGIN"));
  if (!pems.length) return "";
  const pem = r.pick(pems);
  const m = /-----BEGIN ([^-]+)-----([\s\S]*?)-----END [^-]+-----/.exec(pem);
  if (!m) return pem;
  const der = Buffer.from(m[2].replace(/\s+/g, ""), "base64");
  const edits = 1 + r.int(4);
  let bytes = Array.from(der);
  for (let i = 0; i < edits; i++) {
    const at = r.int(bytes.length);
    switch (r.int(5)) {
      case 0:
        bytes[at] = r.int(256);
        break;
      case 1:
        bytes[at] ^= 1 << r.int(8);
        break;
      case 2:
        bytes = bytes.slice(0, at);
        break;
      case 3:
        bytes.splice(at, 0, ...bytes.slice(at, at + 1 + r.int(64)));
        break;
      default:
        bytes[at] = r.pick([0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0xff, 0x7f]); // ASN.1 length bytes
    }
  }
  const body = Buffer.from(bytes).toString("base64").replace(/(.{64})/g, "$1\n");
  return r.chance(0.2) ? Buffer.from(bytes).toString("base64") : `-----BEGIN ${m[1]}-----\n${body}\n-----END ${m[1]}-----\n`;
}

function jwtToken(r: Rng): string {
  const header: Record<string, unknown> = { alg: r.pick(JWT_ALGS), typ: r.pick(["JWT", "jwt", "JOSE", 1, null]) };
  if (r.chance(0.2)) header.kid = r.pick(["k1", "", "__proto__"]);
  if (r.chance(0.1)) header.crit = r.pick([["exp"], [], "x", [1]]);
  if (r.chance(0.1)) header.enc = "A128GCM";
  if (r.chance(0.05)) header.cty = "JWT";
  const payload: Record<string, unknown> = {};
  for (const k of ["iss", "sub", "aud", "exp", "nbf", "iat", "__proto__"]) {
    if (!r.chance(0.4)) continue;
    payload[k] = r.pick<unknown>(["x", 1, -1, 1e308, 9007199254740993, "1", [], ["a", 1], null, { a: 1 }, true]);
  }
  const enc = (o: unknown) => (r.chance(0.1) ? b64url(JSON.stringify(o)) + "=" : r.chance(0.05) ? Buffer.from(JSON.stringify(o)).toString("base64") : b64url(JSON.stringify(o)));
  const parts = [r.chance(0.05) ? b64url("not json") : enc(header), r.chance(0.05) ? b64url("[1,2]") : enc(payload), b64url(String.fromCharCode(...Array.from({ length: r.int(80) }, () => r.int(256))))];
  if (r.chance(0.05)) parts.push("x", "y");
  if (r.chance(0.05)) parts.pop();
  return parts.join(".");
}

function jwkKey(r: Rng): string {
  const keys = [
    { kty: "oct", k: b64url("secret") },
    { kty: "RSA", n: b64url("x".repeat(r.int(300))), e: r.pick(["AQAB", "", "AA", b64url("\u00ff".repeat(10))]) },
    { kty: "EC", crv: r.pick(["P-256", "P-384", "P-521", "P-999", "secp256k1"]), x: b64url("x".repeat(r.int(70))), y: b64url("y".repeat(r.int(70))) },
    { kty: "OKP", crv: r.pick(["Ed25519", "X25519", "Ed448"]), x: b64url("z".repeat(r.int(40))) },
    { kty: "RSA" },
    { kty: r.pick(["", "foo", 1]) },
  ];
  const k = r.pick(keys);
  return r.chance(0.5) ? JSON.stringify({ keys: [k, r.pick(keys)] }) : JSON.stringify(k);
}

function regexPattern(r: Rng): string {
  let s = r.pick(REGEXES);
  if (r.chance(0.3)) s += r.pick(REGEXES);
  if (r.chance(0.2)) s = s.slice(0, r.int(s.length + 1)) + r.pick(NASTY_CHARS) + s.slice(r.int(s.length + 1));
  return s;
}

function jsonText(r: Rng): string {
  return r.pick([
    '{"a": [1, 2, {"b": null}]}', "[1e400]", "123456789012345678901234567890", '"\\ud800"', "{\"__proto__\": {\"x\": 1}}", "", "{", "[1,]", "NaN",
    "[".repeat(r.size(50, 100000)) + "]".repeat(r.int(3) ? 0 : 1), '{"a": 1, "a": 2}', "-0", "0.1e-400", "\u2028", '"\\u0000"',
  ]);
}

function yamlText(r: Rng): string {
  return r.pick([
    "a: 1\nb: [x, y]", "a: &a [1, 2]\nb: *a", "x: !!binary aGk=", "- - - -", "? [a]\n: b", "a: |\n  x\n", "a: b: c", "{", "a: .inf", "0o777",
    "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\na1: &a1 [*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0]\na2: &a2 [*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1]\na3: &a3 [*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2]\na4: [*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3]",
    "__proto__: {x: 1}", "<<: {a: 1}", "---\n---\n", "a: 2001-12-14t21:59:43.10-05:00", "[".repeat(r.size(50, 100000)),
  ]);
}

/** A domain string for argument `i` of builtin `name`, or undefined for a generic one. */
function domainString(r: Rng, name: string, i: number): string | undefined {
  if (name.startsWith("regex.") || name === "re_match") {
    if (name === "regex.globs_match") return r.chance(0.5) ? regexPattern(r) : r.pick(GLOBS);
    if (name === "regex.template_match") return i === 0 ? `urn:foo:{${regexPattern(r)}}:bar` : i >= 2 ? r.pick(["{", "}", "<", ">", "", "{{"]) : "urn:foo:" + "a".repeat(r.size(10, 5000)) + ":bar";
    const patternArg = name === "regex.replace" ? 1 : 0;
    if (i === patternArg) return regexPattern(r);
    return r.chance(0.5) ? "a".repeat(r.size(30, 100000)) + r.pick(["", "!", "b", "\n"]) : undefined;
  }
  if (name === "glob.match") return i === 0 ? r.pick(GLOBS) + (r.chance(0.5) ? r.pick(GLOBS) : "") : r.chance(0.5) ? "a/b.c/d" : undefined;
  if (name === "glob.quote_meta") return r.pick(GLOBS);
  if (name === "time.parse_ns") return i === 0 ? r.pick(LAYOUTS) : r.pick(TIMES);
  if (name === "time.parse_rfc3339_ns") return r.pick(TIMES);
  if (name === "time.parse_duration_ns") return r.pick(DURATIONS);
  if (name.startsWith("units.")) return r.pick(UNITS);
  if (name.startsWith("semver.")) return r.pick(SEMVERS);
  if (name.startsWith("net.cidr")) return r.pick(CIDRS);
  if (name.startsWith("uri.") || name.startsWith("urlquery.")) return r.pick(URIS) + (r.chance(0.3) ? "&a=%" + r.pick(["", "z", "zz", "41", "E0%A4"]) : "");
  if (name === "uuid.parse") return r.pick(UUIDS);
  if (name === "sprintf" && i === 0) return Array.from({ length: 1 + r.int(4) }, () => r.pick(SPRINTF)).join(" ");
  if (name === "strings.render_template" && i === 0) return Array.from({ length: 1 + r.int(3) }, () => r.pick(TEMPLATES)).join("");
  if (name.startsWith("crypto.x509") || name === "crypto.parse_private_keys") {
    const pems = pemBlobs();
    return r.weighted([[3, () => (pems.length ? r.pick(pems) : "")], [6, () => mutatedPem(r)], [1, () => Buffer.from(r.pick(pems) ?? "").toString("base64")]] as const)();
  }
  if (name.startsWith("io.jwt.")) {
    if (name === "io.jwt.encode_sign_raw") return i === 2 ? jwkKey(r) : JSON.stringify(r.pick([{ alg: r.pick(JWT_ALGS) }, { typ: "JWT", alg: "HS256" }, {}]));
    if (i === 0) return jwtToken(r);
    const pems = pemBlobs();
    return r.weighted([[3, () => jwkKey(r)], [3, () => (pems.length ? r.pick(pems) : "")], [2, () => mutatedPem(r)], [2, () => "secret"]] as const)();
  }
  if (name.startsWith("base64") || name === "base64.is_valid") return r.pick(["aGVsbG8=", "aGVsbG8", "aGVsbG8==", "a", "====", "_-", "+/", "aGk=\n", "aGk=aGk=", "\u00e9"]);
  if (name === "hex.decode") return r.pick(["00ff", "0", "zz", "ABCDEF", "", "0x10"]);
  if (name === "json.unmarshal" || name === "json.is_valid") return jsonText(r);
  if (name === "yaml.unmarshal" || name === "yaml.is_valid") return yamlText(r);
  if (name === "json.verify_schema" || name === "json.match_schema") return r.pick(JSON_SCHEMAS);
  if (name.startsWith("graphql.")) return name === "graphql.parse_query" || (i === 0 && !name.endsWith("schema") && name !== "graphql.schema_is_valid") ? r.pick(GRAPHQL_QUERIES) + "{a".repeat(r.size(2, 20000)) : r.pick(GRAPHQL_SCHEMAS);
  if (name === "rego.parse_module") {
    if (i === 0) return r.pick(["x.rego", "", "../x", "\u0000"]);
    const c = generateRegoCase(r.next(), r.int(1 << 30));
    return regoModules(c)[0] ?? "";
  }
  if (name === "parse_config") {
    if (i === 0) return r.chance(0.9) ? r.pick(FORMAT_NAMES) : r.pick(["", "groovy", "YAML", "__proto__"]);
    return formatContent(generateFormatCase(r.next(), r.pick(FORMAT_NAMES), r.int(1 << 30)));
  }
  if (name === "parse_config_file") {
    const samples = [...formatSamples().values()].flat();
    return samples.length && r.chance(0.8) ? r.pick(samples).path : r.pick(["/nonexistent/x.yaml", "", "x.unknownext", "."]);
  }
  if (name === "format_int") return undefined;
  if (name === "time.format" || name === "time.date" || name === "time.clock" || name === "time.weekday" || name === "time.diff") {
    return r.pick(["UTC", "Local", "America/New_York", "Asia/Kathmandu", "Europe/Berlin", "", "Mars/Olympus", "../../../etc/passwd", "EST5EDT", "Etc/GMT+14", ...LAYOUTS]);
  }
  return undefined;
}

// ---- Values by type --------------------------------------------------------------------------

/**
 * Size budget of the case being generated (elements + characters): nested random values would
 * otherwise multiply into millions of nodes. Edge values (deep, wide, huge) are separate and
 * deliberate.
 */
let budget = 0;

function spend(n: number): number {
  const k = Math.max(0, Math.min(n, budget));
  budget -= k;
  return k;
}

function genericString(r: Rng): Enc {
  switch (r.int(9)) {
    case 0:
      return "";
    case 1:
      return r.pick(["a", "abc", "Hello, World", "x.y.z", "a/b/c", "  spaced  ", "UPPER", "ǅ", "İ", "ß", "0", "-1", "1.5", "true", "null"]);
    case 2: {
      let s = "";
      const n = r.size(8, 200);
      for (let i = 0; i < n; i++) s += r.pick(NASTY_CHARS);
      return s;
    }
    case 3:
      return { $rep: r.pick(["a", "ab", "\u00e9", "\ud800", "%", "\\", "{", "0", " ", "\n", "\ud83d\ude00"]), n: Math.max(1, spend(r.size(100, 1_000_000))), pre: r.chance(0.3) ? r.pick(NASTY_CHARS) : undefined };
    case 4:
      return r.pick(NASTY_KEYS);
    case 5:
      return r.pick([...CIDRS, ...TIMES, ...DURATIONS, ...UNITS, ...SEMVERS, ...URIS, ...REGEXES, ...GLOBS]);
    case 6:
      return r.pick(NUMBER_TEXTS);
    default: {
      let s = "";
      const n = r.size(10, 500);
      for (let i = 0; i < n; i++) s += String.fromCharCode(r.chance(0.9) ? 32 + r.int(95) : r.int(0x10000));
      return s;
    }
  }
}

function genNumber(r: Rng): Enc {
  switch (r.int(10)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return r.range(-5, 40);
    case 4:
    case 5:
      return { $num: r.pick(NUMBER_TEXTS) };
    case 6:
      return (r.float() - 0.5) * 10 ** r.range(-10, 20);
    case 7:
      return { $bigint: (r.chance(0.5) ? "-" : "") + "9".repeat(r.range(16, r.chance(0.95) ? 40 : 2000)) };
    case 8:
      return r.range(1000, 1_000_000_000);
    default:
      return r.pick([0, 1, -1, 2, 36, 37, 64, 65, 1023, 1024, 65536, 2147483647, 4294967296, 9007199254740991, 0.5, 1.5, -0.5]);
  }
}

/** A value of the declared type (or, for `any`, of a random one). */
function genValue(r: Rng, t: TypeDecl | undefined, name: string, argIdx: number, depth: number): Enc {
  if (!t || t.type === "any") {
    if (t && t.type === "any" && t.of && t.of.length) return genValue(r, r.pick(t.of), name, argIdx, depth);
    return anyValue(r, depth, name, argIdx);
  }
  switch (t.type) {
    case "null":
      return null;
    case "boolean":
      return r.chance(0.5);
    case "number":
      return genNumber(r);
    case "string":
      return (r.chance(0.7) ? domainString(r, name, argIdx) : undefined) ?? genericString(r);
    case "array": {
      if (t.static) {
        const items = t.static.map((s) => genValue(r, s, name, argIdx, depth + 1));
        if (r.chance(0.1)) items.pop();
        if (r.chance(0.1)) items.push(anyValue(r, depth + 1, name, argIdx));
        return items;
      }
      return collection(r, depth).map(() => genValue(r, t.dynamic, name, argIdx, depth + 1));
    }
    case "set":
      return { $set: collection(r, depth).map(() => genValue(r, t.of, name, argIdx, depth + 1)) };
    case "object": {
      const entries: [Enc, Enc][] = [];
      if (t.static) for (const s of t.static) if (r.chance(0.7)) entries.push([s.key, genValue(r, s.value, name, argIdx, depth + 1)]);
      for (const _ of collection(r, depth)) {
        const k = t.dynamic ? genValue(r, t.dynamic.key, name, argIdx, depth + 1) : r.pick(NASTY_KEYS);
        entries.push([r.chance(0.3) ? r.pick(NASTY_KEYS) : k, genValue(r, t.dynamic?.value, name, argIdx, depth + 1)]);
      }
      return { $obj: entries };
    }
    case "function":
      return anyValue(r, depth, name, argIdx);
  }
  return null;
}

function collection(r: Rng, depth: number): null[] {
  const n = spend(depth > 3 ? r.int(2) : r.size(4, 60));
  return new Array(n).fill(null);
}

function anyValue(r: Rng, depth: number, name: string, argIdx: number): Enc {
  const k = depth > 3 ? r.int(5) : r.int(9);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return genNumber(r);
    case 3:
    case 4:
      return (r.chance(0.3) ? domainString(r, name, argIdx) : undefined) ?? genericString(r);
    case 5:
      return collection(r, depth).map(() => anyValue(r, depth + 1, name, argIdx));
    case 6:
      return { $set: collection(r, depth).map(() => anyValue(r, depth + 1, name, argIdx)) };
    case 7:
      return { $obj: collection(r, depth).map(() => [r.chance(0.3) ? r.pick(NASTY_KEYS) : genericString(r), anyValue(r, depth + 1, name, argIdx)] as [Enc, Enc]) };
    default:
      return { $obj: collection(r, depth).map(() => [anyValue(r, depth + 2, name, argIdx), anyValue(r, depth + 1, name, argIdx)] as [Enc, Enc]) };
  }
}

/** Edge values: deep and wide collections, huge strings. */
/** A size drawn for an edge value, within the input cap (setMaxInput). */
function edgeSize(n: number): number {
  const cap = getMaxInput();
  return cap >= MAX_INPUT ? n : Math.max(1, Math.min(n, Math.floor(cap / 4)));
}

function edgeValue(r: Rng): Enc {
  // Sizes stay below what the value model itself needs seconds for (a 1e6-digit number, a
  // 100000-deep set): those are found once by the rego target, not again for every builtin.
  switch (r.int(6)) {
    case 0: {
      const kind = r.pick(["array", "object", "set"] as const);
      return { $deep: kind, n: edgeSize(kind === "set" ? r.size(20, 300) : r.size(100, 100_000)), leaf: r.pick<Enc>([1, "a", null, [], { $obj: [] }]) };
    }
    case 1:
      return { $wide: r.pick(["array", "set", "object"] as const), n: edgeSize(r.size(1000, 200_000)), elem: r.chance(0.5) ? undefined : r.pick<Enc>(["a", 1, [1]]) };
    case 2:
      return { $rep: r.pick(["a", "\ud800", "%", "[", "\\u0000", "\u2028"]), n: edgeSize(r.size(10_000, 1_000_000)) };
    case 3:
      return { $num: r.pick(["1e" + r.range(300, 3000), "-1e" + r.range(300, 3000), "1e-" + r.range(300, 3000), "0." + "0".repeat(r.int(2000)) + "1"]) };
    case 4:
      return { $bigint: "1" + "0".repeat(r.size(20, 3000)) };
    default:
      return { $obj: NASTY_KEYS.map((k, i) => [k, i] as [Enc, Enc]) };
  }
}

// ---- Cases -----------------------------------------------------------------------------------

let namesCache: string[] | undefined;

export function generateBuiltinCase(seed: number, index: number): BuiltinCase {
  const r = Rng.forCase(seed, "builtins", index);
  const names = (namesCache ??= fuzzableBuiltins());
  const name = names[r.int(names.length)];
  const b = BUILTINS.get(name)!;
  const declArgs = b.decl.args ?? [];
  let arity = declArgs.length;
  if (b.decl.variadic) arity = r.int(5);
  if (r.chance(0.04)) arity = Math.max(0, arity + r.pick([-1, 1, 2]));
  const args: Enc[] = [];
  budget = Math.min(
    getMaxInput(),
    r.weighted([
      [85, 300],
      [13, 5000],
      [2, 200_000],
    ]),
  );
  let how = "typed";
  for (let i = 0; i < arity; i++) {
    const t = i < declArgs.length ? declArgs[i] : b.decl.variadic;
    const p = r.float();
    if (p < 0.8) args.push(genValue(r, t, name, i, 0));
    else if (p < 0.92) {
      args.push(anyValue(r, 0, name, i));
      how = "mistyped";
    } else {
      args.push(edgeValue(r));
      how = "edge";
    }
  }
  const mode = r.chance(0.2) ? "literal" : "input";
  return { target: "builtins", name, args, mode, strict: r.chance(0.5), how };
}
