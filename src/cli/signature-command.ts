// `portcullis sign --key` (cosign sign --key; registered by sign-command.ts) and `portcullis verify-signature` (cosign
// verify: a key, or keyless identities against a trusted_root.json file). The work is in
// src/sign/remote.ts; this file reads flags and files and prints.
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import type { CliIO } from "./io.ts";
import { readPassword } from "./password.ts";
import { keylessFlags, parseAnnotations, policyFromFlags, type VerificationFlags } from "./verification-flags.ts";

const collect = (v: string, prev: string[]) => [...prev, v];

interface RegistryFlags {
  allowHttpRegistry?: boolean;
  allowInsecureRegistry?: boolean;
  registryCacert?: string;
}

function registryOptions(cmd: Command): Command {
  return cmd
    .option("--allow-http-registry", "reach the registry over plain HTTP (loopback registries use HTTP anyway)")
    .option("--allow-insecure-registry", "skip TLS certificate verification of the registry")
    .option("--registry-cacert <file>", "PEM CA certificates the registry's TLS certificate must chain to");
}

async function clientOptions(o: RegistryFlags) {
  const { DockerConfigCredentials } = await import("../oci/index.ts");
  return {
    credentials: new DockerConfigCredentials(),
    ...(o.allowHttpRegistry ? { plainHttp: true } : {}),
    ...(o.allowInsecureRegistry ? { insecure: true } : {}),
    ...(o.registryCacert ? { caFile: o.registryCacert } : {}),
  };
}

function fail(io: CliIO, e: unknown): void {
  const msg = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, " ");
  io.err(`Error: ${msg}\n`);
  io.exitCode = 1;
}

/** cosign sign's flags on `portcullis sign` (which is also opa sign: see sign-command.ts). */
export function cosignSignOptions(cmd: Command): Command {
  return registryOptions(
    cmd
      .option("--key <file>", "cosign sign: private key: cosign.key (password from COSIGN_PASSWORD or a prompt) or a PEM private key")
      .option("-a, --annotations <key=value>", "cosign sign: annotation added to the signed payload's optional section (repeatable)", collect, [])
      .option("--new-bundle-format", "cosign sign: write a Sigstore bundle (DSSE in-toto statement) as an OCI 1.1 referrer, as cosign v3 does, instead of the .sig tag")
      .option("-y, --yes", "cosign sign: accepted for compatibility (nothing is uploaded to a public log, so there is nothing to confirm)"),
  );
}

export type CosignSignFlags = RegistryFlags & { key: string; annotations: string[]; newBundleFormat?: boolean };

/** `portcullis sign --key cosign.key REF` (cosign sign --key; the signature goes to the sha256-<digest>.sig tag; no transparency log upload). */
export async function runCosignSign(ref: string, o: CosignSignFlags, io: CliIO): Promise<void> {
  try {
    const annotations = parseAnnotations(o.annotations);
    if (o.newBundleFormat && Object.keys(annotations).length > 0) throw new Error("-a annotations are not part of the new bundle format (its statement has no place for them)");
    const keys = await import("../sign/keys.ts");
    const text = readFileSync(o.key, "utf8");
    const password = keys.isEncryptedKey(text) ? await readPassword(io, false) : undefined;
    const key = await keys.loadPrivateKey(text, password);
    const { signImage, signImageBundle } = await import("../sign/remote.ts");
    const { RegistryClient } = await import("../oci/index.ts");
    const client = new RegistryClient(await clientOptions(o));
    try {
      if (o.newBundleFormat) {
        const r = await signImageBundle(client, ref, key);
        io.err(`Pushing bundle referrer ${r.signatureTag} to: ${r.signed.replace(/@.*$/, "")}\n`);
        return;
      }
      const r = await signImage(client, ref, key, annotations);
      io.err(r.added ? `Pushing signature to: ${r.signed.replace(/@.*$/, "")}\n` : `Signature for ${r.signed} by this key already present in ${r.signatureTag}\n`);
    } finally {
      await client.close();
    }
  } catch (e) {
    fail(io, e);
  }
}

export function register(program: Command, io: CliIO): void {
  const verifyCmd = registryOptions(
    program
      .command("verify-signature")
      .description("Verify the cosign signatures of an image or policy artifact (cosign verify): with --key, or keyless with --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp] against --trusted-root")
      .argument("<ref>", "image or artifact reference (a tag is resolved to its digest first)")
      .option("--key <file>", "public key (cosign.pub) or certificate PEM")
      .option("-a, --annotations <key=value>", "annotation the signed payload must carry (repeatable)", collect, [])
      .option("-o, --output <format>", "json (cosign's payload array) or text", "json"),
  );
  keylessFlags(verifyCmd).action(
    async (
      ref: string,
      o: RegistryFlags & VerificationFlags & { annotations: string[]; output: string },
    ) => {
      try {
        if (o.output !== "json" && o.output !== "text") throw new Error(`unknown --output ${JSON.stringify(o.output)} (json or text)`);
        const policy = await policyFromFlags(o, "--key");
        const { verifyArtifact } = await import("../sign/remote.ts");
        const r = await verifyArtifact(ref, policy, await clientOptions(o));
        const keyless = policy.identities !== undefined;
        io.err(`\nVerification for ${r.ref} --\nThe following checks were performed on each of these signatures:\n  - The cosign claims were validated\n`);
        if (!o.insecureIgnoreTlog) io.err("  - Existence of the claims in the transparency log was verified offline\n");
        io.err(keyless ? "  - The code-signing certificate was verified using trusted certificate authority certificates\n" : "  - The signatures were verified against the specified public key\n");
        // cosign writes an empty line before the JSON on standard output
        if (o.output === "json") io.out(`\n${JSON.stringify(r.verified.map((v) => v.output))}\n`);
        else for (const v of r.verified) io.out(`${r.ref} ${v.digest}${v.keyless ? " keyless" : ""}\n`);
      } catch (e) {
        fail(io, e);
      }
    },
  );
}
