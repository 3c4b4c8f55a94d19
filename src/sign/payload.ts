// Cosign's "simple signing" payload: what a container-image signature signs.
//
//   {"critical": {"identity": {"docker-reference": "<registry>/<repository>"},
//                 "image": {"docker-manifest-digest": "sha256:<hex>"},
//                 "type": "cosign container image signature"},
//    "optional": {<-a key=value annotations>} | null}
//
// The bytes signed are the payload as stored (the layer blob): verification parses those bytes
// and never re-serializes them. Keys are matched without regard to case, as Go's encoding/json
// matches struct fields (cosign's own spec spells one `Docker-manifest-digest`).

export const SIMPLE_SIGNING_TYPE = "cosign container image signature";
/** Largest payload read (cosign's payloads are a few hundred bytes). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface SimpleSigning {
  dockerReference: string;
  digest: string;
  type: string;
  /** the `optional` object (annotations), null when absent */
  optional: Record<string, unknown> | null;
}

/** The payload bytes cosign writes for `ref@digest` (Go's json.Marshal: sorted annotation keys, no HTML escaping of `<>&` done here since Go escapes them). */
export function simpleSigningPayload(dockerReference: string, digest: string, annotations?: Record<string, string>): Buffer {
  const optional = annotations && Object.keys(annotations).length > 0 ? Object.fromEntries(Object.keys(annotations).sort().map((k) => [k, annotations[k]])) : null;
  const doc = {
    critical: {
      identity: { "docker-reference": dockerReference },
      image: { "docker-manifest-digest": digest },
      type: SIMPLE_SIGNING_TYPE,
    },
    optional,
  };
  return Buffer.from(goJSON(doc));
}

/** JSON.stringify with Go's escaping of <, > and & (json.Marshal's HTML-safe output). */
function goJSON(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function field(o: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(o, name)) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses a simple-signing payload; throws with a reason when it is not one. */
export function parseSimpleSigning(bytes: Uint8Array): SimpleSigning {
  if (bytes.length > MAX_PAYLOAD_BYTES) throw new Error(`payload larger than ${MAX_PAYLOAD_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new Error("payload is not JSON");
  }
  if (!isObject(doc)) throw new Error("payload is not a JSON object");
  const critical = field(doc, "critical");
  if (!isObject(critical)) throw new Error("payload has no critical section");
  const identity = field(critical, "identity");
  const image = field(critical, "image");
  const type = field(critical, "type");
  const digest = isObject(image) ? field(image, "docker-manifest-digest") : undefined;
  const ref = isObject(identity) ? field(identity, "docker-reference") : undefined;
  if (typeof digest !== "string") throw new Error("payload has no critical.image.docker-manifest-digest");
  const optional = field(doc, "optional");
  return {
    dockerReference: typeof ref === "string" ? ref : "",
    digest,
    type: typeof type === "string" ? type : "",
    optional: isObject(optional) ? optional : null,
  };
}

/**
 * Whether a parsed payload is a valid claim about `digest` carrying every wanted annotation
 * (cosign's checks: the type, the digest, then `-a` annotations compared as strings); the
 * reason when it is not.
 */
export function checkClaims(p: SimpleSigning, digest: string, annotations: Record<string, string> = {}): string | undefined {
  if (p.type !== SIMPLE_SIGNING_TYPE) return `payload type ${JSON.stringify(p.type)} is not ${JSON.stringify(SIMPLE_SIGNING_TYPE)}`;
  if (p.digest !== digest) return `payload digest ${p.digest} does not match ${digest}`;
  for (const [k, v] of Object.entries(annotations)) {
    const got = p.optional?.[k];
    if (got === undefined) return `missing or incorrect annotation: ${k}=${v}`;
    if ((typeof got === "string" ? got : JSON.stringify(got)) !== v) return `missing or incorrect annotation: ${k}=${v}`;
  }
  return undefined;
}
