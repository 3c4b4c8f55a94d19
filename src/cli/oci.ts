// The registry commands (docs/oci.md): `login`/`logout` (docker's config file), conftest's
// `push`/`pull` (one layer per file), and the policy CLI's local store (`push`/`pull` of bundle
// images, `save`, `images`, `tag`, `rm`). Flags and messages only; the work is in src/oci/.

import { readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { CliIO } from "./io.ts";
import {
  CredentialsError,
  DockerConfigCredentials,
  ReferenceError,
  RegistryClient,
  RegistryError,
  StaticCredentials,
  StoreError,
  PolicyStore,
  conftestFiles,
  conftestFilesOf,
  formatReference,
  isBundleImage,
  parseReference,
  pullImage,
  pushConftest,
  pushStored,
  storePulled,
  writePulledFiles,
  PULL_LIMITS,
  bundleImage,
  bundleFilesOf,
  type ClientOptions,
  type Reference,
  type VerifyHook,
  refusing,
} from "../oci/index.ts";
import { ConftestError, loadPolicies } from "../conftest/runner.ts";

export interface RegistryFlags {
  plainHttp?: boolean;
  insecure?: boolean;
  caFile?: string;
  /** conftest's -s/--tls: false means plain HTTP. */
  tls?: boolean;
}

/** The client options of the registry flags (loopback registries are HTTP unless --tls or --ca-file). */
export function clientOptions(f: RegistryFlags): ClientOptions {
  const plainHttp = f.plainHttp ? true : f.tls === false ? true : f.tls === true || f.caFile !== undefined || f.insecure ? false : undefined;
  return { plainHttp, insecure: f.insecure, caFile: f.caFile, credentials: new DockerConfigCredentials() };
}

/** Runs a command body; known errors become `Error: …` and exit 1. */
async function guarded(io: CliIO, body: () => Promise<number | void>): Promise<number> {
  try {
    return (await body()) ?? 0;
  } catch (e) {
    if (e instanceof RegistryError || e instanceof ReferenceError || e instanceof CredentialsError || e instanceof StoreError || e instanceof ConftestError || e instanceof UsageError) {
      io.err(`Error: ${e.message}\n`);
      return 1;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
      io.err(`Error: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}

class UsageError extends Error {}

/** Go's log.LstdFlags prefix (conftest's logger): `2006/01/02 15:04:05 `. */
function logPrefix(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} `;
}

/** `https://host/…` or `host` → the registry host as references name it. */
function registryName(arg: string): string {
  let r = arg.replace(/^[a-z]+:\/\//i, "");
  const slash = r.indexOf("/");
  if (slash >= 0) r = r.slice(0, slash);
  if (r === "" ) throw new UsageError(`invalid registry ${JSON.stringify(arg)}`);
  if (r === "index.docker.io" || r === "registry-1.docker.io") return "docker.io";
  return r;
}

// --- login / logout ---------------------------------------------------------------------------

export interface LoginFlags extends RegistryFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

export function runLogin(registryArg: string, o: LoginFlags, io: CliIO): Promise<number> {
  return guarded(io, async () => {
    const registry = registryName(registryArg);
    if (o.password !== undefined && o.passwordStdin) throw new UsageError("--password and --password-stdin are mutually exclusive");
    if (!o.username) throw new UsageError("a username is required: -u/--username (Portcullis does not prompt)");
    let password = o.password;
    if (o.passwordStdin) {
      const raw = io.readStdin ? io.readStdin() : readFileSync(0, "utf8");
      password = raw.replace(/\r?\n$/, "");
    } else if (password !== undefined) {
      io.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    }
    if (password === undefined || password === "") throw new UsageError("a password is required: -p/--password or --password-stdin (Portcullis does not prompt)");
    const store = new DockerConfigCredentials();
    const client = new RegistryClient({ ...clientOptions(o), credentials: new StaticCredentials(registry, { username: o.username, password }) });
    try {
      await client.ping(registry);
    } catch (e) {
      if (e instanceof RegistryError) throw new RegistryError(`login to ${registry} failed: ${e.message}`, e.status, e.codes);
      throw e;
    } finally {
      await client.close();
    }
    await store.store(registry, o.username, password);
    io.out("Login Succeeded\n");
  });
}

export function runLogout(registryArg: string, _o: RegistryFlags, io: CliIO): Promise<number> {
  return guarded(io, async () => {
    const registry = registryName(registryArg);
    const removed = await new DockerConfigCredentials().erase(registry);
    io.out(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
  });
}

// --- push -------------------------------------------------------------------------------------

export interface PushFlags extends RegistryFlags {
  policy?: string;
  data?: string;
  regoVersion?: string;
  /** Which of the flags were given on the command line. */
  given: Set<string>;
}

export function runPush(refArg: string, paths: string[], o: PushFlags, io: CliIO): Promise<number> {
  return guarded(io, async () => {
    const store = new PolicyStore();
    // `push REF` of an image built or pulled into the local store (the policy CLI's push)
    if (paths.length === 0 && !o.given.has("policy") && !o.given.has("data") && store.has(refArg)) {
      const img = store.resolve(refArg);
      const ref = parseReference(refArg, "latest");
      const client = new RegistryClient(clientOptions(o));
      try {
        const d = await pushStored(client, store, img, ref);
        io.out(`Pushed ref [${formatReference(ref)}].\ndigest: ${d.digest}\n`);
      } finally {
        await client.close();
      }
      return;
    }
    // conftest's push: a repository is required, the tag defaults to latest
    const stripped = refArg.replace(/^oci:\/\//, "");
    if (!stripped.includes("/")) throw new UsageError("destination url missing repository");
    const ref = parseReference(stripped, "latest");
    const regoVersion = o.regoVersion ?? "v1";
    if (regoVersion !== "v0" && regoVersion !== "v1") throw new UsageError(`invalid Rego version: ${regoVersion}`);
    const policyPaths = paths.length > 0 ? paths : o.policy === "" ? [] : [o.policy ?? "policy"];
    const dataPaths = paths.length > 0 ? paths : o.data !== undefined && o.data !== "" ? [o.data] : policyPaths;
    if (policyPaths.length === 0 && dataPaths.length === 0) throw new UsageError("either policy or data must be set");
    io.out(`${logPrefix()}pushing bundle to: ${formatReference(ref)}\n`);
    // the policies must load and compile, as conftest's push checks
    if (policyPaths.length > 0) {
      try {
        loadPolicies({ policy: policyPaths, data: dataPaths, regoVersion });
      } catch (e) {
        if (e instanceof ConftestError) throw new ConftestError(`push bundle: pushing layers: ${e.message}`);
        throw e;
      }
    }
    const files = conftestFiles(policyPaths, dataPaths);
    const client = new RegistryClient(clientOptions(o));
    try {
      const d = await pushConftest(client, ref, files);
      io.out(`${logPrefix()}pushed bundle with digest: ${d.digest}\n`);
    } finally {
      await client.close();
    }
  });
}

// --- pull -------------------------------------------------------------------------------------

export interface PullFlags extends RegistryFlags {
  policy?: string;
  absolutePaths?: boolean;
  given: Set<string>;
  /** Refuses an artifact before anything is written (signature verification). */
  verify?: VerifyHook;
}

/**
 * Where `pull` writes: conftest joins --policy to "." (filepath.Join), so an absolute path is
 * taken relative to the current directory unless --absolute-paths is given.
 */
export function pullDir(o: Pick<PullFlags, "policy" | "absolutePaths">): string {
  const p = o.policy ?? "policy";
  return o.absolutePaths === true && isAbsolute(p) ? p : join(".", p);
}

export function runPull(refArg: string, o: PullFlags, io: CliIO): Promise<number> {
  return guarded(io, async () => {
    const ref = parseReference(refArg, "latest");
    const client = new RegistryClient(clientOptions(o));
    try {
      const img = await pullImage(client, ref, { maxTotalBytes: PULL_LIMITS.maxTotalBytes, verify: refusing(o.verify) });
      if (isBundleImage(img.manifest)) {
        if (o.given.has("policy")) {
          // -p DIR: the bundle's files into DIR (what `pull` + `save | tar -x` would leave there)
          const dir = pullDir(o);
          writePulledFiles(dir, bundleFilesOf(img, dir));
          return;
        }
        const store = new PolicyStore();
        const d = storePulled(store, ref, img);
        io.out(`Pulled ref [${formatReference(ref)}].\ndigest: ${d.digest}\n`);
        return;
      }
      const dir = pullDir(o);
      const files = conftestFilesOf(img, dir);
      writePulledFiles(dir, files);
    } finally {
      await client.close();
    }
  });
}

// --- the local store --------------------------------------------------------------------------

export function runSave(refArg: string, o: { file: string }, io: CliIO): Promise<number> {
  return guarded(io, async () => {
    const store = new PolicyStore();
    const img = store.resolve(refArg);
    const bundle = store.bundle(img);
    if (o.file === "-") {
      if (io.outBytes) io.outBytes(bundle);
      else process.stdout.write(bundle);
    } else {
      writeFileSync(o.file, bundle);
      io.err(`Saved ${img.ref} (${img.descriptor.digest}) to ${o.file}\n`);
    }
  });
}

function humanSize(n: number): string {
  // go-humanize's Bytes: SI units, at most one decimal
  if (n < 10) return `${n}B`;
  const units = ["B", "kB", "MB", "GB", "TB"];
  const e = Math.min(Math.floor(Math.log(n) / Math.log(1000)), units.length - 1);
  const v = n / 1000 ** e;
  return `${v < 10 ? v.toFixed(1) : Math.floor(v + 0.5).toFixed(0)}${units[e]}`;
}

function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return s <= 1 ? "now" : `${s} seconds ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return m === 1 ? "1 minute ago" : `${m} minutes ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return h === 1 ? "1 hour ago" : `${h} hours ago`;
  const d = Math.floor(h / 24);
  return d === 1 ? "1 day ago" : `${d} days ago`;
}

export function runImages(o: { format?: string }, io: CliIO): Promise<number> {
  return guarded(io, async () => {
    const store = new PolicyStore();
    const rows = store.list().map((img) => {
      const r = parseReference(img.ref);
      return { repository: `${r.registry}/${r.repository}`, tag: r.tag ?? "<none>", id: img.descriptor.digest.split(":")[1].slice(0, 12), digest: img.descriptor.digest, created: img.created ?? "", size: img.size };
    });
    if (o.format === "json") {
      io.out(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (o.format !== undefined && o.format !== "table") throw new UsageError(`invalid format ${JSON.stringify(o.format)}: table or json`);
    const table = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], ...rows.map((r) => [r.repository, r.tag, r.id, ago(r.created), humanSize(r.size)])];
    const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
    for (const row of table) io.out(`${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join("   ")}\n`);
  });
}

export function runTag(src: string, dst: string, io: CliIO): Promise<number> {
  return guarded(io, async () => {
    const store = new PolicyStore();
    const to = parseReference(dst, "latest");
    const img = store.tag(src, to);
    io.out(`Tagging ${img.ref} as ${formatReference(to)}.\n`);
  });
}

export function runRm(refs: string[], io: CliIO): Promise<number> {
  return guarded(io, async () => {
    const store = new PolicyStore();
    let failed = 0;
    for (const r of refs) {
      try {
        const img = store.remove(r);
        io.out(`Removed reference ${img.ref} (${img.descriptor.digest}).\n`);
      } catch (e) {
        if (!(e instanceof StoreError || e instanceof ReferenceError)) throw e;
        io.err(`Error: ${e.message}\n`);
        failed++;
      }
    }
    return failed > 0 ? 1 : 0;
  });
}

export type { Reference };

/**
 * `build -t REF` (the policy CLI's build): a built bundle .tar.gz into the local store as a
 * policy image tagged REF. Returns the exit code; messages as the policy CLI's.
 */
export function storeBuiltBundle(archive: Buffer, refArg: string, regoVersion: "v0" | "v1", io: CliIO): number {
  try {
    const ref = parseReference(refArg, "latest");
    const store = new PolicyStore();
    const { bytes, manifest } = bundleImage(archive, ref, { regoVersion });
    const d = store.putImage(ref, bytes, [
      { digest: manifest.config.digest, data: Buffer.from("{}") },
      { digest: manifest.layers[0].digest, data: archive },
    ]);
    io.out(`Created new image.\ndigest: ${d.digest}\nTagging image.\nreference: ${formatReference(ref)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ReferenceError || e instanceof StoreError) {
      io.err(`Error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
