/**
 * Shared types for Portcullis input-format parsers.
 *
 * Every format lives in its own module under src/formats/ and exports an
 * InputParser. A parser turns the text of one file into the value a policy
 * sees as `input` (the same shape `conftest parse` prints).
 */

export interface InputParser {
  /** conftest's parser name: "yaml", "json", "hcl2", "dockerfile", ... */
  name: string;
  /** Parse the content of `file`; returns the input document(s). Throws ParseError. */
  parse(content: string, file: string): unknown;
  /**
   * For languages whose programs can recurse without end (jsonnet, cue): the
   * reason reported when evaluation runs out of stack even on the large
   * stack (large-stack.ts). Other parsers limit their nesting to MAX_DEPTH,
   * so running out of stack there is an internal fault.
   */
  stackExhausted?: string;
}

export interface ParseErrorOptions {
  file: string;
  parser: string;
  line?: number;
  column?: number;
  cause?: unknown;
}

/** A syntax or structure error in an input file. Its message names file, line/column and parser. */
export class ParseError extends Error {
  file: string;
  line?: number;
  column?: number;
  parser: string;
  /** The bare reason, without the file/line/parser prefix. */
  reason: string;

  constructor(reason: string, opts: ParseErrorOptions) {
    const loc =
      opts.line !== undefined
        ? `${opts.file}:${opts.line}${opts.column !== undefined ? `:${opts.column}` : ''}`
        : opts.file;
    super(`${loc}: ${opts.parser}: ${reason}`);
    this.name = 'ParseError';
    this.reason = reason;
    this.file = opts.file;
    this.parser = opts.parser;
    if (opts.line !== undefined) this.line = opts.line;
    if (opts.column !== undefined) this.column = opts.column;
    if (opts.cause !== undefined) (this as { cause?: unknown }).cause = opts.cause;
  }
}

/**
 * A fault inside a parser (a bug, an exhausted resource): not the input's
 * fault, so it is reported as an internal error, never as the user's syntax
 * error. The message reads `internal error in the PARSER parser: ...`.
 */
export class ParserFault extends Error {
  file: string;
  parser: string;

  constructor(parser: string, file: string, cause: unknown) {
    const detail = cause instanceof Error ? `${cause.name === 'Error' ? '' : `${cause.name}: `}${cause.message}` : String(cause);
    super(`internal error in the ${parser} parser: ${detail} (reading ${file})`);
    this.name = 'ParserFault';
    this.file = file;
    this.parser = parser;
    (this as { cause?: unknown }).cause = cause;
  }
}

/** 1-based line and column of a 0-based offset into `text`. */
export function lineColAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
