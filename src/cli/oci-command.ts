// Registers the registry commands (docs/oci.md): login, logout, push, pull, save, images, tag, rm.
// One register function per command, so that main.ts loads this file for any of them.
import type { Command } from "commander";
import type { CliIO } from "./io.ts";
import { fetchVerificationFlags, verifyHookFromFlags } from "./verification-flags.ts";

type Opts = Record<string, unknown>;

/** --plain-http, --insecure, --ca-file and conftest's -s/--tls. */
function registryFlags(cmd: Command): Command {
  return cmd
    .option("--plain-http", "use plain HTTP (the default for localhost and 127.0.0.0/8 registries)")
    .option("--insecure", "use HTTPS without verifying the registry's certificate")
    .option("--ca-file <file>", "PEM file of the CA certificates that sign the registry's certificate")
    .option("-s, --tls", "use TLS, also for loopback registries (--tls=false: plain HTTP)")
    .option("--no-tls", "use plain HTTP");
}

const given = (cmd: Command) => new Set(Object.keys(cmd.opts()).filter((k) => cmd.getOptionValueSource(k) === "cli"));

export function registerLogin(program: Command, io: CliIO): void {
  registryFlags(
    program
      .command("login")
      .description("Log in to a registry: credentials go to the docker config file (or its credential helper), as docker login and oras login")
      .argument("<registry>", "registry host[:port]")
      .option("-u, --username <user>", "user name")
      .option("-p, --password <password>", "password or token (prefer --password-stdin)")
      .option("--password-stdin", "read the password from standard input"),
  ).action(async (registry: string, o: Opts) => {
    const { runLogin } = await import("./oci.ts");
    io.exitCode = await runLogin(registry, o, io);
  });
}

export function registerLogout(program: Command, io: CliIO): void {
  program
    .command("logout")
    .description("Log out from a registry (removes its credentials from the docker config file or credential helper)")
    .argument("<registry>", "registry host[:port]")
    .action(async (registry: string, o: Opts) => {
      const { runLogout } = await import("./oci.ts");
      io.exitCode = await runLogout(registry, o, io);
    });
}

export function registerPush(program: Command, io: CliIO): void {
  registryFlags(
    program
      .command("push")
      .description("Push policies to an OCI registry: a bundle image of the local store (portcullis build -t), else .rego and data files one layer each (conftest push)")
      .argument("<reference>", "registry/repository[:tag] (tag default latest)")
      .argument("[paths...]", "policy and data files or directories (default: --policy)")
      .option("-p, --policy <dir>", "directory of the policies to push", "policy")
      .option("-d, --data <dir>", "directory of the data to push (default: the policy directory)")
      .option("--rego-version <version>", 'Rego syntax of the policies: v0 or v1 (default "v1")'),
  ).action(async (ref: string, paths: string[], o: Opts, cmd: Command) => {
    const { runPush } = await import("./oci.ts");
    io.exitCode = await runPush(ref, paths, { ...o, given: given(cmd) }, io);
  });
}

export function registerPull(program: Command, io: CliIO): void {
  const pull = registryFlags(
    program
      .command("pull")
      .description("Pull policies from an OCI registry: conftest's layers into --policy, an OPA bundle image into the local store")
      .argument("<reference>", "registry/repository[:tag|@digest] (tag default latest)")
      .option("-p, --policy <dir>", "directory to write conftest's policy files to", "policy")
      .option("--absolute-paths", "keep an absolute --policy path absolute (without it, as conftest, it is taken relative to the current directory)"),
  );
  fetchVerificationFlags(pull).action(async (ref: string, o: Opts, cmd: Command) => {
    const { runPull, clientOptions } = await import("./oci.ts");
    let verify;
    try {
      verify = await verifyHookFromFlags(o, clientOptions(o));
    } catch (e) {
      io.err(`Error: ${(e as Error).message}\n`);
      io.exitCode = 1;
      return;
    }
    io.exitCode = await runPull(ref, { ...o, given: given(cmd), verify }, io);
  });
}

export function registerSave(program: Command, io: CliIO): void {
  program
    .command("save")
    .description("Write the OPA bundle (.tar.gz) of a local-store image to a file or standard output (policy save)")
    .argument("<reference>", "reference or image ID in the local store")
    .option("-f, --file <file>", "output file, - for standard output", "bundle.tar.gz")
    .action(async (ref: string, o: { file: string }) => {
      const { runSave } = await import("./oci.ts");
      io.exitCode = await runSave(ref, o, io);
    });
}

export function registerImages(program: Command, io: CliIO): void {
  program
    .command("images")
    .description("List the policy images of the local store (policy images)")
    .option("--format <format>", "table or json", "table")
    .action(async (o: { format?: string }) => {
      const { runImages } = await import("./oci.ts");
      io.exitCode = await runImages(o, io);
    });
}

export function registerTag(program: Command, io: CliIO): void {
  program
    .command("tag")
    .description("Tag a local-store image with another reference (policy tag)")
    .argument("<source>", "reference or image ID in the local store")
    .argument("<target>", "new reference")
    .action(async (src: string, dst: string) => {
      const { runTag } = await import("./oci.ts");
      io.exitCode = await runTag(src, dst, io);
    });
}

export function registerRm(program: Command, io: CliIO): void {
  program
    .command("rm")
    .description("Remove references from the local store (policy rm); unreferenced blobs are deleted")
    .argument("<references...>", "references or image IDs")
    .action(async (refs: string[]) => {
      const { runRm } = await import("./oci.ts");
      io.exitCode = await runRm(refs, io);
    });
}
