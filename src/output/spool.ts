// Result lists kept out of memory while a large input is checked: the built-in library on a file
// of 85,000 documents makes over a million results, and the output formats print them grouped by
// namespace, so nothing can be printed before the last document is checked.
//
// A ResultSpool takes results as they are made and keeps each as one line of text: its message,
// its location and its metadata already rendered as the chosen output format needs it (only
// json and sarif print metadata). Past SPOOL_MEMORY_BYTES of text, lines go to a file in a
// temporary directory (a SpoolDir, removed by dispose() or at exit). Reading a spool gives
// Result objects back one at a time, as often as a renderer walks the list.

import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OutputFormat, Result, ResultList } from "./types.ts";
import { compareUTF8, goJSON, goString } from "../gotext/plainjson.ts";

/** Text a spool keeps in memory before it writes to its file. */
export const SPOOL_MEMORY_BYTES = 256 * 1024;
/** Bytes read from a spool's file at a time. */
const READ_CHUNK = 1 << 20;

/** Where a format prints a result's metadata: json indents it at this level (./json.ts). */
export const JSON_METADATA_LEVEL = "\t\t\t\t";

/** How a result's metadata is kept: as json prints it, as sarif prints it, or not at all. */
export type MetadataForm = "indented" | "compact" | "none";

export function metadataForm(format: OutputFormat): MetadataForm {
  return format === "json" ? "indented" : format === "sarif" ? "compact" : "none";
}

/** A result's metadata in that form ("" when it has none, as the renderers leave it out). */
export function metadataText(metadata: Result["metadata"], form: MetadataForm): string {
  if (form === "none" || !metadata) return "";
  const keys = Object.keys(metadata);
  if (keys.length === 0) return "";
  return stringsText(metadata, keys, form) ?? (form === "indented" ? goJSON(metadata, "\t", JSON_METADATA_LEVEL) : goJSON(metadata));
}

/**
 * goJSON's text of metadata whose values are all strings (the built-in library's results: id,
 * title, resource, query), written directly; undefined for any other metadata. Same bytes: keys
 * in UTF-8 order, Go's string escaping, goJSON's indentation.
 */
function stringsText(metadata: Record<string, unknown>, keys: string[], form: MetadataForm): string | undefined {
  for (const k of keys) if (typeof metadata[k] !== "string") return undefined;
  keys.sort(compareUTF8);
  const open = form === "indented" ? `\n${JSON_METADATA_LEVEL}\t` : "";
  const sep = form === "indented" ? ": " : ":";
  let out = "{";
  for (let i = 0; i < keys.length; i++) out += (i > 0 ? "," : "") + open + goString(keys[i]) + sep + goString(metadata[keys[i]] as string);
  return out + (form === "indented" ? `\n${JSON_METADATA_LEVEL}}` : "}");
}

/** A result as a spool keeps it: one JSON array per line (JSON escapes line breaks, so a line is one result). */
export function spoolLine(r: Result, form: MetadataForm): string {
  return JSON.stringify([r.msg, r.loc ? 1 : 0, r.loc?.file ?? null, r.loc?.line ?? null, r.outputs ?? null, metadataText(r.metadata, form)]) + "\n";
}

const live = new Set<SpoolDir>();
let exitHook = false;

/** A temporary directory holding the files of a run's spools. */
export class SpoolDir {
  private dir: string | undefined;
  private next = 0;
  readonly form: MetadataForm;

  constructor(form: MetadataForm) {
    this.form = form;
  }

  /** The directory, once a spool has written to a file. */
  get path(): string | undefined {
    return this.dir;
  }

  /** A new, empty spool of results. */
  spool(): ResultSpool {
    return new ResultSpool(this, this.form);
  }

  /** @internal A new file for a spool (the directory is made on first use). */
  file(): string {
    if (this.dir === undefined) {
      this.dir = mkdtempSync(join(tmpdir(), "portcullis-results-"));
      live.add(this);
      if (!exitHook) {
        exitHook = true;
        process.once("exit", () => {
          for (const d of live) d.dispose();
        });
      }
    }
    return join(this.dir, `${this.next++}.jsonl`);
  }

  /** Remove the files (the spools cannot be read after this). */
  dispose(): void {
    if (this.dir === undefined) return;
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
    this.dir = undefined;
  }
}

/** Results kept as lines of text, in memory up to SPOOL_MEMORY_BYTES and then in a file. */
export class ResultSpool implements ResultList {
  private count = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private path: string | undefined;
  private fd: number | undefined;

  constructor(
    private readonly owner: SpoolDir,
    private readonly form: MetadataForm,
  ) {}

  get length(): number {
    return this.count;
  }

  push(r: Result): void {
    this.pushLine(spoolLine(r, this.form));
  }

  /** A result as spoolLine made it (in a worker thread of the library's run, with this spool's form). */
  pushLine(line: string): void {
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.count++;
    if (this.pendingBytes >= SPOOL_MEMORY_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    if (this.fd === undefined) {
      this.path = this.owner.file();
      this.fd = openSync(this.path, "w+");
    }
    const buf = Buffer.from(this.pending.join(""), "utf8");
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Close the file; later reads see the results pushed so far. */
  close(): void {
    if (this.fd !== undefined) {
      this.flush();
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  *[Symbol.iterator](): Iterator<Result> {
    if (this.path !== undefined) {
      this.flush();
      yield* readLines(this.path, this.fd);
    }
    for (const line of this.pending) yield decode(line);
  }
}

function* readLines(path: string, openFd: number | undefined): Generator<Result> {
  const fd = openFd ?? openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let carry: Buffer | undefined;
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, READ_CHUNK, pos);
      if (n === 0) break;
      pos += n;
      let chunk = buf.subarray(0, n);
      if (carry) chunk = Buffer.concat([carry, chunk]);
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
        yield decode(chunk.toString("utf8", start, nl));
        start = nl + 1;
      }
      // A copy: the read buffer is reused.
      carry = start < chunk.length ? Buffer.from(chunk.subarray(start)) : undefined;
    }
    if (carry) throw new Error("result spool: the file ends inside a result");
  } finally {
    if (openFd === undefined) closeSync(fd);
  }
}

function decode(line: string): Result {
  const [msg, hasLoc, file, ln, outputs, meta] = JSON.parse(line) as [string, number, string | null, string | null, string[] | null, string];
  const r: Result = { msg };
  if (hasLoc) {
    r.loc = {};
    if (file !== null) r.loc.file = file;
    if (ln !== null) r.loc.line = ln;
  }
  if (outputs !== null) r.outputs = outputs;
  if (meta !== "") r.metadataText = meta;
  return r;
}
