// Portcullis's own policies (<package root>/library): what `portcullis test` checks against
// when no policy path is given and there is no ./policy folder.

import { existsSync } from "node:fs";
import { LIBRARY_DIR } from "../package.ts";

/** <package root>/library, found from src/, dist/ (bundled chunks) or an installed copy. */
export { LIBRARY_DIR };

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
