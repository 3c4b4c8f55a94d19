// The `portcullis` command from the sources, for tests that need a real process (stdin, ttys,
// broken pipes): `node --import tsx test/cli/portcullis-src.ts …` is bin/portcullis.js without a
// build. SOURCE_CLI gives the arguments for spawn.
import { fileURLToPath } from "node:url";
import { runProcess } from "../../src/cli/main.ts";

/** process.execPath's arguments that run the CLI from the sources (before the CLI's own arguments). */
export const SOURCE_CLI: string[] = ["--import", import.meta.resolve("tsx"), fileURLToPath(import.meta.url)];

if (process.argv[1] === fileURLToPath(import.meta.url)) await runProcess(process.argv.slice(2));
