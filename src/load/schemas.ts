// JSON Schemas for the type check, loaded as OPA's loader loads `-s`/`--schema`: a file is the
// input's schema; a directory holds schemas that `# METADATA schemas:` annotations name by path
// (`dir/k8s/pod.json` is `schema.k8s.pod`; a directory gives no input schema of its own). Files
// are JSON or YAML. Limits: at most MAX_SCHEMA_FILES files of at most MAX_SCHEMA_BYTES each.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep, extname } from "node:path";
import { LoadError, parseDataFile } from "./index.ts";

export const MAX_SCHEMA_FILES = 10_000;
export const MAX_SCHEMA_BYTES = 64 * 1024 * 1024;

function readSchema(file: string): unknown {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new LoadError(`stat ${file}: no such file or directory`, (e as NodeJS.ErrnoException).code === "ENOENT");
  }
  if (size > MAX_SCHEMA_BYTES) throw new LoadError(`${file}: schema larger than ${MAX_SCHEMA_BYTES} bytes`);
  const text = readFileSync(file, "utf8");
  // JSON, or YAML for any other name (as OPA's loader reads either).
  return parseDataFile(extname(file).toLowerCase() === ".json" ? file : file.replace(/(\.[^./\\]*)?$/, ".yaml"), text);
}

/**
 * The schema set of a `-s` path: `{ input: schema }` for a file; `{ "schema.a.b": schema, … }`
 * for a directory. Throws LoadError (`bare`: print without a prefix) when it cannot be read.
 */
export function loadSchemas(path: string): Record<string, unknown> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new LoadError(`1 error occurred during loading: stat ${path}: no such file or directory`, true);
  }
  try {
    if (!isDir) return { input: readSchema(path) };
    const out: Record<string, unknown> = {};
    let count = 0;
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else {
          if (++count > MAX_SCHEMA_FILES) throw new LoadError(`${path}: more than ${MAX_SCHEMA_FILES} schema files`);
          const rel = relative(path, p).split(sep);
          rel[rel.length - 1] = rel[rel.length - 1].slice(0, rel[rel.length - 1].length - extname(p).length);
          out[["schema", ...rel].join(".")] = readSchema(p);
        }
      }
    };
    walk(path);
    return out;
  } catch (e) {
    if (e instanceof LoadError) throw new LoadError(`1 error occurred during loading: ${e.message}`, true);
    throw e;
  }
}
