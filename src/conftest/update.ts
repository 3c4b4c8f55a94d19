// `portcullis test --update URL`: conftest fetches policies into the first policy path before
// testing. Local sources are fetched as conftest's downloader (go-getter's file getter) does:
// `file::PATH` and `file://PATH`; a directory becomes a symbolic link at the policy path, a file
// a symbolic link inside it (replacing an earlier one). Remote sources (git, http, s3, oci, …)
// are not downloaded: they are an error rather than a silent test against stale policies.

import { existsSync, lstatSync, mkdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ConftestError } from "./inputs.ts";

/** The local path of a file source, or undefined for any other source. */
function localSource(url: string): string | undefined {
  if (url.startsWith("file::")) return url.slice("file::".length).replace(/^file:\/\//, "");
  if (url.startsWith("file://")) return url.slice("file://".length);
  return undefined;
}

const fail = (why: string) => new ConftestError(`update policies: client get: ${why}`);

/** Fetches each source into `dst` (the first policy path). Throws ConftestError as conftest words it. */
export function updatePolicies(urls: string[], dst: string): void {
  for (const url of urls) {
    const path = localSource(url);
    if (path === undefined) {
      throw fail(`downloading ${JSON.stringify(url)}: only file sources (file::PATH, file://PATH) are fetched; Portcullis does not download policies`);
    }
    const src = resolve(path);
    let st;
    try {
      st = statSync(src);
    } catch {
      throw fail(`stat ${src}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const existing = lstatOrUndefined(dst);
      if (existing && !existing.isSymbolicLink()) throw fail(`error downloading 'file://${src}': destination exists and is not a symlink`);
      if (existing) rmSync(dst);
      mkdirSync(resolve(dst, ".."), { recursive: true });
      symlinkSync(src, dst);
      continue;
    }
    mkdirSync(dst, { recursive: true });
    const target = join(dst, basename(src));
    if (lstatOrUndefined(target)) rmSync(target, { recursive: true, force: true });
    symlinkSync(src, target);
  }
}

function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return existsSync(p) ? statSync(p) : undefined;
  }
}
