// OPA's source line for a parse error (ParserErrorDetail), shared by `portcullis eval`'s error
// report and rego.parse_module's messages.

/**
 * OPA's source line for a parse error: the line of the last non-space byte at or before the
 * error's position, and that byte's index in it (in bytes, as OPA counts).
 */
export function parserErrorDetail(source: string, row: number, col: number): { line: string; idx: number } | undefined {
  const bs = Buffer.from(source, "utf8");
  if (bs.length === 0) return undefined;
  const lines = source.split("\n");
  if (row > lines.length) return undefined;
  let offset = 0;
  for (let r = 1; r < row; r++) offset += Buffer.byteLength(lines[r - 1], "utf8") + 1;
  offset += Buffer.byteLength([...lines[row - 1]].slice(0, col - 1).join(""), "utf8");
  if (offset >= bs.length) offset = bs.length - 1;
  const isSpace = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0x85 || b === 0xa0;
  const isNewline = (b: number) => b === 0x0a || b === 0x0d;
  while (offset > 0 && isSpace(bs[offset])) offset--;
  let begin = offset;
  while (begin > 0 && !isNewline(bs[begin])) begin--;
  if (isNewline(bs[begin])) begin++;
  let end = offset;
  while (end < bs.length && !isNewline(bs[end])) end++;
  if (begin > end) begin = end;
  return { line: bs.subarray(begin, end).toString("utf8"), idx: offset - begin };
}

/** The detail as OPA prints it under an error: the line without leading tabs, and a caret. */
export function detailText(d: { line: string; idx: number }): string {
  const trimmed = d.line.replace(/^\t+/, "");
  const idx = Math.max(0, d.idx - (d.line.length - trimmed.length));
  return `\n\t${trimmed}\n\t${" ".repeat(idx)}^`;
}

/** Errors of a statement's shape (OPA reports them after parsing, without a source line): the parser's list. */
export { RULE_SHAPE_ERROR } from "../../rego/parser.ts";
