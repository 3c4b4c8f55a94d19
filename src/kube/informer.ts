// An informer: a local cache of one resource type kept in step with the API server. It lists
// (paginated), then watches from the list's resource version; when a watch ends it watches
// again from the last version seen; when the server says that version is gone (410) it lists
// again and reports the differences (objects added, changed, removed while it was away) as
// events; other failures are retried with exponential backoff. Every `resyncMs` it lists again
// even when nothing failed, so a missed event cannot last.

import { KubeClient, type ListOptions, type Obj, type ResourceRef, type WatchEvent } from "./client.ts";
import { isGone } from "./errors.ts";

export interface InformerOptions extends Omit<ListOptions, "limit"> {
  /** Page size of the lists. Default 500. */
  pageSize?: number;
  /** A full re-list at least this often, ms. Default 10 minutes. */
  resyncMs?: number;
  /** First and longest wait between failed attempts, ms. Default 500 and 30,000. */
  backoffMs?: [number, number];
  /** Longest watch before it is renewed, seconds (a random value in [half, this]). Default 600. */
  watchSeconds?: number;
}

export type InformerEvent = "add" | "update" | "delete";
type Handler = (obj: Obj, old?: Obj) => void;

export function objectKey(o: Obj): string {
  const ns = o.metadata?.namespace;
  return ns ? `${ns}/${o.metadata?.name}` : String(o.metadata?.name);
}

export class Informer {
  private readonly cache = new Map<string, Obj>();
  private readonly handlers: Record<InformerEvent, Handler[]> = { add: [], update: [], delete: [] };
  private readonly errorHandlers: ((e: unknown) => void)[] = [];
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private syncedResolve!: () => void;
  /** Resolves after the first complete list. */
  readonly synced: Promise<void>;
  private isSynced = false;
  /** Counters for tests and logs. */
  readonly stats = { lists: 0, watches: 0, errors: 0 };

  constructor(
    private readonly client: KubeClient,
    readonly ref: ResourceRef,
    private readonly opts: InformerOptions = {},
  ) {
    this.synced = new Promise((r) => (this.syncedResolve = r));
  }

  on(event: InformerEvent, h: Handler): this {
    this.handlers[event].push(h);
    return this;
  }

  onError(h: (e: unknown) => void): this {
    this.errorHandlers.push(h);
    return this;
  }

  get hasSynced(): boolean {
    return this.isSynced;
  }

  /** Starts the loop; resolves once the first list is in the cache. */
  start(): Promise<void> {
    this.running ??= this.loop();
    return this.synced;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  list(): Obj[] {
    return [...this.cache.values()];
  }

  get(name: string, namespace?: string): Obj | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  private emit(ev: InformerEvent, obj: Obj, old?: Obj): void {
    for (const h of this.handlers[ev]) {
      try {
        h(obj, old);
      } catch (e) {
        this.reportError(e);
      }
    }
  }

  private reportError(e: unknown): void {
    this.stats.errors++;
    for (const h of this.errorHandlers) h(e);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) return resolve();
      const signal = this.abort.signal;
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** A full list: replaces the cache and emits the differences. Returns the list's version. */
  private async relist(): Promise<string> {
    this.stats.lists++;
    const seen = new Map<string, Obj>();
    let rv = "";
    for await (const page of this.client.pages(this.ref, { ...this.opts, limit: this.opts.pageSize ?? 500 })) {
      for (const o of page.items) seen.set(objectKey(o), o);
      rv = page.resourceVersion;
      if (this.abort.signal.aborted) return rv;
    }
    for (const [k, old] of [...this.cache]) {
      if (!seen.has(k)) {
        this.cache.delete(k);
        this.emit("delete", old);
      }
    }
    for (const [k, o] of seen) {
      const old = this.cache.get(k);
      this.cache.set(k, o);
      if (!old) this.emit("add", o);
      else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.emit("update", o, old);
    }
    if (!this.isSynced) {
      this.isSynced = true;
      this.syncedResolve();
    }
    return rv;
  }

  private handle(ev: WatchEvent): string {
    const o = ev.object;
    const rv = String(o.metadata?.resourceVersion ?? "");
    if (ev.type === "BOOKMARK") return rv;
    const k = objectKey(o);
    const old = this.cache.get(k);
    if (ev.type === "DELETED") {
      if (old) {
        this.cache.delete(k);
        this.emit("delete", o);
      }
    } else {
      this.cache.set(k, o);
      if (old) this.emit("update", o, old);
      else this.emit("add", o);
    }
    return rv;
  }

  private async loop(): Promise<void> {
    const [first, longest] = this.opts.backoffMs ?? [500, 30_000];
    const resyncMs = this.opts.resyncMs ?? 10 * 60_000;
    const maxWatch = this.opts.watchSeconds ?? 600;
    let backoff = first;
    let rv = "";
    let lastList = 0;
    while (!this.abort.signal.aborted) {
      try {
        if (!rv || Date.now() - lastList >= resyncMs) {
          rv = await this.relist();
          lastList = Date.now();
        }
        if (this.abort.signal.aborted) break;
        const untilResync = Math.max(1, Math.ceil((lastList + resyncMs - Date.now()) / 1000));
        const timeoutSeconds = Math.min(untilResync, Math.ceil(maxWatch / 2 + (Math.random() * maxWatch) / 2));
        this.stats.watches++;
        await this.client.watch(this.ref, { ...this.opts, resourceVersion: rv, timeoutSeconds, signal: this.abort.signal }, (ev) => {
          rv = this.handle(ev) || rv;
        });
        backoff = first;
      } catch (e) {
        if (this.abort.signal.aborted) break;
        if (isGone(e)) {
          rv = ""; // too old: list again, at once
          continue;
        }
        this.reportError(e);
        await this.sleep(backoff);
        backoff = Math.min(longest, backoff * 2);
      }
    }
  }
}

