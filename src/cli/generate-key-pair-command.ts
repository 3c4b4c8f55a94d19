// Registers `portcullis generate-key-pair` (cosign generate-key-pair): an ECDSA P-256 key pair,
// `<prefix>.key` encrypted in cosign's format and `<prefix>.pub` as a PEM public key.
import type { Command } from "commander";
import { existsSync, writeFileSync } from "node:fs";
import type { CliIO } from "./io.ts";
import { readPassword } from "./password.ts";

export function register(program: Command, io: CliIO): void {
  program
    .command("generate-key-pair")
    .description("Generate a cosign-compatible key pair (<prefix>.key encrypted with COSIGN_PASSWORD or a prompted password, <prefix>.pub)")
    .option("--output-key-prefix <prefix>", "name of the key files: <prefix>.key and <prefix>.pub", "cosign")
    .action(async (o: { outputKeyPrefix: string }) => {
      const prefix = o.outputKeyPrefix;
      if (!prefix) {
        io.err("Error: --output-key-prefix must not be empty\n");
        io.exitCode = 1;
        return;
      }
      const keyFile = `${prefix}.key`;
      const pubFile = `${prefix}.pub`;
      for (const f of [keyFile, pubFile]) {
        if (existsSync(f)) {
          io.err(`Error: file ${f} already exists; remove it or choose another --output-key-prefix\n`);
          io.exitCode = 1;
          return;
        }
      }
      const { generateKeyPair } = await import("../sign/keys.ts");
      try {
        const password = await readPassword(io, true);
        const files = await generateKeyPair(password);
        writeFileSync(keyFile, files.privatePem, { mode: 0o600, flag: "wx" });
        io.err(`Private key written to ${keyFile}\n`);
        writeFileSync(pubFile, files.publicPem, { mode: 0o644, flag: "wx" });
        io.err(`Public key written to ${pubFile}\n`);
      } catch (e) {
        io.err(`Error: ${(e as Error).message}\n`);
        io.exitCode = 1;
      }
    });
}
