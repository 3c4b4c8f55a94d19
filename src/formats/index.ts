/**
 * Input formats: the registry of ./content.ts (parser lookup, conftest's file-type detection,
 * parseContent) and parseFile (read + detect + parse).
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { ParseError } from './types.ts';
import { MAX_INPUT_BYTES, inputTooLarge } from './limits.ts';
import { decodeInput, pickParser, runParser } from './content.ts';

export * from './content.ts';

/**
 * Read, detect and parse one file. Errors are ParseError naming file, line
 * and parser (the input's fault: syntax, too deep, too large, unreadable) or
 * ParserFault (an internal error of the parser).
 */
export function parseFile(path: string, opts: { parser?: string } = {}): unknown {
  const parser = pickParser(path, opts.parser);
  let buf: Buffer;
  try {
    buf = readLimited(path, parser.name);
  } catch (e) {
    if (e instanceof ParseError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new ParseError(`read file: ${why}`, { file: path, parser: parser.name, cause: e });
  }
  return runParser(parser, decodeInput(buf), path);
}

/** The file's bytes; a ParseError when it holds more than MAX_INPUT_BYTES (checked before reading when the size is known). */
function readLimited(path: string, parser: string): Buffer {
  const fd = openSync(path, 'r');
  let buf: Buffer;
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.size > MAX_INPUT_BYTES) throw inputTooLarge(st.size, path, parser);
    buf = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  // pipes and other special files report no size
  if (buf.length > MAX_INPUT_BYTES) throw inputTooLarge(buf.length, path, parser);
  return buf;
}

