// OPA bundles (`.tar.gz` archives or directories): reading with OPA's checks and error texts,
// signature verification, writing as `opa build` writes them, and signing as `opa build
// --signing-key` / `opa sign` sign them. See docs/bundles.md.
//
// Reading follows OPA's bundle.Reader: `.signatures.json` (any file whose path ends in
// `signatures.json`) is read first and the JWT verified; then each file in archive (or walk)
// order is size-checked, verified against its digest in the signature, and classified: `*.rego`
// modules, `data.json` / `data.yaml` / `data.yml` documents merged at their directory's path,
// `.manifest`. Other files are ignored. After the walk, files named in the signature but absent
// are an error, and the manifest's roots are checked against the packages and the data. Wasm
// modules, plan files, `.manifest.pb` and delta bundles (`patch.json`) are refused.

import { readFileSync, readdirSync, lstatSync, existsSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { parseModule } from "../rego/parser.ts";
import { RegoError } from "../rego/errors.ts";
import type { Module } from "../rego/ast.ts";
import { parseYAML } from "../builtins/goyaml.ts";
import { goMatchRegExp } from "../load/gomatch.ts";
import { readTarGz, writeTarGz, DEFAULT_TAR_LIMITS, ArchiveError, type TarLimits, type TarEntry } from "./tar.ts";
import { parseRaw, rawFromJS, writeRaw, isRawObject, RawNumber, type Raw, type RawObject } from "./rawjson.ts";
import { hashFile, hashDocument, DEFAULT_HASH_ALGORITHM, HASH_ALGORITHMS } from "./hash.ts";
import { decodeManifest, manifestRoots, manifestEmpty, manifestJSON, manifestDocument, rootPathsContain, checkRootsOverlap, goStringList, type Manifest } from "./manifest.ts";
import { signCompact, signingKey, verificationKey, splitCompact, decodeB64url, verifyCompact, isSigningAlgorithm, readKeyArgument, SignatureError } from "./jws.ts";

/** Every error of reading, verifying, writing or signing a bundle. */
export class BundleError extends Error {
  override name = "BundleError";
}

export interface BundleModule {
  /** OPA's ModuleFile.Path: the entry name (archives) or the directory joined with it (directories). */
  path: string;
  /** OPA's ModuleFile.URL: the source (archive file or directory) joined with the entry name. */
  url: string;
  /** The path inside the bundle, with a leading `/`. */
  relativePath: string;
  raw: string;
  regoVersion: "v0" | "v1";
  parsed: Module;
}

export interface SignaturesConfig {
  signatures: string[];
  plugin?: string;
}

export interface Bundle {
  manifest: Manifest;
  /** Base documents, merged from every data file. */
  data: RawObject;
  modules: BundleModule[];
  signatures?: SignaturesConfig;
  etag?: string;
}

export interface KeyConfig {
  /** PEM text or an HMAC secret. */
  key: string;
  algorithm: string;
  scope?: string;
}

/** OPA's VerificationConfig. */
export interface VerificationConfig {
  keys: Record<string, KeyConfig>;
  /** The key to use ("" = the token's `kid` header, then its `keyid` claim). */
  keyId: string;
  scope: string;
  /** Go filepath.Match patterns of files not verified. */
  exclude: string[];
}

export interface ReadOptions {
  /** Rego version for modules the manifest says nothing about (default v1). */
  regoVersion?: "v0" | "v1";
  verification?: VerificationConfig;
  skipVerify?: boolean;
  limits?: Partial<TarLimits>;
  etag?: string;
  /** Directories only: file and directory names to skip (OPA's loader filter, `--ignore`). */
  filter?: (name: string) => boolean;
}

export function bundleLimits(limits?: Partial<TarLimits>): TarLimits {
  return { ...DEFAULT_TAR_LIMITS, ...limits };
}

interface FileIn {
  /** As OPA's Descriptor.Path: with a leading `/` for archives, relative with `/` for directories. */
  path: string;
  /** As OPA's Descriptor.URL. */
  url: string;
  data: Buffer;
}

/** Read a bundle from a `.tar.gz` file or a directory. */
export function readBundle(source: string, opts: ReadOptions = {}): Bundle {
  if (!existsSync(source)) throw new BundleError(`${source}: no such file or directory`);
  const st = statSync(source);
  if (st.isDirectory()) return readBundleDirectory(source, opts);
  const limits = bundleLimits(opts.limits);
  if (st.size > limits.maxCompressedBytes) {
    throw new BundleError(`bundle read failed: archive read failed: compressed size ${st.size} bytes exceeds the limit of ${limits.maxCompressedBytes} bytes`);
  }
  return readBundleArchive(readFileSync(source), opts, source);
}

/** Read a bundle from the bytes of a `.tar.gz` archive; `source` names it in module URLs. */
export function readBundleArchive(archive: Buffer, opts: ReadOptions = {}, source = ""): Bundle {
  let entries: TarEntry[];
  try {
    entries = readTarGz(archive, bundleLimits(opts.limits));
  } catch (e) {
    if (e instanceof ArchiveError) throw new BundleError(`bundle read failed: ${e.message}`);
    throw e;
  }
  const files = entries.map((e) => ({ path: e.name, url: joinURL(source, e.name), data: e.data }));
  return readBundleFiles(files, opts, false);
}

function joinURL(base: string, p: string): string {
  if (base === "") return p;
  return `${base.replace(/\/+$/, "")}/${p.replace(/^\/+/, "")}`;
}

/** Read a bundle directory: regular files only (symbolic links and devices are refused). */
export function readBundleDirectory(dir: string, opts: ReadOptions = {}): Bundle {
  const limits = bundleLimits(opts.limits);
  const files: FileIn[] = [];
  let total = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (opts.filter?.(name)) continue;
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p).split(sep).join("/");
      if (st.isDirectory()) {
        walk(p);
        continue;
      }
      if (!st.isFile()) throw new BundleError(`bundle read failed: ${rel}: only regular files and directories are allowed in a bundle`);
      if (Buffer.byteLength(rel) > limits.maxPathBytes) throw new BundleError(`bundle read failed: ${rel}: path longer than ${limits.maxPathBytes} bytes`);
      if (st.size > limits.maxFileBytes) {
        throw new BundleError(`bundle file ${rel} size (${st.size} bytes) exceeds configured size_limit_bytes (${limits.maxFileBytes} bytes)`);
      }
      total += st.size;
      if (total > limits.maxUncompressedBytes) throw new BundleError(`bundle read failed: total size exceeds the limit of ${limits.maxUncompressedBytes} bytes`);
      if (files.length >= limits.maxFiles) throw new BundleError(`bundle read failed: more than ${limits.maxFiles} files`);
      files.push({ path: `/${rel}`, url: joinURL(dir, rel), data: readFileSync(p) });
    }
  };
  walk(dir);
  return readBundleFiles(files, opts, true);
}

const SIGNATURES_SUFFIX = "signatures.json";

function baseName(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function readBundleFiles(files: FileIn[], opts: ReadOptions, isDir: boolean): Bundle {
  const skipVerify = opts.skipVerify === true;
  let signatures: SignaturesConfig | undefined;
  const descriptors: FileIn[] = [];
  for (const f of files) {
    const isSig = f.path.endsWith(SIGNATURES_SUFFIX);
    if (isSig) {
      if (skipVerify) continue;
      signatures = decodeSignatures(f.data);
      continue;
    }
    const base = baseName(f.path);
    if (base === "patch.json") throw new BundleError("bundle load failed: delta bundles (patch.json) are not supported");
    if (base === "policy.wasm" || f.path.endsWith(".wasm")) throw new BundleError(`bundle load failed on ${f.path}: wasm modules are not supported (Portcullis evaluates Rego only)`);
    if (base === "plan.json" || base === "plan.pb") throw new BundleError(`bundle load failed on ${f.path}: plan files are not supported (Portcullis evaluates Rego only)`);
    if (f.path.endsWith(".manifest.pb")) throw new BundleError(`bundle load failed on ${f.path}: protobuf manifests are not supported`);
    descriptors.push(f);
  }
  const signed = signatures !== undefined && signatures.signatures.length > 0;
  let expected: Map<string, SignedFile> | undefined;
  if (!skipVerify) {
    const vc = opts.verification;
    if (!signed && vc && vc.keyId !== "") throw new BundleError("bundle missing .signatures.json file");
    if (signed) {
      if (!vc) throw new BundleError("verification key not provided");
      expected = verifyBundleSignature(signatures!, vc);
    }
  }

  const data: RawObject = new Map();
  let manifest: Manifest | undefined;
  let manifestPath = "";
  const moduleFiles: { path: string; url: string; relativePath: string; raw: string }[] = [];
  for (const f of descriptors) {
    if (expected) {
      const name = (isDir ? f.url : f.path).replace(/^\/+/, "");
      if (isExcluded(opts.verification!.exclude, name)) expected.delete(name);
      else verifyBundleFile(name, f.data, expected);
    }
    const base = baseName(f.path);
    const fullPath = isDir ? f.url : f.path;
    if (f.path.endsWith(".rego")) {
      moduleFiles.push({ path: fullPath, url: f.url, relativePath: f.path.startsWith("/") ? f.path : `/${f.path}`, raw: f.data.toString("utf8") });
    } else if (base === "data.json") {
      let doc: Raw;
      try {
        doc = parseRaw(f.data.toString("utf8"));
      } catch (e) {
        throw new BundleError(`bundle load failed on ${fullPath}: ${(e as Error).message}`);
      }
      insertValue(data, f.path, doc);
    } else if (base === "data.yaml" || base === "data.yml") {
      let doc: Raw;
      try {
        doc = rawFromJS(parseYAML(f.data.toString("utf8")));
      } catch (e) {
        throw new BundleError(`bundle load failed on ${fullPath}: ${(e as Error).message}`);
      }
      insertValue(data, f.path, doc);
    } else if (f.path.endsWith(".manifest")) {
      if (manifestPath !== "") throw new BundleError(`bundle contains multiple manifest files: ${JSON.stringify(manifestPath)} and ${JSON.stringify(f.path)}`);
      manifestPath = f.path;
      try {
        manifest = decodeManifest(parseRaw(f.data.toString("utf8")));
      } catch (e) {
        throw new BundleError(`bundle load failed on manifest decode: ${(e as Error).message}`);
      }
    }
  }
  manifest ??= { revision: "" };
  if (manifest.wasm && manifest.wasm.length > 0) throw new BundleError("bundle load failed: the manifest's wasm resolvers are not supported (Portcullis evaluates Rego only)");

  const defaultVersion = manifest.rego_version === undefined ? (opts.regoVersion ?? "v1") : regoVersionOf(manifest.rego_version, "");
  const modules: BundleModule[] = moduleFiles.map((mf) => {
    const v = fileRegoVersion(manifest!, mf.relativePath, defaultVersion);
    let parsed: Module;
    try {
      parsed = parseModule(mf.path, mf.raw, { regoVersion: v });
    } catch (e) {
      if (e instanceof RegoError) throw e;
      throw new BundleError(`bundle load failed on ${mf.path}: ${(e as Error).message}`);
    }
    return { ...mf, regoVersion: v, parsed };
  });

  if (expected && expected.size > 0) {
    throw new BundleError(`file(s) ${goStringList([...expected.keys()].sort())} specified in bundle signatures but not found in the target bundle`);
  }
  const bundle: Bundle = { manifest, data, modules, signatures, etag: opts.etag };
  validateAndInjectDefaults(bundle);
  return bundle;
}

function regoVersionOf(n: number, path: string): "v0" | "v1" {
  if (n === 0) return "v0";
  if (n === 1) return "v1";
  throw new BundleError(`unknown bundle rego-version ${n} for file '${path}'`);
}

/** OPA's RegoVersionForFile: file_rego_versions (exact path, then glob patterns), else the bundle's. */
function fileRegoVersion(m: Manifest, relPath: string, def: "v0" | "v1"): "v0" | "v1" {
  const frv = m.file_rego_versions;
  if (!frv || frv.size === 0) return def;
  const p = relPath.replace(/^\/+/, "");
  for (const key of [relPath, p, `/${p}`]) {
    const v = frv.get(key);
    if (v !== undefined) return regoVersionOf(v, relPath);
  }
  for (const [pattern, v] of frv) {
    const re = goMatchRegExp(pattern.replace(/^\/+/, ""));
    if (re && re.test(p)) return regoVersionOf(v, relPath);
  }
  return def;
}

function isExcluded(patterns: readonly string[], path: string): boolean {
  return patterns.some((p) => goMatchRegExp(p)?.test(path) === true);
}

// ---- Data -----------------------------------------------------------------------------------

/** OPA's getNormalizedPath: the directory of the file, `/` and `.` trimmed from its start. */
function dataKey(path: string): string[] {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
  const trimmed = dir.replace(/^[/.]+/, "");
  return trimmed === "" ? [] : trimmed.split("/");
}

function insertValue(data: RawObject, path: string, value: Raw): void {
  const key = dataKey(path);
  let obj: RawObject;
  if (key.length === 0) {
    if (!isRawObject(value)) throw new BundleError(`bundle load failed on ${path}: root value must be object`);
    obj = value;
  } else {
    let v: Raw = value;
    for (let i = key.length - 1; i >= 0; i--) v = new Map([[key[i], v]]);
    obj = v as RawObject;
  }
  if (!mergeInto(data, obj)) throw new BundleError(`bundle load failed on ${path}: failed to insert data file from path ${key.join("/")}`);
}

/** merge.InterfaceMaps: objects merge key by key; any other collision fails. Iterative. */
function mergeInto(dst: RawObject, src: RawObject): boolean {
  const work: [RawObject, RawObject][] = [[dst, src]];
  while (work.length > 0) {
    const [d, s] = work.pop()!;
    for (const [k, v] of s) {
      const cur = d.get(k);
      if (cur === undefined) d.set(k, v);
      else if (isRawObject(cur) && isRawObject(v)) work.push([cur, v]);
      else return false;
    }
  }
  return true;
}

function validateAndInjectDefaults(b: Bundle): void {
  const roots = manifestRoots(b.manifest);
  b.manifest.roots = roots;
  try {
    checkRootsOverlap(roots);
  } catch (e) {
    throw new BundleError((e as Error).message);
  }
  for (const m of b.modules) {
    const pkg = packagePath(m.parsed);
    if (!rootPathsContain(roots, pkg)) {
      throw new BundleError(`manifest roots ${goStringList(roots)} do not permit '${packageText(m.parsed)}' in module '${m.path}'`);
    }
  }
  // Data: every leaf (or non-object) must be under a root; objects above a root are fine.
  const stack: [string, Raw][] = [["", b.data]];
  while (stack.length > 0) {
    const [path, node] = stack.pop()!;
    if (rootPathsContain(roots, path)) continue;
    if (isRawObject(node)) {
      // OPA's check, as written: the path's segments taken as roots, does one contain a root?
      const segs = path.split("/");
      if (roots.some((r) => rootPathsContain(segs, r))) {
        for (const k of [...node.keys()].sort().reverse()) stack.push([path === "" ? k : `${path}/${k}`, node.get(k)!]);
        continue;
      }
    }
    throw new BundleError(`manifest roots ${goStringList(roots)} do not permit data at path '/${path}' (hint: check bundle directory structure)`);
  }
}

/** The package of a module as a slash-separated path (`a/b` for `package a.b`). */
export function packagePath(m: Module): string {
  return packageSegments(m).join("/");
}

function packageSegments(m: Module): string[] {
  return m.package.terms.slice(1).map((t) => String((t as { value?: unknown }).value));
}

function packageText(m: Module): string {
  return `package ${packageSegments(m)
    .map((s) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? s : JSON.stringify(s)))
    .join(".")}`;
}

// ---- Signatures ------------------------------------------------------------------------------

interface SignedFile {
  name: string;
  hash: string;
  algorithm: string;
}

function decodeSignatures(bytes: Buffer): SignaturesConfig {
  let doc: Raw;
  try {
    doc = parseRaw(bytes.toString("utf8"));
  } catch (e) {
    throw new BundleError(`bundle load failed on signatures decode: ${(e as Error).message}`);
  }
  const bad = (what: string) => new BundleError(`bundle load failed on signatures decode: json: cannot unmarshal ${what}`);
  if (!isRawObject(doc)) throw bad(`${typeof doc} into Go value of type bundle.SignaturesConfig`);
  const out: SignaturesConfig = { signatures: [] };
  const sigs = doc.get("signatures");
  if (sigs !== undefined && sigs !== null) {
    if (!Array.isArray(sigs) || sigs.some((s) => typeof s !== "string")) throw bad("value into Go struct field SignaturesConfig.signatures of type string");
    out.signatures = sigs as string[];
  }
  const plugin = doc.get("plugin");
  if (typeof plugin === "string") out.plugin = plugin;
  return out;
}

/** OPA's DefaultVerifier: the one JWT's signature, key and scope; returns the signed file list. */
export function verifyBundleSignature(sc: SignaturesConfig, vc: VerificationConfig): Map<string, SignedFile> {
  if (sc.plugin !== undefined && sc.plugin !== "" && sc.plugin !== "_default") throw new BundleError(`no verifier exists under id ${sc.plugin}`);
  if (sc.signatures.length === 0) throw new BundleError(".signatures.json: missing JWT (expected exactly one)");
  if (sc.signatures.length > 1) throw new BundleError(".signatures.json: multiple JWTs not supported (expected exactly one)");
  try {
    const t = splitCompact(sc.signatures[0]);
    let keyId = vc.keyId;
    if (keyId === "") {
      const hdr = parseRaw(decodeB64url(t.headerB64, "header").toString("utf8"));
      const kid = isRawObject(hdr) ? hdr.get("kid") : undefined;
      if (typeof kid === "string") keyId = kid;
      else if (kid !== undefined) throw new SignatureError("failed to extract key ID from headers: invalid kid");
    }
    const payloadText = decodeB64url(t.payloadB64, "payload").toString("utf8");
    const payload = parseRaw(payloadText);
    const ds = decodePayload(payload);
    if (keyId === "") keyId = ds.keyid;
    if (keyId === "") throw new SignatureError("verification key ID is empty");
    const kc = vc.keys[keyId];
    if (!kc) throw new SignatureError(`verification key corresponding to ID ${keyId} not found`);
    if (!isSigningAlgorithm(kc.algorithm)) throw new SignatureError(`unknown signature algorithm: ${kc.algorithm}`);
    verifyCompact(t, kc.algorithm, verificationKey(kc.key, kc.algorithm));
    const scope = vc.scope !== "" ? vc.scope : (kc.scope ?? "");
    if (ds.scope !== scope) throw new SignatureError("scope mismatch");
    const files = new Map<string, SignedFile>();
    for (const f of ds.files) files.set(f.name, f);
    return files;
  } catch (e) {
    if (e instanceof SignatureError || e instanceof BundleError) throw new BundleError(e.message);
    throw new BundleError((e as Error).message);
  }
}

function decodePayload(p: Raw): { files: SignedFile[]; keyid: string; scope: string } {
  const bad = (field: string, t: string) => new SignatureError(`json: cannot unmarshal value into Go struct field DecodedSignature.${field} of type ${t}`);
  if (!isRawObject(p)) throw new SignatureError("json: cannot unmarshal value into Go value of type bundle.DecodedSignature");
  const str = (k: string): string => {
    const v = p.get(k);
    if (v === undefined || v === null) return "";
    if (typeof v !== "string") throw bad(k, "string");
    return v;
  };
  const files: SignedFile[] = [];
  const fs = p.get("files");
  if (fs !== undefined && fs !== null) {
    if (!Array.isArray(fs)) throw bad("files", "[]bundle.FileInfo");
    for (const f of fs) {
      if (f === null) {
        files.push({ name: "", hash: "", algorithm: "" });
        continue;
      }
      if (!isRawObject(f)) throw bad("files", "bundle.FileInfo");
      const g = (k: string) => {
        const v = f.get(k);
        if (v === undefined || v === null) return "";
        if (typeof v !== "string") throw bad(`files.${k}`, "string");
        return v;
      };
      files.push({ name: g("name"), hash: g("hash"), algorithm: g("algorithm") });
    }
  }
  const iat = p.get("iat");
  if (iat !== undefined && iat !== null && !(iat instanceof RawNumber && /^-?\d+$/.test(iat.text))) throw bad("iat", "int64");
  return { files, keyid: str("keyid"), scope: str("scope") };
}

/** OPA's VerifyBundleFile: the file must be listed and its digest must match; it is then crossed off. */
function verifyBundleFile(path: string, data: Buffer, files: Map<string, SignedFile>): void {
  const file = files.get(path);
  if (!file) throw new BundleError(`file ${path} not included in bundle signature`);
  if (file.algorithm === "") throw new BundleError(`no hashing algorithm provided for file ${path}`);
  if (HASH_ALGORITHMS[file.algorithm] === undefined) throw new BundleError(`unsupported hashing algorithm: ${file.algorithm}`);
  let got: string;
  try {
    got = hashFile(path, data, file.algorithm);
  } catch (e) {
    throw new BundleError((e as Error).message);
  }
  const m = /[^0-9a-fA-F]/.exec(file.hash);
  if (m) {
    const cp = m[0].codePointAt(0)!;
    throw new BundleError(`encoding/hex: invalid byte: U+${cp.toString(16).toUpperCase().padStart(4, "0")} ${goQuoteRune(m[0])}`);
  }
  if (file.hash.length % 2 === 1) throw new BundleError("encoding/hex: odd length hex string");
  const want = file.hash.toLowerCase();
  if (want !== got) throw new BundleError(`${path}: digest mismatch (want: ${want}, got: ${got})`);
  files.delete(path);
}

function goQuoteRune(c: string): string {
  return `'${c === "'" ? "\\'" : c}'`;
}

// ---- Writing and signing ----------------------------------------------------------------------

/** The module's name in a written archive: its URL (as `opa build` writes it), with a leading `/`. */
function archiveName(m: BundleModule, usePath: boolean): string {
  const p = usePath ? m.path : m.url;
  return p.startsWith("/") ? p : `/${p}`;
}

export interface WriteOptions {
  /**
   * Name modules by their path (the entry name they were read under; the default, so a bundle
   * read and written again keeps its names) or, when false, by their URL (the source joined with
   * the path: what `opa build` writes).
   */
  useModulePath?: boolean;
}

/** The files of the archive, in the order OPA's Writer writes them. */
export function bundleEntries(b: Bundle, opts: WriteOptions = {}): TarEntry[] {
  const out: TarEntry[] = [{ name: "/data.json", data: Buffer.from(writeRaw(b.data, true) + "\n", "utf8") }];
  for (const m of b.modules) out.push({ name: archiveName(m, opts.useModulePath !== false), data: Buffer.from(m.raw, "utf8") });
  if (b.signatures && b.signatures.signatures.length > 0) {
    out.push({ name: "/.signatures.json", data: Buffer.from(signaturesJSON(b.signatures), "utf8") });
  }
  if (!manifestEmpty(b.manifest)) out.push({ name: "/.manifest", data: Buffer.from(manifestJSON(b.manifest) + "\n", "utf8") });
  return out;
}

/** A bundle as `.tar.gz` bytes. */
export function writeBundle(b: Bundle, opts: WriteOptions = {}): Buffer {
  return writeTarGz(bundleEntries(b, opts));
}

/** `.signatures.json` as OPA writes it (json.MarshalIndent with a one-space indent). */
export function signaturesJSON(sc: SignaturesConfig): string {
  const sigs = sc.signatures.map((s) => `  ${JSON.stringify(s)}`).join(",\n");
  let out = `{\n "signatures": [\n${sigs}\n ]`;
  if (sc.plugin !== undefined && sc.plugin !== "") out += `,\n "plugin": ${JSON.stringify(sc.plugin)}`;
  return out + "\n}";
}

export interface SigningConfig {
  /** PEM text or an HMAC secret (see readKeyArgument for a command-line value). */
  key: string;
  algorithm: string;
  /** Extra claims (OPA's --claims-file); when given, no `keyid` claim is added. */
  claims?: RawObject;
  /** The `kid` header and (without claims) the deprecated `keyid` claim; "" for none. */
  keyId: string;
}

export interface FileInfo {
  name: string;
  hash: string;
  algorithm: string;
}

/** The signed file list of a bundle as `opa build` computes it: modules, data.json, .manifest. */
export function bundleFileInfos(b: Bundle, opts: WriteOptions = {}): FileInfo[] {
  const files: FileInfo[] = [];
  for (const m of b.modules) {
    const name = (opts.useModulePath !== false ? m.path : m.url).replace(/^\/+/, "");
    files.push({ name, hash: hashFile(name, Buffer.from(m.raw, "utf8")), algorithm: DEFAULT_HASH_ALGORITHM });
  }
  files.push({ name: "data.json", hash: hashDocument(b.data), algorithm: DEFAULT_HASH_ALGORITHM });
  if (!manifestEmpty(b.manifest)) files.push({ name: ".manifest", hash: hashDocument(manifestDocument(b.manifest)), algorithm: DEFAULT_HASH_ALGORITHM });
  return files;
}

/** A signed token over the file list, as OPA's DefaultSigner makes it. */
export function signedToken(files: FileInfo[], sc: SigningConfig): string {
  if (!isSigningAlgorithm(sc.algorithm)) throw new BundleError(`unknown signature algorithm: ${sc.algorithm}`);
  let key;
  try {
    key = signingKey(sc.key, sc.algorithm);
  } catch (e) {
    throw new BundleError((e as Error).message);
  }
  const claims: RawObject = new Map();
  claims.set(
    "files",
    files.map((f) => new Map<string, Raw>([["name", f.name], ["hash", f.hash], ["algorithm", f.algorithm]])),
  );
  if (sc.claims) for (const [k, v] of sc.claims) claims.set(k, v);
  else if (sc.keyId !== "") claims.set("keyid", sc.keyId);
  // jwx writes the claims with sorted keys; FileInfo objects keep their struct order.
  const keys = [...claims.keys()].sort();
  const parts = keys.map((k) => {
    const v = claims.get(k)!;
    const text = k === "files" ? `[${files.map((f) => `{"name":${jq(f.name)},"hash":${jq(f.hash)},"algorithm":${jq(f.algorithm)}}`).join(",")}]` : writeRaw(v, true);
    return `${jq(k)}:${text}`;
  });
  try {
    return signCompact(`{${parts.join(",")}}`, sc.algorithm, key, sc.keyId);
  } catch (e) {
    throw new BundleError((e as Error).message);
  }
}

function jq(s: string): string {
  return writeRaw(s, true);
}

/** Sign the bundle as `opa build --signing-key` does (replacing any signature it had). */
export function signBundle(b: Bundle, sc: SigningConfig, opts: WriteOptions = {}): void {
  b.signatures = { signatures: [signedToken(bundleFileInfos(b, opts), sc)], plugin: "_default" };
}

/** The file list `opa sign` computes over the files of a bundle directory or archive, in walk order. */
export function signFileInfos(source: string, limits?: Partial<TarLimits>): FileInfo[] {
  const st = statSync(source);
  const out: FileInfo[] = [];
  const add = (name: string, data: Buffer) => {
    if (name.endsWith(SIGNATURES_SUFFIX)) return;
    const n = name.replace(/^\/+/, "");
    let hash: string;
    try {
      hash = hashFile(n, data);
    } catch (e) {
      throw new BundleError((e as Error).message);
    }
    out.push({ name: n, hash, algorithm: DEFAULT_HASH_ALGORITHM });
  };
  const lim = bundleLimits(limits);
  if (st.isDirectory()) {
    const walk = (d: string) => {
      for (const name of readdirSync(d).sort()) {
        const p = join(d, name);
        const s = lstatSync(p);
        if (s.isDirectory()) walk(p);
        else if (s.isFile()) {
          if (s.size > lim.maxFileBytes) throw new BundleError(`bundle file exceeded max size (${lim.maxFileBytes} bytes)`);
          add(joinURL(source, relative(source, p).split(sep).join("/")), readFileSync(p));
        } else throw new BundleError(`bundle read failed: ${p}: only regular files and directories are allowed in a bundle`);
      }
    };
    walk(source);
  } else {
    let entries: TarEntry[];
    try {
      entries = readTarGz(readFileSync(source), lim);
    } catch (e) {
      throw new BundleError(`bundle read failed: ${(e as Error).message}`);
    }
    for (const e of entries) add(e.name, e.data);
  }
  return out;
}

/** Parse a claims file (OPA: util.UnmarshalJSON into map[string]any). */
export function parseClaims(text: string): RawObject {
  const doc = parseRaw(text);
  if (!isRawObject(doc)) throw new BundleError("json: cannot unmarshal value into Go value of type map[string]interface {}");
  return doc;
}

export { readKeyArgument };
