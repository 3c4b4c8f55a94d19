// `portcullis build` and `portcullis sign`: flags and messages as `opa build` / `opa sign` (which
// print their errors on stdout as `error: …` and exit 1); the work is in src/bundle/.

import { readFileSync, writeFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { CliIO } from "./io.ts";
import type { Capabilities } from "../engine/index.ts";
import { buildArchive } from "../bundle/build.ts";
import { readKeyArgument, parseClaims, signFileInfos, signedToken, signaturesJSON, type SigningConfig, type VerificationConfig } from "../bundle/index.ts";
import { ignoreFilter } from "../load/gomatch.ts";
import { RegoError } from "../rego/errors.ts";

const SIGNING_INCOMPLETE = "specify the secret (HMAC) or path of the PEM file containing the private key (RSA and ECDSA)";

interface BuildFlags {
  bundle?: boolean;
  output: string;
  revision?: string;
  target: string;
  entrypoint: string[];
  optimize: string;
  ignore: string[];
  capabilities?: string;
  v0Compatible?: boolean;
  v1Compatible?: boolean;
  signingKey?: string;
  signingAlg: string;
  claimsFile?: string;
  signingPlugin?: string;
  verificationKey?: string;
  verificationKeyId: string;
  scope?: string;
  excludeFilesVerify: string[];
}

class UsageError extends Error {}

export function runBuild(paths: string[], o: BuildFlags, io: CliIO): number {
  if (!["rego", "wasm", "plan"].includes(o.target)) {
    io.err(`Error: invalid argument "${o.target}" for "-t, --target" flag: must be one of {rego,wasm,plan}\n`);
    return 1;
  }
  if (paths.length === 0) {
    io.err("Error: expected at least one path\n");
    return 1;
  }
  try {
    if (o.target !== "rego") throw new UsageError(`target ${o.target} is not supported: Portcullis builds Rego bundles only (-t rego)`);
    if (!/^-?\d+$/.test(o.optimize)) throw new UsageError(`invalid argument "${o.optimize}" for "-O, --optimize" flag: strconv.ParseInt: parsing ${JSON.stringify(o.optimize)}: invalid syntax`);
    if (Number(o.optimize) > 0) throw new UsageError("optimization (-O > 0) is not supported: Portcullis builds unoptimized Rego bundles");
    if (o.signingPlugin !== undefined && o.signingPlugin !== "" && o.signingPlugin !== "_default") throw new UsageError(`no signer exists under id ${o.signingPlugin}`);
    const verification = verificationConfig(o.verificationKey, o.verificationKeyId, o.signingAlg, o.scope ?? "", o.excludeFilesVerify);
    const signing = signingConfig(o.signingKey, o.signingAlg, o.claimsFile, o.signingPlugin, o.claimsFile ? "" : o.verificationKeyId);
    const archive = buildArchive({
      paths,
      bundleMode: o.bundle === true,
      regoVersion: o.v0Compatible ? "v0" : "v1",
      revision: o.revision,
      ignore: ignoreFilter(o.ignore),
      capabilities: o.capabilities !== undefined ? readCapabilities(o.capabilities) : undefined,
      verification,
      signing,
      warn: (s) => io.err(s),
    });
    writeFileSync(o.output, archive);
    return 0;
  } catch (e) {
    io.out(`error: ${errorText(e)}\n`);
    return 1;
  }
}

function errorText(e: unknown): string {
  if (e instanceof RegoError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

function verificationConfig(key: string | undefined, keyId: string, alg: string, scope: string, exclude: string[]): VerificationConfig | undefined {
  if (key === undefined || key === "") return undefined;
  return { keys: { [keyId]: { key: readKeyArgument(key), algorithm: alg, scope } }, keyId, scope, exclude };
}

function signingConfig(key: string | undefined, alg: string, claimsFile: string | undefined, plugin: string | undefined, keyId: string): SigningConfig | undefined {
  if (key === undefined || key === "") {
    if ((plugin ?? "") !== "" || (claimsFile ?? "") !== "") throw new UsageError(SIGNING_INCOMPLETE);
    return undefined;
  }
  let claims;
  if (claimsFile) {
    let text: string;
    try {
      text = readFileSync(claimsFile, "utf8");
    } catch {
      throw new UsageError(`open ${claimsFile}: no such file or directory`);
    }
    claims = parseClaims(text);
  }
  return { key: readKeyArgument(key), algorithm: alg, claims, keyId };
}

function readCapabilities(file: string): Capabilities {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`open ${file}: no such file or directory (--capabilities takes a capabilities.json file; version names are not supported)`);
  }
  let caps: Capabilities;
  try {
    caps = JSON.parse(text) as Capabilities;
  } catch (e) {
    throw new UsageError(`${file}: invalid capabilities file: ${(e as Error).message}`);
  }
  if (caps === null || typeof caps !== "object" || (caps.builtins !== undefined && !Array.isArray(caps.builtins))) {
    throw new UsageError(`${file}: invalid capabilities file: not a capabilities document`);
  }
  return caps;
}

interface SignFlags {
  bundle?: boolean;
  signingKey?: string;
  signingAlg: string;
  claimsFile?: string;
  signingPlugin?: string;
  outputFilePath: string;
}

export function runSign(paths: string[], o: SignFlags, io: CliIO): number {
  try {
    if (paths.length === 0) throw new UsageError("specify atleast one path containing policy and/or data files");
    if (o.signingKey === undefined || o.signingKey === "") throw new UsageError(SIGNING_INCOMPLETE);
    if (!o.bundle) throw new UsageError("enable bundle mode (ie. --bundle) to sign bundle files or directories");
    if (o.signingPlugin !== undefined && o.signingPlugin !== "" && o.signingPlugin !== "_default") throw new UsageError(`no signer exists under id ${o.signingPlugin}`);
    for (const p of paths) if (!existsSync(p)) throw new UsageError(`stat ${p}: no such file or directory`);
    const files = paths.flatMap((p) => signFileInfos(p));
    const sc = signingConfig(o.signingKey, o.signingAlg, o.claimsFile, o.signingPlugin, "")!;
    const token = signedToken(files, sc);
    const dir = o.outputFilePath === "" ? "." : o.outputFilePath;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`open ${join(dir, ".signatures.json")}: no such file or directory`);
    writeFileSync(join(dir, ".signatures.json"), signaturesJSON({ signatures: [token] }));
    return 0;
  } catch (e) {
    io.err(`Error: ${errorText(e)}\n`);
    return 1;
  }
}
