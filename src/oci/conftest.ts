// conftest's policy artifacts: one layer per file, `.rego` files as
// `application/vnd.cncf.openpolicyagent.policy.layer.v1+rego` and data files (.json, .yaml, .yml)
// as `…data.layer.v1+json`, each titled (`org.opencontainers.image.title`) with its path; the
// config is oras' `application/vnd.unknown.config.v1+json` `{}`; the default tag is `latest`.
// Pulling writes each titled layer at DIR/TITLE, as oras' file store does for conftest, and
// refuses titles that leave DIR. Everything is fetched and checked before the first file is written.

import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { RegistryClient, RegistryError } from "./client.ts";
import { pushImage, type Blob, type ImageContent, type PulledImage } from "./image.ts";
import { type Reference } from "./reference.ts";
import { readTarGz } from "../bundle/tar.ts";
import { ANNOTATION, type Descriptor, type ImageManifest, MEDIA } from "./types.ts";

/** Limits of a pull: layers, bytes. */
export const PULL_LIMITS = { maxLayers: 10_000, maxTotalBytes: 256 << 20 };

const DATA_EXTENSIONS = [".json", ".yaml", ".yml"];

function walk(path: string, keep: (name: string) => boolean, out: string[]): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new RegistryError(`stat ${path}: no such file or directory`);
  }
  if (!st.isDirectory()) {
    if (keep(path)) out.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) walk(join(path, name), keep, out);
}

/**
 * The title a file gets: its path as given, cleaned and with `/` (conftest's), or, for a path
 * that is absolute or leaves the working directory, the path relative to the directory it was
 * found under (named by the directory's base name), so that every title can be pulled.
 */
function title(file: string, root: string, cwd: string): string {
  const rel = relative(cwd, resolve(cwd, file));
  if (!isAbsolute(file) && !rel.startsWith("..") && !isAbsolute(rel)) return rel.split(sep).join("/");
  const r = resolve(cwd, root);
  const inRoot = relative(r, resolve(cwd, file));
  const base = r.split(sep).pop() ?? "";
  return [base, ...inRoot.split(sep)].filter((s) => s !== "" && s !== ".").join("/");
}

export interface ConftestFiles {
  policies: { file: string; title: string }[];
  data: { file: string; title: string }[];
}

/** The files conftest push uploads: .rego files under the policy paths, data files under the data paths. */
export function conftestFiles(policyPaths: string[], dataPaths: string[], cwd = process.cwd()): ConftestFiles {
  const policies: ConftestFiles["policies"] = [];
  for (const p of policyPaths) {
    const files: string[] = [];
    walk(resolve(cwd, p), (f) => f.endsWith(".rego"), files);
    for (const f of files) policies.push({ file: f, title: title(isAbsolute(p) ? f : relative(cwd, f), p, cwd) });
  }
  const data: ConftestFiles["data"] = [];
  for (const p of dataPaths) {
    const files: string[] = [];
    walk(resolve(cwd, p), (f) => DATA_EXTENSIONS.some((e) => f.endsWith(e)), files);
    for (const f of files) data.push({ file: f, title: title(isAbsolute(p) ? f : relative(cwd, f), p, cwd) });
  }
  const dedupe = <T extends { title: string }>(xs: T[]) => [...new Map(xs.map((x) => [x.title, x])).values()];
  return { policies: dedupe(policies), data: dedupe(data) };
}

/** conftest's artifact of the files: config and layers. */
export function conftestContent(files: ConftestFiles): ImageContent {
  const layer = (mediaType: string, f: { file: string; title: string }): Blob => ({ mediaType, data: readFileSync(f.file), annotations: { [ANNOTATION.title]: f.title } });
  const layers = [...files.policies.map((f) => layer(MEDIA.conftestPolicyLayer, f)), ...files.data.map((f) => layer(MEDIA.conftestDataLayer, f))];
  return { config: { mediaType: MEDIA.unknownConfig, data: Buffer.from("{}") }, layers };
}

/** Pushes conftest's artifact; returns the manifest's descriptor. */
export async function pushConftest(client: RegistryClient, ref: Reference, files: ConftestFiles): Promise<Descriptor> {
  return pushImage(client, ref, conftestContent(files));
}

/** Whether a manifest is an OPA bundle image (policy CLI / OPCR / OPA's downloader) rather than conftest's files. */
export function isBundleImage(m: ImageManifest): boolean {
  return !m.layers.some((l) => l.mediaType === MEDIA.conftestPolicyLayer || l.mediaType === MEDIA.conftestDataLayer) && m.layers.some((l) => l.mediaType === MEDIA.ociLayerTarGzip);
}

/** Checks a layer title and returns where it goes under `dir`; throws for a title that leaves it. */
export function layerPath(dir: string, t: string): string {
  if (t === "" || t.includes("\0")) throw new RegistryError(`layer title ${JSON.stringify(t)}: invalid file name`);
  if (isAbsolute(t) || /^[A-Za-z]:/.test(t) || t.startsWith("\\")) throw new RegistryError(`layer title ${JSON.stringify(t)}: absolute path refused`);
  const parts = t.split(/[\\/]+/);
  if (parts.includes("..")) throw new RegistryError(`layer title ${JSON.stringify(t)}: path traversal refused`);
  const root = resolve(dir);
  const target = resolve(root, ...parts);
  if (target === root || !target.startsWith(root + sep)) throw new RegistryError(`layer title ${JSON.stringify(t)}: path traversal refused`);
  return target;
}

export interface PulledFile {
  path: string;
  title: string;
  data: Buffer;
}

/** The files of a pulled conftest artifact (every titled layer) under `dir`, every title checked; nothing is written. */
export function conftestFilesOf(img: PulledImage, dir: string): PulledFile[] {
  if (img.manifest.layers.length > PULL_LIMITS.maxLayers) throw new RegistryError(`${img.manifest.layers.length} layers, more than ${PULL_LIMITS.maxLayers}`);
  const files: PulledFile[] = [];
  const seen = new Set<string>();
  for (const l of img.layers) {
    const t = l.descriptor.annotations?.[ANNOTATION.title];
    if (t === undefined) continue;
    const path = layerPath(dir, t);
    if (seen.has(path)) throw new RegistryError(`layer title ${JSON.stringify(t)}: two layers with the same file name`);
    seen.add(path);
    files.push({ path, title: t, data: l.data });
  }
  return files;
}

/**
 * The files of an OPA bundle image's bundle (its first tar+gzip layer) under `dir`: every regular
 * file of the archive (src/bundle's bounded reader refuses links, devices and `..`), its leading
 * `/` dropped, every name checked as layer titles are; nothing is written.
 */
export function bundleFilesOf(img: PulledImage, dir: string): PulledFile[] {
  const layer = img.layers.find((l) => l.descriptor.mediaType === MEDIA.ociLayerTarGzip);
  if (!layer) throw new RegistryError(`no ${MEDIA.ociLayerTarGzip} layer in the image`);
  let entries;
  try {
    entries = readTarGz(layer.data);
  } catch (e) {
    throw new RegistryError(`bundle layer ${layer.descriptor.digest}: ${(e as Error).message}`);
  }
  const files: PulledFile[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const name = e.name.replace(/^\/+/, "");
    const path = layerPath(dir, name);
    if (seen.has(path)) throw new RegistryError(`bundle file ${JSON.stringify(e.name)}: two files with the same name`);
    seen.add(path);
    files.push({ path, title: name, data: e.data });
  }
  return files;
}

/** Writes pulled files (replacing a symbolic link at a file's place instead of writing through it). */
export function writePulledFiles(dir: string, files: PulledFile[]): void {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  for (const f of files) {
    // no existing directory on the way may be a symbolic link out of the destination
    let at = root;
    for (const part of relative(root, f.path).split(sep).slice(0, -1)) {
      at = join(at, part);
      let st;
      try {
        st = lstatSync(at);
      } catch {
        break;
      }
      if (st.isSymbolicLink()) throw new RegistryError(`${at}: a symbolic link on the way to ${f.title}; refusing to write through it`);
    }
    mkdirSync(join(f.path, ".."), { recursive: true });
    try {
      if (lstatSync(f.path).isSymbolicLink()) rmSync(f.path);
    } catch {
      // not there yet
    }
    writeFileSync(f.path, f.data);
  }
}
