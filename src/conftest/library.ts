// Portcullis's own policies (<package root>/library): what `portcullis test` checks against
// when no policy path is given and there is no ./policy folder.

import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * <package root>/library. This file sits two folders below the package root both as source
 * (src/conftest/, run through tsx) and compiled (dist/conftest/): keep it at that depth.
 */
export const LIBRARY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../library");

/**
 * The policy paths of a run: those given; else the library (`libraryDir`, else
 * $PORTCULLIS_LIBRARY_DIR, else LIBRARY_DIR) when there is no ./policy and the library exists,
 * with `library` true; else ./policy.
 */
export function resolvePolicyPaths(policy: string[] | undefined, libraryDir?: string): { policy: string[]; library: boolean } {
  if (policy && policy.length > 0) return { policy, library: false };
  const dir = libraryDir ?? process.env.PORTCULLIS_LIBRARY_DIR ?? LIBRARY_DIR;
  if (!existsSync("policy") && existsSync(dir)) return { policy: [dir], library: true };
  return { policy: ["policy"], library: false };
}
