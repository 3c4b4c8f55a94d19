/**
 * Ignore files (`.gitignore`, `.dockerignore`, `*.ignore`), in conftest's
 * shape: an array holding one array with an entry per line (split on "\n";
 * a trailing newline gives a last Empty entry):
 *   { Kind: "Comment" | "Empty" | "Path" | "NegatedPath", Original, Value }
 * Comment values drop `#` and surrounding blanks; path values drop trailing
 * spaces, a leading `!` (negation) and a leading escaping backslash.
 */
import type { InputParser } from './types.ts';

interface Entry {
  Kind: 'Comment' | 'Empty' | 'Path' | 'NegatedPath';
  Original: string;
  Value: string;
}

/** Trailing spaces are dropped unless escaped (`a\\ ` keeps one space, unescaped). */
function trimTrailing(s: string): string {
  // a loop, not / +$/: that regex takes quadratic time on long inner runs of spaces
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 32) end--;
  const t = s.slice(0, end);
  if (t.endsWith('\\') && t.length < s.length) return t.slice(0, -1) + ' ';
  return t;
}

function parse(content: string): Entry[][] {
  const out: Entry[] = [];
  for (const line of content.split('\n')) {
    if (line.trim() === '') {
      out.push({ Kind: 'Empty', Original: line, Value: line });
    } else if (line[0] === '#') {
      out.push({ Kind: 'Comment', Original: line, Value: line.slice(1).trim() });
    } else if (line[0] === '!') {
      out.push({ Kind: 'NegatedPath', Original: line, Value: trimTrailing(line.slice(1)) });
    } else {
      let v = trimTrailing(line);
      if (v[0] === '\\') v = v.slice(1);
      out.push({ Kind: 'Path', Original: line, Value: v });
    }
  }
  return [out];
}

export const ignoreParser: InputParser = { name: 'ignore', parse };
