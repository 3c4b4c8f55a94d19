/**
 * Input-format registry without file access: parser lookup by name, conftest's file-type
 * detection, and parseContent (detect + parse text). ./index.ts adds parseFile (read a file);
 * the browser playground uses this module as it is.
 */
import { ParseError, ParserFault, type InputParser } from './types.ts';
import { PARSERS } from './registry.ts';
import { DEPTH_REASON, MAX_INPUT_BYTES, checkDepth, inputTooLarge } from './limits.ts';
import { isStackOverflow, callWithLargeStack, registerLargeStackFn, encodeDocument, decodeDocument } from '../builtins/support/large-stack.ts';
import { currentDirs as protoFileDirs, setProtoFileDirs } from './protodirs.ts';

export { ParseError, ParserFault } from './types.ts';
export type { InputParser } from './types.ts';
export { MAX_DEPTH, MAX_INPUT_BYTES } from './limits.ts';
/** Directories of .proto files for textproto inputs (conftest test --proto-file-dirs). */
export { setProtoFileDirs } from './protodirs.ts';

const BY_NAME = new Map<string, InputParser>(PARSERS.map((p) => [p.name, p]));

/** Parser names accepted by --parser: conftest's list, plus jsonc (which conftest also accepts). */
export const PARSER_NAMES: string[] = PARSERS.map((p) => p.name).sort();

export function getParser(name: string): InputParser | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Extensions that name a parser other than themselves. */
const EXT_ALIASES: Record<string, string> = {
  yml: 'yaml',
  tf: 'hcl2',
  tfvars: 'hcl2',
  hcl: 'hcl2',
  env: 'dotenv',
  gitignore: 'ignore',
  dockerignore: 'ignore',
  textpb: 'textproto',
};

/**
 * The parser name conftest picks for a path, or the name it would try
 * (which may be unknown: conftest then fails with "unknown parser: NAME").
 *
 * Order, as conftest behaves: Dockerfile names first (`Dockerfile`,
 * `Dockerfile.*`, `*.dockerfile`, case-insensitive); then `.yaml`/`.yml`;
 * then `.tf`/`.tfvars`/`.hcl`; `.gitignore`/`.dockerignore`; `.env`; then
 * `Jenkinsfile`/`Jenkinsfile.*` (groovy), `.env`/`.env.*` (dotenv),
 * `CODEOWNERS`, `nginx.conf`; finally the extension itself names the parser.
 */
export function detectParserName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const dot = base.lastIndexOf('.');
  const ext = dot >= 0 ? base.slice(dot + 1) : '';
  if (base === 'dockerfile' || base.startsWith('dockerfile.') || ext === 'dockerfile') return 'dockerfile';
  if (ext === 'yaml' || ext === 'yml') return 'yaml';
  if (ext === 'tf' || ext === 'tfvars' || ext === 'hcl') return 'hcl2';
  if (ext === 'gitignore' || ext === 'dockerignore') return 'ignore';
  if (ext === 'env') return 'dotenv';
  if (base === 'jenkinsfile' || base.startsWith('jenkinsfile.')) return 'groovy';
  if (base === '.env' || base.startsWith('.env.')) return 'dotenv';
  if (base === 'codeowners') return 'codeowners';
  if (base === 'nginx.conf') return 'nginx';
  return EXT_ALIASES[ext] ?? ext;
}

/** conftest's detection by file name/extension; undefined when no parser fits. */
export function parserForFile(path: string): InputParser | undefined {
  return BY_NAME.get(detectParserName(path));
}

/** Decode file bytes as conftest does: UTF-8, a leading byte-order mark dropped. */
export function decodeInput(buf: Uint8Array | string): string {
  const text = typeof buf === 'string' ? buf : new TextDecoder().decode(buf);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parse already-read content with a named parser or by detection from `path`.
 * Errors are ParseError (the input's fault) or ParserFault (an internal error).
 */
export function parseContent(content: string, path: string, opts: { parser?: string } = {}): unknown {
  const parser = pickParser(path, opts.parser);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: measure only when it can matter
  if (content.length * 3 > MAX_INPUT_BYTES) {
    const size = Buffer.byteLength(content, 'utf8');
    if (size > MAX_INPUT_BYTES) throw inputTooLarge(size, path, parser.name);
  }
  return runParser(parser, decodeInput(content), path);
}

export function pickParser(path: string, name?: string): InputParser {
  if (name !== undefined && name !== '') {
    const p = getParser(name);
    if (!p) {
      throw new ParseError(`unknown parser: ${name} (valid parsers: ${PARSER_NAMES.join(', ')})`, {
        file: path,
        parser: name,
      });
    }
    return p;
  }
  const detected = detectParserName(path);
  const p = BY_NAME.get(detected);
  if (!p) {
    const e = new ParseError(`unknown parser: ${detected || '(no extension)'}; use --parser to choose one`, {
      file: path,
      parser: detected,
    });
    // worded as conftest words it (`test`, `parse`): the type named by the extension, then the path
    e.message = `new parser: new: unknown parser: ${detected}, path: ${path}`;
    throw e;
  }
  return p;
}

/**
 * Run one parser. A ParseError passes through; a parser that runs out of
 * stack on a deeply nested (but allowed) document is run again on a larger
 * stack (large-stack.ts); any other exception is a ParserFault, never
 * reported as the user's syntax error. The value is then checked against
 * MAX_DEPTH (limits.ts).
 */
/** A parse job for the large-stack worker (as text). */
interface ParseJob {
  parser: string;
  content: string;
  file: string;
  protoDirs?: string[];
}

/**
 * The parse as the large-stack worker runs it: the document (encodeDocument) or, prefixed with
 * "E", the ParseError's fields. Registered by name, so the worker (which imports this module)
 * finds it.
 */
function parseOnLargeStack(arg: string): string {
  const job = JSON.parse(arg) as ParseJob;
  const parser = getParser(job.parser);
  if (!parser) throw new Error(`unknown parser ${job.parser}`);
  if (job.protoDirs) setProtoFileDirs(job.protoDirs);
  try {
    return encodeDocument(parser.parse(job.content, job.file));
  } catch (e) {
    const exhausted = isStackOverflow(e) ? parser.stackExhausted : undefined;
    if (exhausted) return 'E' + JSON.stringify({ reason: exhausted, file: job.file, parser: job.parser });
    if (e instanceof ParseError) return 'E' + JSON.stringify({ reason: e.reason, file: e.file, parser: e.parser, line: e.line, column: e.column });
    throw e;
  }
}
registerLargeStackFn('formats.parse', parseOnLargeStack);

/** Run a parser on the large-stack worker: its value, or its ParseError thrown here. */
export function parseWithLargeStack(job: ParseJob): unknown {
  const text = callWithLargeStack({ fn: 'formats.parse', arg: JSON.stringify(job) });
  if (text.startsWith('E')) {
    const e = JSON.parse(text.slice(1)) as { reason: string; file: string; parser: string; line?: number; column?: number };
    throw new ParseError(e.reason, { file: e.file, parser: e.parser, line: e.line, column: e.column });
  }
  return decodeDocument(text);
}

export function runParser(parser: InputParser, content: string, path: string): unknown {
  let value: unknown;
  try {
    value = parser.parse(content, path);
  } catch (e) {
    if (e instanceof ParseError) throw e;
    if (!isStackOverflow(e)) throw new ParserFault(parser.name, path, e);
    try {
      value = parseWithLargeStack({
        parser: parser.name,
        content,
        file: path,
        protoDirs: parser.name === 'textproto' ? protoFileDirs() : undefined,
      });
    } catch (e2) {
      if (e2 instanceof ParseError) throw e2;
      throw new ParserFault(parser.name, path, e2);
    }
  }
  const depth = checkDepth(value);
  if (depth === 'deep') throw new ParseError(DEPTH_REASON, { file: path, parser: parser.name });
  if (depth === 'cycle') throw new ParserFault(parser.name, path, new Error('the parsed value contains itself'));
  return value;
}
