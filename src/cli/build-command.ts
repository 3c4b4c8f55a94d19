// Registers `portcullis build` (opa build -t rego).
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { runBuild } from "./build.ts";

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(",").filter((s) => s !== "")];
const repeat = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, io: CliIO): void {
  program
    .command("build")
    .description("Build an OPA bundle (.tar.gz) from policy and data files or bundle directories (opa build -t rego)")
    .argument("[paths...]", "policy and data files or directories (bundle directories or archives with -b)")
    .option("-b, --bundle", "load paths as bundle files or root directories")
    .option("-o, --output <file>", "set the output filename", "bundle.tar.gz")
    .option("-r, --revision <revision>", "set output bundle revision")
    .option("-t, --target <target>", "set the output bundle target type: rego (wasm and plan are not supported)", "rego")
    .option("-e, --entrypoint <path>", "set slash separated entrypoint path (accepted with -t rego, which does not use it)", repeat, [])
    .option("-O, --optimize <level>", "set optimization level (only 0 is supported)", "0")
    .option("--ignore <patterns>", "set file and directory names to ignore during loading (e.g., '.*' excludes hidden files); repeatable, comma-separated", collect, [])
    .option("--capabilities <file>", "set capabilities.json file path")
    .option("--v0-compatible", "parse and write policies as Rego v0")
    .option("--v1-compatible", "parse and write policies as Rego v1 (the default)")
    .option("--signing-key <key>", "set the secret (HMAC) or path of the PEM file containing the private key (RSA and ECDSA)")
    .option("--signing-alg <alg>", "name of the signing algorithm", "RS256")
    .option("--claims-file <file>", "set path of JSON file containing optional claims")
    .option("--signing-plugin <name>", "name of the plugin to use for signing/verification (only the default is supported)")
    .option("--verification-key <key>", "set the secret (HMAC) or path of the PEM file containing the public key (RSA and ECDSA)")
    .option("--verification-key-id <id>", "name assigned to the verification key used for bundle verification", "default")
    .option("--scope <scope>", "scope to use for bundle signature verification")
    .option("--exclude-files-verify <names>", "set file names to exclude during bundle verification; repeatable, comma-separated", collect, [])
    .action((paths: string[], o) => {
      io.exitCode = runBuild(paths, o, io);
    });
}
