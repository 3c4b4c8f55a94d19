/**
 * Dockerfile (also `*.Dockerfile`, `Dockerfile.*`), in conftest's shape:
 * an array holding one array of instructions
 *   { Cmd, Flags, JSON, Stage, SubCmd, Value }
 * - Cmd: the instruction, lower case ("from", "run", ...); "comment" for comments
 * - Flags: leading `--name=value` words (quotes removed); null for comments and
 *   for an instruction with no arguments at all
 * - JSON: true when the arguments were in JSON (exec) form
 * - Stage: 0 until the second FROM, then 1, ...
 * - SubCmd: for ONBUILD, the triggered instruction as written
 * - Value: the arguments, split as BuildKit's parser splits them per instruction
 *
 * Parser directives at the very top (`# syntax=`, `# escape=`, `# check=`) are
 * consumed; other comments before an instruction become "comment" entries;
 * comments after the last instruction and inside continued lines are dropped.
 * Heredoc bodies (`RUN <<EOF` ... `EOF`) are skipped; the value keeps `<<EOF`.
 */
import { ParseError, type InputParser } from './types.ts';

interface Instruction {
  Cmd: string;
  Flags: string[] | null;
  JSON: boolean;
  Stage: number;
  SubCmd: string;
  Value: string[] | null;
}

interface Node {
  cmd: string; // as written
  flags: string[] | null;
  json: boolean;
  values: string[] | null;
  sub?: Node;
  line: number;
}

const WS = /[\t\v\f\r ]+/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
// `# name=value`; the value is trimmed afterwards (a lazy `(.+?)\s*$` takes
// quadratic time on long runs of blanks)
const DIRECTIVE_RE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=([\s\S]*)$/;

function directive(line: string): { key: string; value: string } | undefined {
  const m = DIRECTIVE_RE.exec(line);
  if (!m) return undefined;
  const value = m[2]!.trim();
  if (value === '' || /[\n\r\u2028\u2029]/.test(value)) return undefined;
  return { key: m[1]!, value };
}
const HEREDOC_CMDS = new Set(['run', 'copy', 'add']);

const isSpace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\v' || ch === '\f' || ch === '\u0085' || ch === '\u00a0';

class DockerfileSyntax extends Error {
  constructor(message: string, public line: number) {
    super(message);
  }
}

/** Split arguments into words the way BuildKit's parseWords does (quotes and escapes kept). */
function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const IN_SPACES = 0, IN_WORD = 1, IN_QUOTE = 2;
  let phase = IN_SPACES;
  let word = '';
  let quote = '';
  let blankOK = false;
  const chars = Array.from(rest);
  const n = chars.length;
  for (let pos = 0; pos <= n; pos++) {
    let ch = pos < n ? chars[pos]! : '';
    if (phase === IN_SPACES) {
      if (pos === n) break;
      if (isSpace(ch)) continue;
      phase = IN_WORD;
    }
    if ((phase === IN_WORD || phase === IN_QUOTE) && pos === n) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === IN_WORD) {
      if (isSpace(ch)) {
        phase = IN_SPACES;
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = IN_QUOTE;
      }
      if (ch === escape) {
        if (pos + 1 === n) continue;
        word += ch;
        pos++;
        ch = chars[pos]!;
      }
      word += ch;
      continue;
    }
    if (phase === IN_QUOTE) {
      if (ch === quote) phase = IN_WORD;
      if (ch === escape && quote !== "'") {
        if (pos + 1 === n) {
          phase = IN_WORD;
          continue;
        }
        pos++;
        word += ch;
        ch = chars[pos]!;
      }
      word += ch;
    }
  }
  return words;
}

/**
 * Leading `--flag` words of `line` from `start` on; quotes inside them are
 * removed. Returns where the rest starts (blanks skipped) and the flags.
 * Works on indexes: a chain of ONBUILD triggers is read in linear time.
 */
function extractFlags(line: string, start: number): [number, string[]] {
  const flags: string[] = [];
  const n = line.length;
  let pos = start;
  while (pos < n) {
    while (pos < n && isSpace(line[pos]!)) pos++;
    if (pos >= n) break;
    if (!(line[pos] === '-' && line[pos + 1] === '-')) break;
    // read one word, quotes honoured and removed
    let word = '';
    let quote = '';
    let p = pos;
    for (; p < n; p++) {
      const ch = line[p]!;
      if (quote) {
        if (ch === quote) quote = '';
        else word += ch;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (isSpace(ch)) break;
      else word += ch;
    }
    if (word === '--') {
      pos = p;
      break;
    }
    flags.push(word);
    pos = p;
  }
  while (pos < n && isSpace(line[pos]!)) pos++;
  return [pos, flags];
}

function splitWhitespace(rest: string): string[] | null {
  const t = rest.trim();
  if (t === '') return null;
  return t.split(WS);
}

/** `[ "a", "b" ]` → strings, or undefined when not a JSON array of strings. */
function parseJsonArray(rest: string, line = 0): string[] | null | undefined {
  const t = rest.trim();
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new DockerfileSyntax('when using JSON array syntax, arrays must be comprised of strings only', line);
  return v.length === 0 ? null : (v as string[]);
}

function parseNameVal(rest: string, key: string, escape: string, line: number): string[] | null {
  const words = parseWords(rest, escape);
  if (words.length === 0) return null;
  if (!words[0]!.includes('=')) {
    // `KEY name value`: split at the first blank (only [\t\v\f\r ] separate, as in BuildKit)
    const t = rest.trim();
    const ws = WS.exec(t);
    if (!ws) throw new DockerfileSyntax(`${key} must have two arguments`, line);
    return [t.slice(0, ws.index), t.slice(ws.index + ws[0].length), ''];
  }
  const out: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) {
      throw new DockerfileSyntax(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`, line);
    }
    out.push(w.slice(0, eq), w.slice(eq + 1), '=');
  }
  return out;
}

const JS_SPACE = /\s/;
const BLANK = /[\t\v\f\r ]/;

/**
 * One instruction line. An ONBUILD trigger is read as the instruction it
 * holds; chains (`ONBUILD ONBUILD ...`, refused later by validate) are read
 * in a loop over indexes into the one trimmed line, so that their length
 * costs linear time and no stack.
 */
function nodeFromLine(line: string, escape: string, lineNo: number): Node {
  const text = line.trim();
  let start = 0;
  let first: Node | undefined;
  let parent: Node | undefined;
  for (;;) {
    while (start < text.length && JS_SPACE.test(text[start]!)) start++;
    // the instruction word: up to a blank; another kind of white space (a line
    // separator, say) leaves the whole text as the word
    let end = start;
    while (end < text.length && !JS_SPACE.test(text[end]!)) end++;
    let cmd: string;
    let flags: string[] | null = null;
    let restStart = text.length;
    if (end < text.length && !BLANK.test(text[end]!)) cmd = text.slice(start);
    else {
      cmd = text.slice(start, end);
      if (end < text.length) {
        let a = end;
        while (a < text.length && BLANK.test(text[a]!)) a++;
        [restStart, flags] = extractFlags(text, a);
      }
    }
    if (cmd.toLowerCase() === 'onbuild') {
      const node: Node = { cmd, flags, json: false, values: null, line: lineNo };
      if (parent) parent.sub = node;
      else first = node;
      parent = node;
      if (restStart >= text.length) return first!;
      start = restStart;
      continue;
    }
    const node = instruction(cmd, flags, text.slice(restStart), escape, lineNo);
    if (parent) parent.sub = node;
    return first ?? node;
  }
}

/** An instruction other than ONBUILD, from its word, flags and the rest of the line. */
function instruction(cmd: string, flags: string[] | null, rest: string, escape: string, lineNo: number): Node {
  const node: Node = { cmd, flags, json: false, values: null, line: lineNo };
  const lc = cmd.toLowerCase();
  switch (lc) {
    case 'run':
    case 'cmd':
    case 'entrypoint':
    case 'shell': {
      const j = parseJsonArray(rest, lineNo);
      if (j !== undefined) {
        node.json = true;
        node.values = j;
      } else node.values = rest.trim() === '' ? null : [rest.trim()];
      break;
    }
    case 'add':
    case 'copy':
    case 'volume': {
      const j = parseJsonArray(rest, lineNo);
      if (j !== undefined) {
        node.json = true;
        node.values = j;
      } else node.values = splitWhitespace(rest);
      break;
    }
    case 'env':
    case 'label':
      node.values = parseNameVal(rest, lc.toUpperCase(), escape, lineNo);
      break;
    case 'arg': {
      const w = parseWords(rest, escape);
      node.values = w.length ? w : null;
      break;
    }
    case 'healthcheck': {
      const r = rest;
      let sep = 0;
      while (sep < r.length && !isSpace(r[sep]!)) sep++;
      let next = sep;
      while (next < r.length && isSpace(r[next]!)) next++;
      if (sep === 0) break;
      const typ = r.slice(0, sep);
      const tail = r.slice(next);
      const j = parseJsonArray(tail, lineNo);
      if (j !== undefined) {
        node.json = true;
        node.values = [typ, ...(j ?? [])];
      } else node.values = tail.trim() === '' ? [typ] : [typ, tail.trim()];
      break;
    }
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      node.values = rest.trim() === '' ? null : [rest.trim()];
      break;
    default:
      // from, expose and anything unknown
      node.values = splitWhitespace(rest);
  }
  return node;
}

const FLAGS_ALLOWED: Record<string, string[]> = {
  from: ['platform'],
  run: ['mount', 'network', 'security', 'device'],
  copy: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  add: ['chown', 'chmod', 'link', 'keep-git-dir', 'checksum', 'unpack', 'exclude'],
  healthcheck: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};
const KNOWN_CMDS = new Set([
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
]);

/** The checks BuildKit's instruction parser makes after the syntax pass. */
function validate(node: Node, inOnbuild = false): void {
  const lc = node.cmd.toLowerCase();
  const up = lc.toUpperCase();
  const fail = (msg: string) => {
    throw new DockerfileSyntax(msg, node.line);
  };
  if (!KNOWN_CMDS.has(lc)) fail(`unknown instruction: ${node.cmd}`);
  const vals = node.values ?? [];
  const allowed = FLAGS_ALLOWED[lc] ?? [];
  for (const f of node.flags ?? []) {
    const name = f.slice(2).split('=')[0]!;
    if (!allowed.includes(name)) fail(`unknown flag: --${name}`);
  }
  switch (lc) {
    case 'expose':
    case 'label':
    case 'arg':
    case 'healthcheck':
    case 'volume':
    case 'env':
      if (vals.length === 0) fail(`${up} requires at least one argument`);
      break;
    case 'user':
    case 'maintainer':
    case 'stopsignal':
    case 'workdir':
      if (vals.length !== 1) fail(`${up} requires exactly one argument`);
      break;
    case 'from':
      if (vals.length !== 1 && !(vals.length === 3 && vals[1]!.toLowerCase() === 'as')) {
        fail('FROM requires either one or three arguments');
      }
      break;
    case 'copy':
    case 'add':
      if (vals.length < 2) {
        fail(
          vals.length === 1
            ? `${up} requires at least two arguments, but only one was provided. Destination could not be determined`
            : `${up} requires at least two arguments`,
        );
      }
      break;
    case 'shell':
      if (!node.json) fail('SHELL requires the arguments to be in JSON form');
      if (vals.length === 0) fail('SHELL requires at least one argument');
      break;
    case 'onbuild':
      if (!node.sub) fail('ONBUILD requires at least one argument');
      if (inOnbuild) fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      {
        const s = node.sub!.cmd.toLowerCase();
        if (s === 'from' || s === 'maintainer') fail(`${s.toUpperCase()} isn't allowed as an ONBUILD trigger`);
        if (s === 'onbuild') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        validate(node.sub!, true);
      }
      break;
    case 'healthcheck_':
      break;
  }
  if (lc === 'healthcheck' && vals.length > 0) {
    const typ = vals[0]!.toUpperCase();
    if (typ !== 'CMD' && typ !== 'NONE') fail(`Unknown type "${typ}" in HEALTHCHECK (try CMD)`);
    if (typ === 'CMD' && vals.length < 2) fail('Missing command after HEALTHCHECK CMD');
    if (typ === 'NONE' && vals.length > 1) fail('HEALTHCHECK NONE takes no arguments');
  }
}

interface Heredoc {
  name: string;
  chomp: boolean;
}

function heredocsIn(line: string): Heredoc[] {
  const out: Heredoc[] = [];
  const re = /(?:^|\s)[0-9]*<<(-?)\s*(["']?)([^\s"'<>|&;]+)\2(?=\s|$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push({ name: m[3]!, chomp: m[1] === '-' });
  return out;
}

export function parseDockerfile(content: string, file: string): Instruction[][] {
  const lines = content.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  let escape = '\\';
  let i = 0;
  // parser directives
  const seen = new Set<string>();
  while (i < lines.length) {
    const m = directive(lines[i]!);
    if (!m) break;
    const key = m.key.toLowerCase();
    if (!KNOWN_DIRECTIVES.has(key)) break;
    if (seen.has(key)) throw new ParseError(`only one ${key} parser directive can be used`, { file, parser: 'dockerfile', line: i + 1 });
    seen.add(key);
    if (key === 'escape') {
      const v = m.value;
      if (v !== '`' && v !== '\\') {
        throw new ParseError(`invalid escape token '${v}' does not match ${'`'} or \\`, { file, parser: 'dockerfile', line: i + 1 });
      }
      escape = v;
    }
    i++;
  }
  const esc = escape === '\\' ? '\\\\' : '`';
  // a line continues when it ends (before blanks) with an odd number of escape characters
  const contRe = new RegExp(`(?<!${esc})(?:${esc}${esc})*${esc}[ \\t]*$`);
  /** Index where a continued line's content ends (its last escape character), or -1. */
  const contCut = (l: string): number => {
    const m = contRe.exec(l);
    if (!m) return -1;
    return m.index + m[0].replace(/[ \t]*$/, '').length - 1;
  };
  const nodes: { node: Node; comments: string[] }[] = [];
  let comments: string[] = [];
  try {
    while (i < lines.length) {
      const startLine = i + 1;
      const raw = lines[i++]!;
      const left = raw.replace(/^[\t\v\f\r \u0085\u00a0]+/, '');
      if (left.startsWith('#')) {
        // an empty comment line drops the comments gathered so far (BuildKit)
        const c = left.slice(1).trim();
        if (c === '') comments = [];
        else comments.push(c);
        continue;
      }
      if (left.trim() === '') continue;
      let line: string;
      let ended: boolean;
      const cut0 = contCut(left);
      if (cut0 >= 0) {
        line = left.slice(0, cut0);
        ended = false;
      } else {
        line = left;
        ended = true;
      }
      if (!ended && line.trim() === '' && i >= lines.length) continue;
      while (!ended && i < lines.length) {
        const next = lines[i++]!;
        const nl = next.replace(/^[\t\v\f\r \u0085\u00a0]+/, '');
        if (nl.startsWith('#')) continue;
        if (next.trim() === '') continue;
        const cut = contCut(next);
        if (cut >= 0) line += next.slice(0, cut);
        else {
          line += next;
          ended = true;
        }
      }
      if (line.trim() === '') continue;
      const node = nodeFromLine(line, escape, startLine);
      // heredoc bodies
      const lc = node.cmd.toLowerCase();
      const target = lc === 'onbuild' && node.sub ? node.sub.cmd.toLowerCase() : lc;
      if (HEREDOC_CMDS.has(target)) {
        for (const h of heredocsIn(line)) {
          let closed = false;
          while (i < lines.length) {
            const body = lines[i++]!;
            const cmp = h.chomp ? body.replace(/^\t+/, '') : body;
            if (cmp === h.name) {
              closed = true;
              break;
            }
          }
          if (!closed) throw new DockerfileSyntax('unterminated heredoc', startLine);
        }
      }
      nodes.push({ node, comments });
      comments = [];
    }
  } catch (e) {
    if (e instanceof DockerfileSyntax) throw new ParseError(e.message, { file, parser: 'dockerfile', line: e.line });
    throw e;
  }
  if (nodes.length === 0) throw new ParseError('file with no instructions', { file, parser: 'dockerfile' });

  const out: Instruction[] = [];
  let stage = 0;
  let froms = 0;
  for (const { node, comments: cs } of nodes) {
    try {
      validate(node);
    } catch (e) {
      if (e instanceof DockerfileSyntax) throw new ParseError(e.message, { file, parser: 'dockerfile', line: e.line });
      throw e;
    }
    const lc = node.cmd.toLowerCase();
    if (lc === 'from') {
      froms++;
      if (froms > 1) stage++;
    }
    for (const c of cs) {
      out.push({ Cmd: 'comment', Flags: null, JSON: false, Stage: stage, SubCmd: '', Value: [c] });
    }
    if (node.sub) {
      out.push({
        Cmd: lc,
        Flags: node.flags,
        JSON: node.sub.json,
        Stage: stage,
        SubCmd: node.sub.cmd,
        Value: node.sub.values,
      });
    } else {
      out.push({ Cmd: lc, Flags: node.flags, JSON: node.json, Stage: stage, SubCmd: '', Value: node.values });
    }
  }
  return [out];
}

export const dockerfileParser: InputParser = { name: 'dockerfile', parse: parseDockerfile };
