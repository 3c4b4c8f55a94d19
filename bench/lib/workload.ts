// A benchmark workload: everything an engine needs to evaluate one query, in the form the peer
// runners read (see bench/peers/opa/main.go for the line protocol).

export interface Workload {
  /** Unique within a run (the runners cache prepared queries by it). */
  id: string;
  /** gatekeeper | rbac | comprehensions | aci | regorus */
  family: string;
  /** Row label. */
  name: string;
  modules: { file: string; source: string }[];
  regoVersion: "v0" | "v1";
  data?: Record<string, unknown>;
  input: unknown;
  /** The JSON text whose JSON.parse is the floor printed next to Portcullis (default: the input). */
  parseText?: string;
  query: string;
  /** Evaluate with Gatekeeper's builtin table (OPA's less http.send), as the gatekeeper face does. */
  gatekeeper?: boolean;
  /** Input size for the scaling table. */
  size?: number;
}

/** Canonical JSON: object keys sorted, so two engines' answers compare as text. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  if (typeof v === "number" && Object.is(v, -0)) return "0";
  return JSON.stringify(v);
}

/** Canonical JSON with every array sorted too: sets come back as arrays, ordered by each engine's own rules. */
export function canonicalUnordered(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalUnordered).sort().join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalUnordered(o[k])}`)
      .join(",")}}`;
  }
  return canonical(v);
}

/**
 * Do two result lists agree? The result list is a set of rows (its order is not part of the
 * answer), each row a bindings object or the list of expression values. Exact comparison first;
 * when it fails, arrays are compared as multisets, because an engine's set is a JSON array in
 * that engine's own order ("order" is then reported, never hidden).
 */
export function agree(a: unknown, b: unknown): "same" | "order" | "different" {
  const rows = (x: unknown) => (Array.isArray(x) ? x.map(canonical).sort().join("\n") : canonical(x));
  if (rows(a) === rows(b)) return "same";
  if (canonicalUnordered(a) === canonicalUnordered(b)) return "order";
  return "different";
}
