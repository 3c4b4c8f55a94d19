// The peer engines: OPA (bench/peers/opa, Go) and regorus (bench/peers/regorus, Rust), built
// on first use into a cache directory outside the repository (BENCH_CACHE, default
// ~/.cache/portcullis-bench), keyed by a hash of their sources so an edit rebuilds them. A peer
// whose toolchain is missing, or whose build fails, is skipped with the reason.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { PeerRunner } from "./runners.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const PEERS = path.join(here, "../peers");
export const CACHE = process.env.BENCH_CACHE ?? path.join(os.homedir(), ".cache/portcullis-bench");
/** A peer build may take this long (the first regorus build compiles its crates). */
const BUILD_TIMEOUT_MS = 30 * 60_000;

function sourceHash(dir: string, files: string[]): string {
  const h = createHash("sha256");
  for (const f of files) {
    const p = path.join(dir, f);
    h.update(f).update("\0").update(fs.existsSync(p) ? fs.readFileSync(p) : "");
  }
  return h.digest("hex").slice(0, 12);
}

function which(cmd: string, extra: string[] = []): string | null {
  for (const dir of [...(process.env.PATH ?? "").split(path.delimiter), ...extra]) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

export interface PeerBuild {
  name: string;
  bin?: string;
  skipped?: string;
}

function build(name: string, bin: string, cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, log: (s: string) => void): PeerBuild {
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  log(`building the ${name} peer (once, into ${path.dirname(bin)}) ...`);
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 << 20 });
  if (r.status !== 0 || !fs.existsSync(bin)) {
    const why = (r.error?.message ?? r.stderr ?? "").trim().split("\n").slice(-3).join(" | ");
    return { name, skipped: `${name} peer build failed: ${why}` };
  }
  return { name, bin };
}

export function buildOpa(log: (s: string) => void): PeerBuild {
  const go = which("go", ["/usr/local/go/bin", path.join(os.homedir(), "go/bin")]);
  if (!go) return { name: "OPA", skipped: "OPA skipped: `go` is not installed" };
  const dir = path.join(PEERS, "opa");
  const bin = path.join(CACHE, `opa-runner-${sourceHash(dir, ["main.go", "go.mod", "go.sum"])}`);
  if (fs.existsSync(bin)) return { name: "OPA", bin };
  return build("OPA", bin, go, ["build", "-o", bin, "."], dir, { GOFLAGS: "-mod=mod" }, log);
}

export function buildRegorus(log: (s: string) => void): PeerBuild {
  const cargo = which("cargo", [path.join(os.homedir(), ".cargo/bin")]);
  if (!cargo) return { name: "regorus", skipped: "regorus skipped: `cargo` is not installed" };
  const dir = path.join(PEERS, "regorus");
  const target = path.join(CACHE, "regorus-target");
  const bin = path.join(CACHE, `regorus-runner-${sourceHash(dir, ["src/main.rs", "Cargo.toml", "Cargo.lock"])}`);
  if (fs.existsSync(bin)) return { name: "regorus", bin };
  // cargo builds incrementally in the shared target directory; the result is kept under the source hash.
  const r = build("regorus", path.join(target, "release/regorus-runner"), cargo, ["build", "--release", "--manifest-path", path.join(dir, "Cargo.toml")], dir, { CARGO_TARGET_DIR: target }, log);
  if (!r.bin) return r;
  fs.copyFileSync(r.bin, bin);
  fs.chmodSync(bin, 0o755);
  return { name: "regorus", bin };
}

/** Start the peers that build; answer the runners and the skip messages. */
export function startPeers(which: string, log: (s: string) => void): { runners: PeerRunner[]; skipped: string[] } {
  const runners: PeerRunner[] = [];
  const skipped: string[] = [];
  const want = new Set(which.split(",").map((s) => s.trim().toLowerCase()));
  for (const [key, b] of [
    ["opa", buildOpa],
    ["regorus", buildRegorus],
  ] as const) {
    if (!want.has(key)) continue;
    const res = b(log);
    if (res.bin) runners.push(new PeerRunner(res.name, res.bin));
    else skipped.push(res.skipped ?? `${res.name} skipped`);
  }
  return { runners, skipped };
}

/** The peer's runner when it is already built for the current sources (no build: for tests). */
export function cachedPeer(name: "opa" | "regorus"): string | null {
  const dir = path.join(PEERS, name);
  const bin =
    name === "opa"
      ? path.join(CACHE, `opa-runner-${sourceHash(dir, ["main.go", "go.mod", "go.sum"])}`)
      : path.join(CACHE, `regorus-runner-${sourceHash(dir, ["src/main.rs", "Cargo.toml", "Cargo.lock"])}`);
  return fs.existsSync(bin) ? bin : null;
}
