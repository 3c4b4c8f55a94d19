// Registers `portcullis sign`, which is two peers' `sign` in one command:
//   - opa sign: `portcullis sign --signing-key K [-b] paths…` writes an OPA bundle's
//     .signatures.json (src/bundle, through build.ts);
//   - cosign sign: `portcullis sign --key cosign.key REF` signs an image or artifact in a
//     registry (src/sign, through signature-command.ts).
// `--key` chooses cosign's; the two sets of flags may not be mixed.
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { runSign } from "./build.ts";
import { cosignSignOptions, runCosignSign, type CosignSignFlags } from "./signature-command.ts";

const OPA_ONLY = ["bundle", "signingKey", "claimsFile", "signingPlugin"] as const;
const COSIGN_ONLY = ["newBundleFormat", "yes", "allowHttpRegistry", "allowInsecureRegistry", "registryCacert"] as const;

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command("sign")
    .description("Sign an OPA bundle (opa sign: --signing-key, writes .signatures.json) or an image/artifact in a registry (cosign sign: --key cosign.key REF)")
    .argument("[paths...]", "opa sign: bundle directories or archives; cosign sign: one image or artifact reference")
    .option("-b, --bundle", "opa sign: load paths as bundle files or root directories (required)")
    .option("--signing-key <key>", "opa sign: the secret (HMAC) or path of the PEM file containing the private key (RSA and ECDSA)")
    .option("--signing-alg <alg>", "opa sign: name of the signing algorithm", "RS256")
    .option("--claims-file <file>", "opa sign: path of a JSON file containing optional claims")
    .option("--signing-plugin <name>", "opa sign: name of the plugin to use for signing (only the default is supported)")
    .option("-o, --output-file-path <dir>", "opa sign: the location for the .signatures.json file", ".");
  cosignSignOptions(cmd).action(async (paths: string[], o: Record<string, unknown>) => {
    if (o.key === undefined) {
      const mixed = COSIGN_ONLY.filter((k) => o[k] !== undefined) as string[];
      if ((o.annotations as string[]).length > 0) mixed.push("annotations");
      if (mixed.length > 0) {
        io.err(`Error: ${mixed.map(flagName).join(", ")} ${mixed.length > 1 ? "are" : "is a"} cosign sign flag${mixed.length > 1 ? "s" : ""}: give --key to sign in a registry\n`);
        io.exitCode = 1;
        return;
      }
      io.exitCode = runSign(paths, o as never, io);
      return;
    }
    const mixed = OPA_ONLY.filter((k) => o[k] !== undefined) as string[];
    if (mixed.length > 0) {
      io.err(`Error: ${mixed.map(flagName).join(", ")} cannot be used with --key (--key signs a registry reference as cosign sign does; --signing-key signs bundles as opa sign does)\n`);
      io.exitCode = 1;
      return;
    }
    if (paths.length !== 1) {
      io.err(`Error: sign --key takes exactly one image or artifact reference, got ${paths.length}\n`);
      io.exitCode = 1;
      return;
    }
    await runCosignSign(paths[0], o as unknown as CosignSignFlags, io);
  });
}

function flagName(k: string): string {
  return "--" + k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}
