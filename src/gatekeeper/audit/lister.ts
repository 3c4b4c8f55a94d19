// Where an audit's objects come from: a Lister names the kinds it can list and lists one kind a
// page at a time (Kubernetes' `limit`/`continue`), so an audit never holds more than a page.
//
// `ManifestLister` lists objects read from manifest files (`portcullis audit -f`), in the order
// the API server lists them (etcd key order: namespace, then name), so a file audit and a
// cluster audit of the same objects report the same thing.

import { isPlainObject, gvkOf, metaOf, type Obj } from "../yaml.ts";

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

export interface ListOptions {
  /** Page size; 0 lists everything in one page. */
  limit: number;
  /** The `continue` token of the previous page. */
  continue?: string;
}

export interface ListPage {
  items: Obj[];
  /** Token for the next page; empty or absent on the last page. */
  continue?: string;
}

export interface Lister {
  /** The kinds that can be listed (one preferred version per group and kind). */
  kinds(): Promise<GVK[]>;
  /** One page of the objects of a kind. */
  list(gvk: GVK, opts: ListOptions): Promise<ListPage>;
  /** A Namespace by name (for namespaceSelector and `input.review.namespaceObject`); null when there is none. */
  namespace(name: string): Promise<Obj | null>;
}

export const gvkKey = (g: GVK): string => `${g.group}/${g.version}/${g.kind}`;

/** `group/version` as an apiVersion (`v1` for the core group). */
export const apiVersionOf = (g: { group: string; version: string }): string => (g.group ? `${g.group}/${g.version}` : g.version);

/** Sort order of the API server's lists: namespace, then name (byte order). */
export function compareListOrder(a: Obj, b: Obj): number {
  const ma = metaOf(a);
  const mb = metaOf(b);
  return goCompare(String(ma.namespace ?? ""), String(mb.namespace ?? "")) || goCompare(String(ma.name ?? ""), String(mb.name ?? ""));
}

/**
 * Go's string order (UTF-8 bytes, i.e. code points) on JavaScript strings: UTF-16 code units
 * order differently only when a surrogate (U+D800–U+DFFF, an astral character) meets a code
 * unit in U+E000–U+FFFF, so those two ranges are swapped before comparing.
 */
export function goCompare(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** Objects held in memory (read from manifests), listed as the API server would list them. */
export class ManifestLister implements Lister {
  private byKind = new Map<string, { gvk: GVK; items: Obj[] }>();
  private namespaces = new Map<string, Obj>();

  constructor(objects: Iterable<Obj>) {
    for (const o of objects) {
      if (!isPlainObject(o)) continue;
      const gvk = gvkOf(o);
      if (!gvk.kind || !gvk.version) continue;
      const key = gvkKey(gvk);
      let e = this.byKind.get(key);
      if (!e) this.byKind.set(key, (e = { gvk, items: [] }));
      e.items.push(o);
      if (gvk.group === "" && gvk.kind === "Namespace") {
        const name = metaOf(o).name;
        if (typeof name === "string") this.namespaces.set(name, o);
      }
    }
    for (const e of this.byKind.values()) e.items.sort(compareListOrder);
  }

  async kinds(): Promise<GVK[]> {
    return Array.from(this.byKind.values(), (e) => e.gvk);
  }

  async list(gvk: GVK, opts: ListOptions): Promise<ListPage> {
    const items = this.byKind.get(gvkKey(gvk))?.items ?? [];
    const start = opts.continue ? Number(opts.continue) : 0;
    if (!Number.isInteger(start) || start < 0 || start > items.length) throw new Error(`invalid continue token ${JSON.stringify(opts.continue)}`);
    const end = opts.limit > 0 ? Math.min(items.length, start + opts.limit) : items.length;
    return { items: items.slice(start, end), continue: end < items.length ? String(end) : "" };
  }

  async namespace(name: string): Promise<Obj | null> {
    return this.namespaces.get(name) ?? null;
  }
}
