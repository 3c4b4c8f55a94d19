// Multi-document YAML files of the built-in library's run, parsed a batch at a time while the
// documents before them are being checked (./parallel.ts, ./evaluate.ts), instead of all before
// the first is checked: a 60 MB file of 85,000 Deployments takes seconds to parse.
//
// The documents are exactly those parseFile + asGoNumbers give for the whole file: the YAML
// reader (src/formats/yaml.ts) splits a file on lines holding exactly `---` ("\n---\n", or
// "\r\n---\r\n" when the file has a CRLF) and reads each part on its own, so reading one part
// alone gives that part's document. Anything that could make the two differ sends the file
// through the whole-file reader instead: a file that is not a regular file within
// MAX_INPUT_BYTES, a parser other than yaml, fewer than two documents, a CRLF file that also
// holds an LF `---` line. A part that does not read cleanly (a syntax error, a merge-key error,
// too deep, a fault) is not reported from here: the whole file is read again as before, so the
// error, its line and its precedence are the whole-file reader's.
//
// Error precedence: without streaming every input is parsed before any document is checked, so
// a parse error anywhere beats an evaluation error, and files fail in argument order. settle()
// parses whatever is left: the runners call it before they report an evaluation error, and
// readConfigs calls it on the streamed files before it reports a later file's parse error.

import { readFileSync, statSync } from "node:fs";
import { pickParser, parseFile, ParseError } from "../formats/index.ts";
import { yamlParser } from "../formats/yaml.ts";
import { MAX_INPUT_BYTES, checkDepth } from "../formats/limits.ts";
import { asGoNumbers } from "./numbers.ts";
import { ConftestError } from "./errors.ts";

/** Documents of one input file, parsed on demand in input order. */
export interface LazyDocuments {
  /** Documents start .. start+count-1 (each parsed once; asking twice for one is a fault). */
  take(start: number, count: number): unknown[];
  /** Parse the documents not taken yet, for their errors (the values are dropped). */
  settle(): void;
}

/** A line of the part that is blank, a directive or a comment (the YAML reader's test). */
const DIRECTIVE_LINE = /^\s*(?:[%#][^\n]*)?$/;

/**
 * A streamed reader of `path` with `parserName` (as --parser gives it, or undefined), or
 * undefined when the file should be read whole. `count` is the number of documents.
 */
export function streamYamlFile(path: string, parserName: string | undefined): { count: number; docs: LazyDocuments } | undefined {
  let parser;
  try {
    parser = pickParser(path, parserName);
  } catch {
    return undefined;
  }
  if (parser.name !== "yaml") return undefined;
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > MAX_INPUT_BYTES) return undefined;
    const buf = readFileSync(path);
    if (buf.length > MAX_INPUT_BYTES) return undefined;
    text = new TextDecoder().decode(buf);
  } catch {
    return undefined;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const crlf = text.indexOf("\r\n") >= 0;
  const sep = crlf ? "\r\n---\r\n" : "\n---\n";
  if (crlf && text.indexOf("\n---\n") >= 0) return undefined;
  const parts = text.split(sep);
  // The parts that are documents (a part of only directives before the last is none).
  const docParts: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i < parts.length - 1 && part.charCodeAt(0) === 37 && part.split("\n").every((line) => DIRECTIVE_LINE.test(line))) continue;
    docParts.push(part);
  }
  if (docParts.length < 2) return undefined;
  return { count: docParts.length, docs: new YamlParts(path, parserName, docParts) };
}

class YamlParts implements LazyDocuments {
  /** Parts not parsed yet (a taken part is dropped); `whole`: the whole file's documents, once a part did not read cleanly. */
  private parts: (string | undefined)[];
  private whole: unknown[] | undefined;

  constructor(
    private readonly path: string,
    private readonly parserName: string | undefined,
    parts: string[],
  ) {
    this.parts = parts;
  }

  take(start: number, count: number): unknown[] {
    const out: unknown[] = [];
    for (let i = start; i < start + count; i++) out.push(this.document(i));
    return out;
  }

  settle(): void {
    for (let i = 0; i < this.parts.length; i++) if (this.parts[i] !== undefined) this.document(i);
  }

  private document(i: number): unknown {
    if (this.whole) {
      const v = this.whole[i];
      this.whole[i] = undefined;
      return v;
    }
    const part = this.parts[i];
    if (part === undefined) throw new Error(`document ${i + 1} of ${this.path} was read twice`);
    this.parts[i] = undefined;
    let value: unknown;
    try {
      value = yamlParser.parse(part, this.path);
      // The whole file's value is the array of documents: one level deeper than a document.
      if (checkDepth([value]) !== "ok") throw new Error("deep");
    } catch {
      return this.readWhole(i);
    }
    return asGoNumbers(value, "yaml");
  }

  /** The whole-file reader: its error, as readConfigs reports it; else its documents from i on. */
  private readWhole(i: number): unknown {
    let value: unknown;
    try {
      value = parseFile(this.path, { parser: this.parserName || undefined });
    } catch (e) {
      if (e instanceof ParseError) throw new ConftestError(`parse configurations: ${e.message}`);
      throw e;
    }
    const docs = asGoNumbers(value, "yaml");
    if (!Array.isArray(docs) || docs.length !== this.parts.length) throw new Error(`${this.path}: the whole-file reader found ${Array.isArray(docs) ? docs.length : 1} documents where the parts were ${this.parts.length}`);
    for (let k = 0; k < i; k++) docs[k] = undefined;
    this.parts = [];
    this.whole = docs;
    return this.document(i);
  }
}
