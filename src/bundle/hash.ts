// The file digests of an OPA bundle signature (OPA's bundle/hash.go, documented in "Bundle
// Signature Format"): `data.json`, `data.yaml`, `.manifest` and `.signatures.json` (OPA's
// IsStructuredDoc: by base name) are hashed over a canonical walk of the parsed document:
// objects as `{` key `:` value … `}` with keys sorted and `,` between items, arrays as `[`…`]`,
// strings and numbers as Go's JSON encoder writes them without HTML escaping, numbers with their
// literal text (json.Number). Every other file is hashed over its raw bytes.

import { createHash } from "node:crypto";
import { parseYAML } from "../builtins/goyaml.ts";
import { parseRaw, rawFromJS, writeRaw, type Raw } from "./rawjson.ts";

/** OPA's hashing algorithm names and Node's digest names. */
export const HASH_ALGORITHMS: Record<string, string> = {
  MD5: "md5",
  "SHA-1": "sha1",
  "SHA-224": "sha224",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
  "SHA-512-224": "sha512-224",
  "SHA-512-256": "sha512-256",
};

export const DEFAULT_HASH_ALGORITHM = "SHA-256";

export class HashError extends Error {}

/** OPA's IsStructuredDoc: which files are hashed as documents rather than bytes. */
export function isStructuredDoc(path: string): boolean {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base === "data.json" || base === "data.yaml" || base === "signatures.json" || base === ".manifest";
}

/** The canonical text hashed for a parsed document (the walk of hash.go, as one string). */
export function canonicalText(doc: Raw): string {
  return writeRaw(doc, false);
}

/** The hex digest of a bundle file as OPA's signer and verifier compute it. */
export function hashFile(path: string, bytes: Buffer, algorithm: string = DEFAULT_HASH_ALGORITHM): string {
  const node = HASH_ALGORITHMS[algorithm];
  if (node === undefined) throw new HashError(`unsupported hashing algorithm: ${algorithm}`);
  const h = createHash(node);
  if (isStructuredDoc(path)) h.update(canonicalText(parseStructured(path, bytes)), "utf8");
  else h.update(bytes);
  return h.digest("hex");
}

/** The hex digest of an already parsed document. */
export function hashDocument(doc: Raw, algorithm: string = DEFAULT_HASH_ALGORITHM): string {
  const node = HASH_ALGORITHMS[algorithm];
  if (node === undefined) throw new HashError(`unsupported hashing algorithm: ${algorithm}`);
  return createHash(node).update(canonicalText(doc), "utf8").digest("hex");
}

/** OPA's util.Unmarshal: JSON, or YAML converted to JSON. */
function parseStructured(path: string, bytes: Buffer): Raw {
  const text = bytes.toString("utf8");
  const t = text.trimStart();
  if (t.startsWith("{") || t.startsWith("[") || !path.endsWith(".yaml")) {
    try {
      return parseRaw(text);
    } catch (e) {
      if (!path.endsWith(".yaml")) throw new HashError((e as Error).message);
    }
  }
  try {
    return rawFromJS(parseYAML(text));
  } catch (e) {
    throw new HashError((e as Error).message);
  }
}
