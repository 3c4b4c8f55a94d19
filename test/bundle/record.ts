// Records `opa`'s answers for test/bundle (run by hand with OPA installed, from the repository root:
// node --import tsx test/bundle/record.ts). Writes test/bundle/fixtures/recorded/.

import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { tmpdir, homedir } from "node:os";
import { variants } from "./tamper.ts";

const OPA = process.env.OPA ?? join(homedir(), "go/bin/opa");
const FIX = join(import.meta.dirname, "fixtures");
const REC = join(FIX, "recorded");
const tmp = mkdtempSync(join(tmpdir(), "bundle-record-"));
const opa = (args: string[]) => spawnSync(OPA, args, { cwd: FIX, encoding: "utf8" });
const tarOf = (file: string) => gunzipSync(readFileSync(file));

try {
  const version = execFileSync(OPA, ["version"], { encoding: "utf8" }).split("\n")[0];
  // Plain and bundle-mode builds: the tar streams.
  const builds: Record<string, string[]> = {
    "plain": ["build", "plain"],
    "plain-revision-ignore": ["build", "plain", "-r", "rev-7", "--ignore", "extra.yaml"],
    "bundle": ["build", "-b", "policy", "-r", "r2"],
    "bundle-rs256": ["build", "-b", "policy", "--signing-key", "rsa.pem"],
    "bundle-rs256-claims": ["build", "-b", "policy", "--signing-key", "rsa.pem", "--signing-alg", "RS512", "--claims-file", "claims.json"],
  };
  for (const [name, args] of Object.entries(builds)) {
    const out = join(tmp, `${name}.tar.gz`);
    const r = opa([...args, "-o", out]);
    if (r.status !== 0) throw new Error(`${name}: ${r.stdout}${r.stderr}`);
    writeFileSync(join(REC, `${name}.tar`), tarOf(out));
    if (name === "bundle-rs256") writeFileSync(join(REC, "opa-rs256.tar.gz"), readFileSync(out));
  }
  // Signed with ES256 (random signatures): the archive itself, for verification.
  const es = join(REC, "opa-es256.tar.gz");
  if (opa(["build", "-b", "policy", "--signing-key", "ec.pem", "--signing-alg", "ES256", "--claims-file", "claims.json", "-o", es]).status !== 0) throw new Error("es256");
  // Tampering: what `opa build -b X --verification-key rsa.pub` answers for each variant.
  const cases: { name: string; args: string[]; status: number; stdout: string }[] = [];
  for (const v of variants(readFileSync(join(REC, "opa-rs256.tar.gz")))) {
    const f = join(tmp, "variant.tar.gz");
    writeFileSync(f, v.archive);
    const args = ["build", "-b", f, "--verification-key", "rsa.pub", ...v.args, "-o", join(tmp, "out.tar.gz")];
    const r = opa(args);
    cases.push({ name: v.name, args: v.args, status: r.status ?? -1, stdout: r.stdout.split(f).join("BUNDLE") });
  }
  writeFileSync(join(REC, "tamper.json"), JSON.stringify({ opa: version, cases }, null, 2) + "\n");
  // OPA verifies bundles Portcullis built and signed (recorded when this script ran).
  const pcs = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../cli/portcullis-src.ts"), ...args], { cwd: FIX, encoding: "utf8" });
  const accepted: { alg: string; status: number; stdout: string }[] = [];
  for (const [alg, key, pub] of [["RS256", "rsa.pem", "rsa.pub"], ["PS384", "rsa.pem", "rsa.pub"], ["ES256", "ec.pem", "ec.pub"], ["HS256", "s3cr3t", "s3cr3t"]]) {
    const f = join(tmp, `pcs-${alg}.tar.gz`);
    const b = pcs(["build", "-b", "policy", "--signing-key", key, "--signing-alg", alg, "-o", f]);
    if (b.status !== 0) throw new Error(`portcullis build ${alg}: ${b.stdout}${b.stderr}`);
    const r = opa(["build", "-b", f, "--verification-key", pub, "--signing-alg", alg, "-o", join(tmp, "o.tar.gz")]);
    const e = opa(["eval", "-b", f, "--format", "raw", "data.x.allow"]);
    accepted.push({ alg, status: r.status ?? -1, stdout: r.stdout + (e.status === 0 ? "" : `eval: ${e.stdout}`) });
  }
  writeFileSync(join(REC, "opa-accepts.json"), JSON.stringify({ opa: version, accepted }, null, 2) + "\n");
  console.log("recorded in", REC);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
