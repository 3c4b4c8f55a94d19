// Where Portcullis's own files are at run time. The package root holds package.json and library/
// (the built-in policies); it is found by walking up from this module's file, so the same code
// works from src/ (tests, through tsx), from dist/ after `npm run build`, and from an installed
// copy under node_modules/portcullis/.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; ) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`portcullis: no package.json above ${start}`);
    dir = up;
  }
}

/** The package's root directory (where package.json is). */
export const PACKAGE_ROOT: string = findRoot();

/** `version` from package.json. */
export const PACKAGE_VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;

/** The OPA release whose behaviour the engine reproduces (`portcullis --version`). */
export const OPA_VERSION = "1.19.0";

/** <package root>/library: Portcullis's own policies, used when no policy folder is given. */
export const LIBRARY_DIR: string = join(PACKAGE_ROOT, "library");
