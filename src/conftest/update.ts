// `portcullis test --update URL`: conftest fetches policies into the first policy path before
// testing. Local sources are fetched as conftest's downloader (go-getter's file getter) does:
// `file::PATH` and `file://PATH`; a directory becomes a symbolic link at the policy path, a file
// a symbolic link inside it (replacing an earlier one). OCI sources (`oci://REF`, or a reference to
// a registry conftest's detector recognises: loopback with a port, azurecr.io, gcr.io, pkg.dev,
// registry.gitlab.com, quay.io, ECR) are pulled as `portcullis pull -p DST` does: every titled
// layer at DST/TITLE, or an OPA bundle image's files, all fetched and checked before anything is
// written. Other remote sources
// (git, http, s3, …) are not downloaded: they are an error rather than a silent test against
// stale policies.

import { existsSync, lstatSync, mkdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ConftestError } from "./inputs.ts";
import type { VerifyHook } from "../oci/transfer.ts";

/** The local path of a file source, or undefined for any other source. */
function localSource(url: string): string | undefined {
  if (url.startsWith("file::")) return url.slice("file::".length).replace(/^file:\/\//, "");
  if (url.startsWith("file://")) return url.slice("file://".length);
  return undefined;
}

const fail = (why: string) => new ConftestError(`update policies: client get: ${why}`);

/** The reference of an OCI source (conftest's OCI detector), or undefined. */
export function ociSource(url: string): string | undefined {
  if (url.startsWith("oci://")) return url.slice("oci://".length);
  if (/^[a-z0-9+.-]+::/i.test(url) || /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  const registries = [/azurecr\.io/, /gcr\.io/, /registry\.gitlab\.com/, /pkg\.dev/, /[0-9]{12}\.dkr\.ecr\.[a-z0-9-]*\.amazonaws\.com/, /^quay\.io/, /(?:::1|127\.0\.0\.1|[Ll][Oo][Cc][Aa][Ll][Hh][Oo][Ss][Tt]):\d{1,5}/];
  if (!registries.some((r) => r.test(url))) return undefined;
  return url.includes("/") ? url : undefined;
}

/** Fetches each source into `dst` (the first policy path). Throws ConftestError as conftest words it. */
export async function updatePolicies(urls: string[], dst: string, opts: UpdateOptions = {}): Promise<void> {
  for (const url of urls) {
    const oci = ociSource(url);
    if (oci !== undefined) {
      await pullOCI(oci, dst, opts);
      continue;
    }
    const path = localSource(url);
    if (path === undefined) {
      throw fail(`downloading ${JSON.stringify(url)}: only file sources (file::PATH, file://PATH) and OCI registries (oci://REF) are fetched`);
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

export interface UpdateOptions {
  /** Called with an OCI artifact's manifest descriptor before anything is written; throws to refuse it. */
  verify?: VerifyHook;
  /** true: plain HTTP for every registry (conftest's --tls=false); default: loopback registries only. */
  plainHttp?: boolean;
}

async function pullOCI(reference: string, dst: string, opts: UpdateOptions): Promise<void> {
  // the OCI client (undici) is loaded only when an OCI source is given
  const oci = await import("../oci/index.ts");
  let client: InstanceType<typeof oci.RegistryClient> | undefined;
  try {
    const ref = oci.parseReference(reference, "latest");
    client = new oci.RegistryClient({ credentials: new oci.DockerConfigCredentials(), plainHttp: opts.plainHttp });
    const img = await oci.pullImage(client, ref, { maxTotalBytes: oci.PULL_LIMITS.maxTotalBytes, verify: oci.refusing(opts.verify) });
    // conftest's layers, or an OPA bundle image's files (the policy CLI's and OPCR's images)
    oci.writePulledFiles(dst, oci.isBundleImage(img.manifest) ? oci.bundleFilesOf(img, dst) : oci.conftestFilesOf(img, dst));
  } catch (e) {
    if (e instanceof oci.RegistryError || e instanceof oci.ReferenceError || e instanceof oci.CredentialsError) throw fail(`pulling policy: ${e.message}`);
    // the file system (a policy directory that cannot be written, …)
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) throw fail(`pulling policy: ${(e as Error).message}`);
    throw e;
  } finally {
    await client?.close();
  }
}

function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return existsSync(p) ? statSync(p) : undefined;
  }
}
