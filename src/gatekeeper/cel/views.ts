// The CEL values of JSON documents: views that convert a member when an expression first reads
// it (engine.ts binds them; fast.ts reads them directly, without @bufbuild/cel's type tests).

/**
 * A JSON value (from YAML or JSON, as Kubernetes' unstructured objects hold it) as a CEL input:
 * integers as int (bigint), other numbers as double, objects as maps, arrays as lists. Nothing is
 * copied: objects and arrays become views (JsonMapView, JsonListView) whose members are
 * converted when an expression first reads them and kept for later reads, so an expression
 * that reads three fields of a Pod converts three fields, not the Pod. The views read the
 * document as it is while they are used: it must not change during the evaluation (a review's
 * objects do not).
 */
export function toCelInput(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "number":
      return Number.isInteger(v) ? BigInt(v) : v;
    case "bigint":
    case "string":
    case "boolean":
      return v;
    case "object":
      if (Array.isArray(v)) return new JsonListView(v);
      if (v instanceof Map) return v;
      return new JsonMapView(v as Record<string, unknown>);
    default:
      return null;
  }
}

// The markers @bufbuild/cel recognises its lists and maps by (isCelList, isCelMap): a value
// carrying one is used as it is, through the methods below (size, get, iteration), which is
// all the library asks of its own list and map classes.
export const CEL_LIST = Symbol.for("@bufbuild/cel/list");
export const CEL_MAP = Symbol.for("@bufbuild/cel/map");
/** The markers' value (the library tests the key only): one object for all, not one per value. */
export const MARK: object = Object.freeze({});
/** A member converted to null (JSON null, or a key whose value is undefined): cached as this. */
const NULL_MEMBER = Symbol("null");

/** A JSON array as a CEL list: elements converted on first read. */
export class JsonListView {
  readonly [CEL_LIST]: object = MARK;
  private conv: unknown[] | null = null;
  constructor(private readonly a: readonly unknown[]) {}
  get size(): number {
    return this.a.length;
  }
  get(i: number): unknown {
    if (i < 0 || i >= this.a.length) return undefined;
    const conv = (this.conv ??= new Array(this.a.length));
    let c = conv[i];
    if (c === undefined) conv[i] = c = toCelInput(this.a[i]);
    return c;
  }
  *values(): IterableIterator<unknown> {
    for (let i = 0; i < this.a.length; i++) yield this.get(i);
  }
  [Symbol.iterator](): IterableIterator<unknown> {
    return this.values();
  }
}

/**
 * A JSON object as a CEL map with string keys: members converted on first read. `has` answers
 * as cel-go does: a member whose value is null is "in" the map (@bufbuild/cel's own maps, used for
 * map literals, say it is not: `in` goes through mapHas for them); the presence test `has(x.f)`
 * is portcullis.has, which reads the keys.
 */
export class JsonMapView {
  readonly [CEL_MAP]: object = MARK;
  private conv: Map<string, unknown> | null = null;
  private keyList: string[] | null = null;
  constructor(private readonly o: Record<string, unknown>) {}
  private names(): string[] {
    return (this.keyList ??= Object.keys(this.o));
  }
  get size(): number {
    return this.names().length;
  }
  get(k: unknown): unknown {
    if (typeof k !== "string") return undefined;
    // a member read before (the cache holds own keys only), else an own key converted now
    const conv = this.conv;
    if (conv !== null) {
      const c = conv.get(k);
      if (c !== undefined) return c === NULL_MEMBER ? null : c;
    }
    if (!Object.hasOwn(this.o, k)) return undefined;
    const c = toCelInput(this.o[k]);
    (this.conv ??= new Map()).set(k, c === null ? NULL_MEMBER : c);
    return c;
  }
  /** Is k one of the object's own keys (whatever its value)? */
  hasKey(k: string): boolean {
    return Object.hasOwn(this.o, k);
  }
  has(k: unknown): boolean {
    // cel-go: a member whose value is null is in the map (`'a' in {"a": null}` is true)
    return typeof k === "string" && Object.hasOwn(this.o, k);
  }
  keys(): IterableIterator<string> {
    return this.names()[Symbol.iterator]();
  }
  *values(): IterableIterator<unknown> {
    for (const k of this.names()) yield this.get(k);
  }
  *entries(): IterableIterator<[string, unknown]> {
    for (const k of this.names()) yield [k, this.get(k)];
  }
  forEach(cb: (v: unknown, k: string, m: unknown) => void, thisArg?: unknown): void {
    for (const k of this.names()) cb.call(thisArg, this.get(k), k, this);
  }
  [Symbol.iterator](): IterableIterator<[string, unknown]> {
    return this.entries();
  }
}

/** A list of CEL values held in an array (fast.ts's list literals and concatenations). */
export class FastList {
  readonly [CEL_LIST]: object = MARK;
  constructor(readonly a: readonly unknown[]) {}
  get size(): number {
    return this.a.length;
  }
  get(i: number): unknown {
    return i < 0 || i >= this.a.length ? undefined : this.a[i];
  }
  values(): IterableIterator<unknown> {
    return this.a.values();
  }
  [Symbol.iterator](): IterableIterator<unknown> {
    return this.a.values();
  }
}
