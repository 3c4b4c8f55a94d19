// Registers `portcullis sign-blob` and `portcullis verify-blob` (cosign's, with a key and without a
// transparency log): the signature is ECDSA (or RSA) over the file's bytes with SHA-256,
// written base64 as cosign writes it.
import type { Command } from "commander";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import type { CliIO } from "./io.ts";
import { readPassword } from "./password.ts";

/** Largest blob signed or verified (it is read into memory). */
const MAX_BLOB_BYTES = 512 * 1024 * 1024;

function readBlob(path: string): Buffer {
  const size = statSync(path).size;
  if (size > MAX_BLOB_BYTES) throw new Error(`${path}: larger than ${MAX_BLOB_BYTES} bytes`);
  return readFileSync(path);
}

export function register(program: Command, io: CliIO): void {
  program
    .command("sign-blob")
    .description("Sign a file with a cosign key; prints the base64 signature (cosign sign-blob --key, no transparency log)")
    .argument("<file>", "the file to sign")
    .requiredOption("--key <file>", "private key (cosign.key, or a PEM private key)")
    .option("--output-signature <file>", "write the base64 signature to this file instead of standard output")
    .action(async (file: string, o: { key: string; outputSignature?: string }) => {
      const keys = await import("../sign/keys.ts");
      try {
        const text = readFileSync(o.key, "utf8");
        const password = keys.isEncryptedKey(text) ? await readPassword(io, false) : undefined;
        const key = await keys.loadPrivateKey(text, password);
        const sig = keys.signBytes(key, readBlob(file)).toString("base64");
        if (o.outputSignature) {
          writeFileSync(o.outputSignature, sig);
          io.err(`Signature wrote in the file ${o.outputSignature}\n`);
        } else io.out(`${sig}\n`);
      } catch (e) {
        io.err(`Error: signing ${file}: ${(e as Error).message}\n`);
        io.exitCode = 1;
      }
    });
  program
    .command("verify-blob")
    .description("Verify a file's signature with a public key (cosign verify-blob --key, without the transparency log)")
    .argument("<file>", "the signed file")
    .requiredOption("--key <file>", "public key (cosign.pub) or certificate PEM")
    .requiredOption("--signature <file>", "the signature: base64 (as sign-blob writes it) or raw bytes")
    .action(async (file: string, o: { key: string; signature: string }) => {
      const keys = await import("../sign/keys.ts");
      try {
        const key = keys.loadPublicKey(readFileSync(o.key, "utf8"));
        const raw = readFileSync(o.signature);
        const text = raw.toString("utf8").trim();
        const sig = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, "base64") : raw;
        if (!keys.verifyBytes(key, readBlob(file), sig)) {
          io.err("Error: invalid signature when validating ASN.1 encoded signature\n");
          io.exitCode = 1;
          return;
        }
        io.err("Verified OK\n");
      } catch (e) {
        io.err(`Error: verifying ${file}: ${(e as Error).message}\n`);
        io.exitCode = 1;
      }
    });
}
