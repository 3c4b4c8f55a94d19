// Registers `portcullis mutate`: every Gatekeeper mutator (Assign, AssignMetadata, ModifySet,
// AssignImage) in the files applied to every other object in the files, the objects printed as
// `gator expand` prints (go-yaml v2 documents joined by `---`, or JSON). Exit code: 0; 1 when a
// mutator is invalid or in schema conflict or an object could not be mutated (each reported on
// stderr in Gatekeeper's words; such an object is not printed); 2 for bad flags.
// docs/gatekeeper-mutation.md.
import type { Command } from "commander";
import type { CliIO } from "./io.ts";

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(",").filter((s) => s !== "")];

export function register(program: Command, io: CliIO): void {
  program
    .command("mutate")
    .description("Apply the Gatekeeper mutators (Assign, AssignMetadata, ModifySet, AssignImage) in the files to the other objects in the files and print them")
    .option("-f, --filename <paths>", "a file or directory of Kubernetes objects and mutators (repeatable; - for stdin)", collect)
    .option("-o, --output <format>", "output format: yaml (gator's) or json", "yaml")
    .option("--operation <op>", "the admission operation to mutate for: CREATE or UPDATE (default: none, as gator: only mutators for every operation apply)")
    .option("--timeout <ms>", "deadline of one object's mutation, ms", "10000")
    .action(async (o: Record<string, unknown>) => {
      const files = (o.filename as string[] | undefined) ?? [];
      const fail = (msg: string) => {
        io.err(`Error: ${msg}\n`);
        io.exitCode = 2;
      };
      if (files.length === 0) return fail("no input: give -f FILE (a file or directory of objects and mutators)");
      if (o.output !== "yaml" && o.output !== "json") return fail(`unrecognized value for --output: ${String(o.output)} (yaml or json)`);
      const op = o.operation === undefined ? "" : String(o.operation);
      if (op !== "" && op !== "CREATE" && op !== "UPDATE") return fail(`--operation must be CREATE or UPDATE, got ${JSON.stringify(op)}`);
      const timeout = Number(o.timeout);
      if (!Number.isInteger(timeout) || timeout <= 0) return fail(`--timeout must be a positive number of milliseconds, got ${JSON.stringify(String(o.timeout))}`);
      const { parseManifests } = await import("../gatekeeper/yaml.ts");
      const { readManifests } = await import("../gatekeeper/manifestfiles.ts");
      const { readFileSync } = await import("node:fs");
      const readStdin = io.readStdin ?? (() => readFileSync(0, "utf8"));
      const { mutateOffline, printObjects } = await import("../gatekeeper/mutation/index.ts");
      const objects = [];
      try {
        for (const f of files) {
          if (f === "-") objects.push(...parseManifests(readStdin(), "stdin"));
          else objects.push(...readManifests(f));
        }
      } catch (e) {
        io.err(`Error: reading: ${(e as Error).message}\n`);
        io.exitCode = 1;
        return;
      }
      if (objects.length === 0) {
        io.err("Error: no input data identified\n");
        io.exitCode = 1;
        return;
      }
      const r = await mutateOffline(objects, { operation: op, timeoutMs: timeout });
      for (const e of r.errors) io.err(`${e}\n`);
      if (r.objects.length > 0) {
        io.out(o.output === "json" ? r.objects.map((x) => JSON.stringify(x, null, 4)).join("\n---\n") + "\n" : printObjects(r.objects));
      }
      io.exitCode = r.errors.length > 0 ? 1 : 0;
    });
}
