// A PolicySource reading Gatekeeper objects from YAML/JSON files under a directory
// (`portcullis controller --policy-dir DIR`), for clusters where the controller may not write
// CRDs and for local runs.
//
// Every .yaml/.yml/.json file under the directory (recursively) is read: ConstraintTemplates,
// constraints, Providers, the Config (named `config`) and Namespaces; every object that is not
// one of Gatekeeper's own is also put in data.inventory (as gator does with its inputs), and
// Namespaces feed namespaceSelector. The directory is watched (fs.watch, debounced): a change
// re-reads the files whose size or modification time changed and delivers the whole set again.
// A file that cannot be read or parsed is reported and its last good content is kept, so a
// half-written file never empties the policy set.

import { isMutatorObject } from "./mutation/mutators.ts";
import { watch, type FSWatcher } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { parseManifests, isPlainObject, metaOf, type Obj } from "./yaml.ts";
import { manifestFiles } from "./manifestfiles.ts";
import { isTemplate } from "./template.ts";
import { isConstraint } from "./constraint.ts";
import { isProvider } from "./externaldata.ts";
import { isExpansionTemplate } from "./expansion/template.ts";
import type { GatekeeperObjects, PolicySource } from "./state.ts";

/** Largest policy file read (a limit, so a stray dump cannot exhaust memory). */
export const MAX_POLICY_FILE_BYTES = 16 * 1024 * 1024;
/** Quiet time after the last file event before the directory is read again. */
export const DEFAULT_DEBOUNCE_MS = 200;

export interface PolicyDirOptions {
  debounceMs?: number;
  /** Problems with files (unreadable, invalid YAML, too large): the file's last good content stays. */
  onError?: (file: string, message: string) => void;
}

interface FileState {
  key: string; // size:mtime
  objects: Obj[];
}

const GK_GROUPS = /^(templates|constraints|config|externaldata|syncset|status|mutations|expansion)\.gatekeeper\.sh\//;

/** Sort objects read from files into the seam's shape. */
export function classify(objs: Obj[]): GatekeeperObjects {
  const out: GatekeeperObjects = { templates: [], constraints: [], providers: [], mutators: [], config: null, namespaces: new Map() };
  const inventory: Obj = { cluster: {}, namespace: {} };
  for (const o of objs) {
    if (!isPlainObject(o)) continue;
    if (isTemplate(o) || o.kind === "ConstraintTemplate") out.templates.push(o);
    else if (isConstraint(o)) out.constraints.push(o);
    else if (isProvider(o)) out.providers.push(o);
    else if (isMutatorObject(o)) out.mutators!.push(o);
    else if (isExpansionTemplate(o)) (out.expansionTemplates ??= []).push(o);
    else if (typeof o.apiVersion === "string" && o.apiVersion.startsWith("config.gatekeeper.sh/") && o.kind === "Config") {
      // Gatekeeper reads only the Config named "config"; a second one named so replaces the first.
      if (!out.config || metaOf(o).name === "config") out.config = o;
    } else if (typeof o.apiVersion === "string" && GK_GROUPS.test(o.apiVersion)) continue;
    else {
      const meta = metaOf(o);
      const name = typeof meta.name === "string" ? meta.name : "";
      const ns = typeof meta.namespace === "string" ? meta.namespace : "";
      if (o.apiVersion === "v1" && o.kind === "Namespace" && name) out.namespaces.set(name, o);
      const gv = String(o.apiVersion ?? "");
      const kind = String(o.kind ?? "");
      const root = ns === "" ? inventory.cluster : (inventory.namespace[ns] ??= {});
      ((root[gv] ??= {})[kind] ??= {})[name] = o;
    }
  }
  out.inventory = inventory;
  return out;
}

export class PolicyDirSource implements PolicySource {
  private files = new Map<string, FileState>();
  private watcher: FSWatcher | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private reading: Promise<void> = Promise.resolve();
  private onChange: ((objs: GatekeeperObjects) => void) | null = null;

  constructor(
    readonly dir: string,
    private readonly opts: PolicyDirOptions = {},
  ) {}

  async start(onChange: (objs: GatekeeperObjects) => void): Promise<void> {
    const st = await stat(this.dir).catch((e: Error) => {
      throw new Error(`--policy-dir ${this.dir}: ${e.message}`);
    });
    if (!st.isDirectory()) throw new Error(`--policy-dir ${this.dir}: not a directory`);
    this.onChange = onChange;
    await this.read();
    this.watcher = watch(this.dir, { recursive: true }, () => this.schedule());
    this.watcher.on("error", (e) => this.opts.onError?.(this.dir, `watch failed: ${e.message}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
    await this.reading;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reading = this.reading.then(() => this.read());
    }, this.opts.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  }

  /** Read what changed and deliver the whole set. */
  private async read(): Promise<void> {
    if (this.stopped) return;
    let names: string[];
    try {
      names = manifestFiles(this.dir);
    } catch (e) {
      this.opts.onError?.(this.dir, (e as Error).message);
      return;
    }
    const next = new Map<string, FileState>();
    for (const f of names) {
      const prev = this.files.get(f);
      try {
        const st = await stat(f);
        const key = `${st.size}:${st.mtimeMs}`;
        if (prev && prev.key === key) {
          next.set(f, prev);
          continue;
        }
        if (st.size > MAX_POLICY_FILE_BYTES) throw new Error(`file is ${st.size} bytes, larger than the ${MAX_POLICY_FILE_BYTES}-byte limit`);
        const objects = parseManifests(await readFile(f, "utf8"), f);
        next.set(f, { key, objects });
      } catch (e) {
        // The file vanished between listing and reading: it is gone, not bad.
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        this.opts.onError?.(f, (e as Error).message);
        if (prev) next.set(f, prev);
      }
    }
    this.files = next;
    if (this.stopped) return;
    this.onChange?.(classify([...next.values()].flatMap((s) => s.objects)));
  }
}
