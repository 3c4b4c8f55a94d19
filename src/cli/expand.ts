// `portcullis expand`, as gator expand: read the inputs (files and directories), expand every
// object with the ExpansionTemplates among them, print the resultants sorted as gator sorts
// them (YAML or JSON, `---` between resources), to stdout or to --outputfile. Errors go to
// stderr in gator's words, with exit code 1.
import * as fs from "node:fs";
import type { CliIO } from "./io.ts";
import { load, conflictWarnings } from "../gatekeeper/gatortest.ts";
import { expandAll, formatResources, type MutationSystemFactory } from "../gatekeeper/expansion/index.ts";
import { goErrnoText } from "../gotext/errno.ts";
import { gatorMutation } from "../gatekeeper/mutation/expansion.ts";

export interface ExpandOptions {
  filenames: string[];
  /** "", "yaml" or "json". */
  format: string;
  outputFile?: string;
  /** Gatekeeper's mutators, applied to generators and resultants (wired by the host). */
  mutation?: MutationSystemFactory;
}

export async function runExpand(o: ExpandOptions, io: CliIO): Promise<number> {
  const fail = (msg: string) => {
    io.err(msg + "\n");
    return 1;
  };
  let sources;
  try {
    sources = load(o.filenames);
  } catch (e) {
    return fail(`reading: ${(e as Error).message}`);
  }
  io.err(conflictWarnings(sources));
  const objs = sources.flatMap((s) => s.objs);
  if (objs.length === 0) return fail("no input data identified");
  let resultants;
  try {
    resultants = await expandAll(objs, { mutation: o.mutation ?? gatorMutation });
  } catch (e) {
    return fail(`error expanding resources: ${(e as Error).message}`);
  }
  if (o.format !== "" && o.format !== "yaml" && o.format !== "json") return fail(`unrecognized value for format flag: ${o.format}`);
  const text = formatResources(resultants, o.format === "json" ? "json" : "yaml");
  if (o.outputFile === undefined || o.outputFile === "") {
    io.out(text + "\n");
    return 0;
  }
  io.out(`Writing output to file: ${o.outputFile}\n`);
  try {
    fs.writeFileSync(o.outputFile, text);
  } catch (e) {
    return fail(`error creating file at path ${o.outputFile}: open ${o.outputFile}: ${goErrnoText(e)}`);
  }
  return 0;
}
