// Gzipped tar archives for OPA bundles: a small reader and writer of our own rather than the `tar`
// package, because a bundle may come from an attacker and every step has to be bounded and
// refused explicitly: the `tar` package streams to the file system, strips `..` and leading `/`
// with a warning instead of failing, and follows no size budget of ours. Here the whole archive
// is decompressed with a hard output limit (zlib's maxOutputLength), then walked header by header.
//
// The writer produces what OPA's `archive.TarGzWriter` (Go's archive/tar + compress/gzip) writes:
// USTAR headers, mode 0600, uid/gid 0, mtime 0, no user or group names, entry names with a
// leading `/`, two zero blocks at the end, and a gzip header with mtime 0 and OS 255 (unknown).
// The compressed bytes differ from Go's (a different deflate implementation); the tar stream
// inside is byte for byte the same.

import { gzipSync, gunzipSync } from "node:zlib";

export interface TarLimits {
  /** Largest compressed archive accepted, in bytes. */
  maxCompressedBytes: number;
  /** Largest decompressed tar stream accepted, in bytes (OPA: size_limit_bytes, 1 GiB by default). */
  maxUncompressedBytes: number;
  /** Largest single file, in bytes. */
  maxFileBytes: number;
  /** Most regular files in one archive. */
  maxFiles: number;
  /** Longest entry name, in bytes. */
  maxPathBytes: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxCompressedBytes: 256 * 1024 * 1024,
  maxUncompressedBytes: 1024 * 1024 * 1024,
  maxFileBytes: 1024 * 1024 * 1024,
  maxFiles: 100_000,
  maxPathBytes: 4096,
};

export class ArchiveError extends Error {}

export interface TarEntry {
  /** The entry's name as stored (OPA bundles: with a leading `/`). */
  name: string;
  data: Buffer;
}

const BLOCK = 512;

/** The regular files of a gzipped tar archive, in archive order. Directories are skipped. */
export function readTarGz(archive: Buffer, limits: TarLimits = DEFAULT_TAR_LIMITS): TarEntry[] {
  if (archive.length > limits.maxCompressedBytes) {
    throw new ArchiveError(`archive read failed: compressed size ${archive.length} bytes exceeds the limit of ${limits.maxCompressedBytes} bytes`);
  }
  // Go's gzip reader: a short header is an unexpected EOF, a wrong magic an invalid header
  if (archive.length < 10) throw new ArchiveError("archive read failed: unexpected EOF");
  if (archive[0] !== 0x1f || archive[1] !== 0x8b) throw new ArchiveError("archive read failed: gzip: invalid header");
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: limits.maxUncompressedBytes });
  } catch (e) {
    if (e instanceof RangeError || (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ArchiveError(`archive read failed: decompressed size exceeds the limit of ${limits.maxUncompressedBytes} bytes`);
    }
    throw new ArchiveError(`archive read failed: gzip: ${(e as Error).message}`);
  }
  return readTar(tar, limits);
}

/** The regular files of an uncompressed tar stream. */
export function readTar(tar: Buffer, limits: TarLimits = DEFAULT_TAR_LIMITS): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined; // GNU 'L'
  let paxPath: string | undefined; // PAX 'x' path
  let paxSize: number | undefined;
  while (true) {
    if (off + BLOCK > tar.length) {
      // Go's reader accepts an archive that ends without the two zero blocks only at a block edge.
      if (off === tar.length) break;
      throw new ArchiveError("archive read failed: unexpected EOF");
    }
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    if (!checksumOK(h)) throw new ArchiveError("archive read failed: archive/tar: invalid tar header");
    const type = String.fromCharCode(h[156] || 0x30);
    let size = octal(h.subarray(124, 136));
    if (paxSize !== undefined && (type === "0" || type === "\0")) size = paxSize;
    const dataStart = off + BLOCK;
    const dataEnd = dataStart + size;
    if (!Number.isSafeInteger(size) || size < 0 || dataEnd > tar.length) throw new ArchiveError("archive read failed: unexpected EOF");
    const data = tar.subarray(dataStart, dataEnd);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    let name = cstring(h.subarray(0, 100));
    const magic = h.subarray(257, 263).toString("latin1");
    if (magic.startsWith("ustar")) {
      const prefix = cstring(h.subarray(345, 500));
      if (prefix !== "" && magic === "ustar\0") name = `${prefix}/${name}`;
    }
    if (type === "x") {
      const rec = parsePax(data);
      if (rec.path !== undefined) paxPath = rec.path;
      if (rec.size !== undefined) paxSize = rec.size;
      continue;
    }
    if (type === "g") continue; // global PAX header: nothing we use
    if (type === "L") {
      if (size > limits.maxPathBytes) throw new ArchiveError(`archive read failed: entry name longer than ${limits.maxPathBytes} bytes`);
      longName = cstring(data);
      continue;
    }
    if (longName !== undefined) name = longName;
    if (paxPath !== undefined) name = paxPath;
    longName = paxPath = paxSize = undefined;
    if (Buffer.byteLength(name) > limits.maxPathBytes) throw new ArchiveError(`archive read failed: entry name longer than ${limits.maxPathBytes} bytes`);
    if (type === "5") {
      checkName(name);
      continue;
    }
    if (type !== "0" && type !== "\0" && type !== "7") {
      throw new ArchiveError(`archive read failed: entry '${name}' is ${KINDS[type] ?? `of type '${type}'`}: only regular files and directories are allowed in a bundle`);
    }
    checkName(name);
    if (size > limits.maxFileBytes) {
      throw new ArchiveError(`bundle file ${name} size (${size} bytes) exceeds configured size_limit_bytes (${limits.maxFileBytes} bytes)`);
    }
    if (out.length >= limits.maxFiles) throw new ArchiveError(`archive read failed: more than ${limits.maxFiles} files`);
    out.push({ name, data: Buffer.from(data) });
  }
  return out;
}

const KINDS: Record<string, string> = {
  "1": "a hard link",
  "2": "a symbolic link",
  "3": "a character device",
  "4": "a block device",
  "6": "a FIFO",
};

/** No `..` segments, no NUL, no backslashes (a Windows separator in disguise). */
function checkName(name: string): void {
  const segs = name.split("/");
  if (segs.includes("..") || name.includes("\0") || name.includes("\\")) {
    throw new ArchiveError(`archive read failed: entry '${name}' has an unsafe path`);
  }
}

function checksumOK(h: Buffer): boolean {
  const want = octal(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === want;
}

function octal(b: Buffer): number {
  // GNU base-256 for big sizes: the first byte has its high bit set.
  if (b[0] & 0x80) {
    let n = b[0] & 0x7f;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i];
    return n;
  }
  const s = b.toString("latin1").replace(/[\0 ]+$/g, "").replace(/^[\0 ]+/, "");
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) return NaN;
  return parseInt(s, 8);
}

function cstring(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString("utf8");
}

function parsePax(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString("latin1"), 10);
    if (!Number.isSafeInteger(len) || len <= 0 || i + len > data.length) throw new ArchiveError("archive read failed: archive/tar: invalid tar header");
    const rec = data.subarray(sp + 1, i + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    const k = rec.slice(0, eq);
    const v = rec.slice(eq + 1);
    if (k === "path") out.path = v;
    else if (k === "size") out.size = Number(v);
    i += len;
  }
  return out;
}

// ---- Writing ---------------------------------------------------------------------------------

/** A gzipped tar archive of the files, in the order given, as OPA's bundle writer makes it. */
export function writeTarGz(files: readonly TarEntry[]): Buffer {
  const gz = gzipSync(writeTar(files));
  gz[4] = gz[5] = gz[6] = gz[7] = 0; // mtime 0 (Node writes 0 already)
  gz[9] = 0xff; // OS: unknown, as Go's compress/gzip writes it
  return gz;
}

export function writeTar(files: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const nameBytes = Buffer.from(f.name, "utf8");
    let name = f.name;
    let prefix = "";
    const ascii = nameBytes.length === f.name.length;
    if (!ascii || nameBytes.length > 100) {
      const split = ascii ? splitUSTAR(f.name) : undefined;
      if (split) [prefix, name] = split;
      else {
        parts.push(pax(f.name));
        name = "";
      }
    }
    parts.push(header(name, prefix, f.data.length, "0"), f.data, Buffer.alloc(pad(f.data.length)));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function splitUSTAR(name: string): [string, string] | undefined {
  const n = name.length;
  for (let i = Math.max(0, n - 101); i < n && i <= 155; i++) {
    if (name[i] === "/" && n - i - 1 <= 100 && n - i - 1 > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

function pax(path: string): Buffer {
  const body = `path=${path}\n`;
  let len = Buffer.byteLength(body) + 2;
  while (Buffer.byteLength(`${len} ${body}`) !== len) len = Buffer.byteLength(`${len} ${body}`);
  const rec = Buffer.from(`${len} ${body}`, "utf8");
  const base = path.split("/").filter((s) => s !== "").pop() ?? "";
  const hname = `PaxHeaders.0/${Buffer.from(base).subarray(0, 80).toString("latin1")}`;
  return Buffer.concat([header(hname, "", rec.length, "x"), rec, Buffer.alloc(pad(rec.length))]);
}

function pad(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

function header(name: string, prefix: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "latin1");
  h.write("0000600\0", 100, "latin1");
  h.write("0000000\0", 108, "latin1");
  h.write("0000000\0", 116, "latin1");
  h.write(size.toString(8).padStart(11, "0") + "\0", 124, "latin1");
  h.write("00000000000\0", 136, "latin1");
  h.write(type, 156, "latin1");
  h.write("ustar\0" + "00", 257, "latin1");
  h.write("0000000\0", 329, "latin1");
  h.write("0000000\0", 337, "latin1");
  h.write(prefix, 345, 155, "latin1");
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return h;
}
