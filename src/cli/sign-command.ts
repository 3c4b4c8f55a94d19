// Registers `portcullis sign` (opa sign).
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { runSign } from "./build.ts";

export function register(program: Command, io: CliIO): void {
  program
    .command("sign")
    .description("Generate an OPA bundle signature (.signatures.json) for bundle directories or archives (opa sign)")
    .argument("[paths...]", "bundle directories or archives")
    .option("-b, --bundle", "load paths as bundle files or root directories (required)")
    .option("--signing-key <key>", "set the secret (HMAC) or path of the PEM file containing the private key (RSA and ECDSA)")
    .option("--signing-alg <alg>", "name of the signing algorithm", "RS256")
    .option("--claims-file <file>", "set path of JSON file containing optional claims")
    .option("--signing-plugin <name>", "name of the plugin to use for signing (only the default is supported)")
    .option("-o, --output-file-path <dir>", "set the location for the .signatures.json file", ".")
    .action((paths: string[], o) => {
      io.exitCode = runSign(paths, o, io);
    });
}
