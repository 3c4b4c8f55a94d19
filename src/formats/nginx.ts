/**
 * nginx configuration (`nginx.conf`, `*.nginx`), in conftest's shape:
 *   { directives: [{ name, parameters?, block?: { directives: [...] } }] }
 * Parameters keep their quotes; comments are dropped. Directive names are
 * not checked against nginx's list (conftest rejects unknown names).
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { DEPTH_REASON, MAX_DEPTH } from './limits.ts';

interface Directive {
  name: string;
  parameters?: string[];
  block?: { directives: Directive[] };
}

type Tok = { t: 'word' | '{' | '}' | ';' | 'eof'; v: string; pos: number };

class NginxError extends Error {
  constructor(message: string, public pos: number) {
    super(message);
  }
}

function lex(s: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < s.length && s[i] !== '\n') i++;
      continue;
    }
    if (c === '{' || c === '}' || c === ';') {
      toks.push({ t: c, v: c, pos: i });
      i++;
      continue;
    }
    const start = i;
    let word = '';
    while (i < s.length) {
      const d = s[i]!;
      if (d === '"' || d === "'") {
        const end = s.indexOf(d, i + 1);
        let j = i + 1;
        for (; j < s.length && s[j] !== d; j++) if (s[j] === '\\') j++;
        if (j >= s.length || end < 0) throw new NginxError('unterminated quoted string', i);
        word += s.slice(i, j + 1);
        i = j + 1;
        continue;
      }
      if (/\s/.test(d) || d === '{' || d === '}' || d === ';') break;
      if (d === '\\' && i + 1 < s.length) {
        word += s.slice(i, i + 2);
        i += 2;
        continue;
      }
      word += d;
      i++;
    }
    toks.push({ t: 'word', v: word, pos: start });
  }
  toks.push({ t: 'eof', v: '', pos: s.length });
  return toks;
}

function parse(content: string, file: string): unknown {
  try {
    return parseTokens(lex(content));
  } catch (e) {
    // lexing and parsing errors alike are the input's: a located ParseError
    if (e instanceof NginxError) {
      const { line, column } = lineColAt(content, e.pos);
      throw new ParseError(e.message, { file, parser: 'nginx', line, column });
    }
    throw e;
  }
}

function parseTokens(toks: Tok[]): unknown {
  let i = 0;
  const block = (inner: boolean, depth: number): Directive[] => {
    // each block adds three levels to the value: {name, block: {directives: [...]}}
    if (3 * depth + 2 > MAX_DEPTH) throw new NginxError(DEPTH_REASON, toks[i]!.pos);
    const out: Directive[] = [];
    for (;;) {
      const t = toks[i]!;
      if (t.t === 'eof') {
        if (inner) throw new NginxError('unexpected eof in block', t.pos);
        return out;
      }
      if (t.t === '}') {
        if (!inner) throw new NginxError('unexpected token BlockEnd (})', t.pos);
        i++;
        return out;
      }
      if (t.t !== 'word') throw new NginxError(`unexpected token ${t.v}`, t.pos);
      i++;
      const d: Directive = { name: t.v };
      const params: string[] = [];
      for (;;) {
        const n = toks[i]!;
        if (n.t === 'word') {
          params.push(n.v);
          i++;
        } else if (n.t === ';') {
          i++;
          break;
        } else if (n.t === '{') {
          i++;
          d.block = { directives: block(true, depth + 1) };
          break;
        } else if (n.t === '}') throw new NginxError('unexpected token BlockEnd (})', n.pos);
        else throw new NginxError('unexpected eof', n.pos);
      }
      if (params.length) d.parameters = params;
      out.push(d);
    }
  };
  return { directives: block(false, 0) };
}

export const nginxParser: InputParser = { name: 'nginx', parse };
