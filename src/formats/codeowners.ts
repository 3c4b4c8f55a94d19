/**
 * CODEOWNERS (`CODEOWNERS`, `*.codeowners`), in conftest's shape:
 *   { rules: [{ pattern, owners: [{type, value}], comment, lineNumber }] }
 * (rules is null for a file without rules). Owners: `@user` (username),
 * `@org/team` (team), `a@b.c` (email). A `#` starts the rule's comment.
 */
import { ParseError, type InputParser } from './types.ts';

interface Owner {
  type: 'username' | 'team' | 'email';
  value: string;
}

function parse(content: string, file: string): unknown {
  const rules: { pattern: string; owners: Owner[]; comment: string; lineNumber: number }[] = [];
  const lines = content.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNumber = i + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('[') || line.startsWith('^[')) {
      throw new ParseError(`failed to parse CODEOWNERS: line ${lineNumber}: unexpected character '[' at position 1`, {
        file,
        parser: 'codeowners',
        line: lineNumber,
        column: 1,
      });
    }
    const hash = line.indexOf('#');
    const comment = hash >= 0 ? line.slice(hash + 1).trim() : '';
    const body = hash >= 0 ? line.slice(0, hash) : line;
    const re = /\S+/g;
    let m: RegExpExecArray | null;
    let pattern: string | undefined;
    const owners: Owner[] = [];
    while ((m = re.exec(body)) !== null) {
      const tok = m[0];
      if (pattern === undefined) {
        pattern = tok;
        continue;
      }
      if (/^@[^@/\s]+\/[^@\s]+$/.test(tok)) owners.push({ type: 'team', value: tok.slice(1) });
      else if (/^@[^@/\s]+$/.test(tok)) owners.push({ type: 'username', value: tok.slice(1) });
      else if (/^[^@\s]+@[^@\s]+$/.test(tok)) owners.push({ type: 'email', value: tok });
      else {
        const column = raw.indexOf(tok) + 1;
        throw new ParseError(`failed to parse CODEOWNERS: line ${lineNumber}: invalid owner format '${tok}' at position ${column}`, {
          file,
          parser: 'codeowners',
          line: lineNumber,
          column,
        });
      }
    }
    if (pattern === undefined) return;
    rules.push({ pattern, owners, comment, lineNumber });
  });
  return { rules: rules.length ? rules : null };
}

export const codeownersParser: InputParser = { name: 'codeowners', parse };
