// The server's base documents: one immutable JSON tree, replaced (never mutated) by each write,
// with the operations and errors of OPA's in-memory store (storage/inmem): reads and writes by
// path, `add` into arrays (by index or `-`), `remove`/`replace` of what must exist, parents made
// on PUT ("MakeDir"), and the error codes the REST API maps to status codes
// (storage_not_found_error → 404 resource_not_found, storage_write_conflict_error → 404
// resource_conflict, storage_invalid_patch_error → 400 invalid_parameter).
//
// Values are the engine's values as the JSON decoder gives them (numbers exact, objects plain),
// so a write copies only the path from the root to the changed node.

import { isPlainObject, type PlainObject, type Value } from "../rego/value.ts";

export type StorageCode = "storage_not_found_error" | "storage_write_conflict_error" | "storage_invalid_patch_error" | "storage_internal_error";

/** An error of the store, with OPA's code and message (`code: message`). */
export class StorageError extends Error {
  readonly code: StorageCode;
  readonly detail: string;
  constructor(code: StorageCode, detail: string) {
    super(detail === "" ? code : `${code}: ${detail}`);
    this.name = "StorageError";
    this.code = code;
    this.detail = detail;
  }
}

export type PatchOp = "add" | "remove" | "replace";

const notFound = () => new StorageError("storage_not_found_error", "document does not exist");

/** Go's url.PathEscape (what storage.Path.String() writes for each segment). */
export function pathEscape(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~$&+,:;=@]/.test(c)) out += c;
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** storage.Path.String(): "/a/b". */
export function pathString(path: readonly string[]): string {
  return "/" + path.map(pathEscape).join("/");
}

/** Go's url.PathUnescape; undefined when the escapes are malformed. */
export function pathUnescape(s: string): string | undefined {
  if (!s.includes("%")) return s;
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    if (s[i] === "%") {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of Buffer.from(ch, "utf8")) bytes.push(b);
      i += ch.length;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** storage.ParsePathEscaped: "/a/b%2Fc" → ["a", "b/c"]; "/" → []; undefined when malformed. */
export function parsePathEscaped(s: string): string[] | undefined {
  if (!s.startsWith("/")) return undefined;
  const rest = s.slice(1);
  if (rest === "") return [];
  const out: string[] = [];
  for (const seg of rest.split("/")) {
    const u = pathUnescape(seg);
    if (u === undefined) return undefined;
    out.push(u);
  }
  return out;
}

/** Go's strconv.Atoi for array indices (optional sign, decimal digits). */
function atoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

function arrayIndex(arr: Value[], seg: string, path: readonly string[]): number {
  const i = atoi(seg);
  if (i === undefined) throw new StorageError("storage_not_found_error", `${pathString(path)}: array index must be integer`);
  if (i < 0 || i >= arr.length) throw new StorageError("storage_not_found_error", `${pathString(path)}: array index out of range`);
  return i;
}

/** The document at `path` (StorageError when it does not exist). */
export function readPath(data: Value, path: readonly string[]): Value {
  let node = data;
  for (const key of path) {
    if (Array.isArray(node)) node = node[arrayIndex(node, key, path)];
    else if (isPlainObject(node)) {
      if (!Object.hasOwn(node, key)) throw notFound();
      node = node[key];
    } else throw notFound();
  }
  return node;
}

/** Whether `path` exists (errors other than not-found are rethrown). */
export function exists(data: Value, path: readonly string[]): boolean {
  try {
    readPath(data, path);
    return true;
  } catch (e) {
    if (e instanceof StorageError && e.code === "storage_not_found_error") return false;
    throw e;
  }
}

/** One write, as OPA's in-memory store applies it; returns the new root. */
export function writePath(data: Value, op: PatchOp, path: readonly string[], value: Value): Value {
  if (path.length === 0) {
    if (op === "remove") throw new StorageError("storage_invalid_patch_error", "root cannot be removed");
    if (!isPlainObject(value)) throw new StorageError("storage_invalid_patch_error", "root must be object");
    return value;
  }
  return update(data, op, path, 0, value);
}

function update(node: Value, op: PatchOp, path: readonly string[], idx: number, value: Value): Value {
  const seg = path[idx];
  const last = idx === path.length - 1;
  if (Array.isArray(node)) {
    if (last) {
      if (seg === "-" || seg === String(node.length)) {
        if (op !== "add") throw new StorageError("storage_invalid_patch_error", `${pathString(path)}: invalid patch path`);
        return [...node, value];
      }
      const pos = arrayIndex(node, seg, path);
      const copy = node.slice();
      if (op === "add") copy.splice(pos, 0, value);
      else if (op === "remove") copy.splice(pos, 1);
      else copy[pos] = value;
      return copy;
    }
    const pos = arrayIndex(node, seg, path);
    const copy = node.slice();
    copy[pos] = update(node[pos], op, path, idx + 1, value);
    return copy;
  }
  if (isPlainObject(node)) {
    const has = Object.hasOwn(node, seg);
    if (last) {
      if ((op === "replace" || op === "remove") && !has) throw notFound();
      const copy: PlainObject = { ...node };
      if (op === "remove") delete copy[seg];
      else copy[seg] = value;
      return copy;
    }
    if (!has) throw notFound();
    return { ...node, [seg]: update(node[seg], op, path, idx + 1, value) };
  }
  throw notFound();
}

/** storage.MakeDir: make every missing object along `path` (a non-object there is a write conflict). */
export function makeDir(data: Value, path: readonly string[]): Value {
  if (path.length === 0) return data;
  let node: Value;
  try {
    node = readPath(data, path);
  } catch (e) {
    if (!(e instanceof StorageError) || e.code !== "storage_not_found_error") throw e;
    const parent = makeDir(data, path.slice(0, -1));
    return writePath(parent, "add", path, {});
  }
  if (isPlainObject(node)) return data;
  throw new StorageError("storage_write_conflict_error", pathString(path));
}
