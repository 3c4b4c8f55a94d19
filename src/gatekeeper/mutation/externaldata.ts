// `parameters.assign.externalData`: values from an external data provider, as Gatekeeper fetches
// them for mutation. A mutator with externalData writes a placeholder (remembering the value it
// replaced, or the requesting user for `dataSource: Username`); once the mutators converged, the
// placeholders' keys are sent to their providers, one request per provider, and each placeholder
// becomes the provider's string for its key. A provider that fails, answers with a system error,
// a non-idempotent response, an item error or a non-string value is handled by the mutator's
// failurePolicy: Fail (the mutation fails), Ignore (the original value stays), UseDefault.

import { isPlainObject } from "../yaml.ts";
import type { Provider } from "../externaldata.ts";
import { post } from "../providerhttp.ts";

export type DataSource = "ValueAtLocation" | "Username";
export type FailurePolicy = "UseDefault" | "Ignore" | "Fail";

export interface ExternalDataRef {
  provider: string;
  dataSource: DataSource;
  failurePolicy: FailurePolicy;
  default: string;
}

/** What a mutator with externalData writes until the providers answered. */
export class ExternalDataPlaceholder {
  constructor(
    readonly ref: ExternalDataRef,
    public valueAtLocation: string,
  ) {}
}

/** Deep copy of a decoded JSON value that may hold placeholders. */
export function cloneValue<T>(v: T): T {
  if (v instanceof ExternalDataPlaceholder) return new ExternalDataPlaceholder(v.ref, v.valueAtLocation) as T;
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneValue(x);
    return out as T;
  }
  return v;
}

/** One provider's answer (the externaldata.gatekeeper.sh ProviderResponse's `response`). */
export interface ProviderAnswer {
  items: { key: string; value: unknown; error: string }[];
  systemError: string;
  idempotent: boolean;
}

/**
 * Sends one request to a provider: resolves with its answer, or rejects with the transport or
 * HTTP error (Gatekeeper's text follows `failed to send external data request to provider X: `).
 * Rejects with `provider not found` when there is no such Provider.
 */
export type ProviderCaller = (provider: string, keys: string[]) => Promise<ProviderAnswer>;

export class ProviderNotFound extends Error {}

/** Does the object hold placeholders? */
export function hasPlaceholders(v: unknown): boolean {
  if (v instanceof ExternalDataPlaceholder) return true;
  if (Array.isArray(v)) return v.some(hasPlaceholders);
  if (isPlainObject(v)) return Object.values(v).some(hasPlaceholders);
  return false;
}

/** Kubernetes' utilerrors aggregate text: repeated messages once, brackets around two or more. */
function aggregate(errs: string[]): string {
  const unique = [...new Set(errs)];
  return unique.length === 1 ? unique[0] : `[${unique.join(", ")}]`;
}

export interface ResolveLog {
  (message: string, fields: Record<string, unknown>): void;
}

/** Replace every placeholder of `object` in place. Throws Error (Gatekeeper's texts) when a Fail policy applies. */
export async function resolvePlaceholders(object: unknown, call: ProviderCaller, log: ResolveLog = () => {}): Promise<void> {
  const keys = new Map<string, Set<string>>();
  const collect = (v: unknown): void => {
    if (v instanceof ExternalDataPlaceholder) {
      if (!keys.has(v.ref.provider)) keys.set(v.ref.provider, new Set());
      keys.get(v.ref.provider)!.add(v.valueAtLocation);
    } else if (Array.isArray(v)) v.forEach(collect);
    else if (isPlainObject(v)) Object.values(v).forEach(collect);
  };
  collect(object);
  if (keys.size === 0) return;
  const responses = new Map<string, Map<string, { value: unknown; error: string }>>();
  const errors = new Map<string, string>();
  await Promise.all(
    [...keys].map(async ([provider, ks]) => {
      let answer: ProviderAnswer;
      try {
        answer = await call(provider, [...ks]);
      } catch (e) {
        if (e instanceof ProviderNotFound) {
          log("failed to get external data provider", { provider, err: e.message });
          return;
        }
        errors.set(provider, `failed to send external data request to provider ${provider}: ${(e as Error).message}`);
        return;
      }
      if (answer.systemError.trim() !== "") {
        errors.set(provider, `failed to validate external data response from provider ${provider}: non-empty system error: ${answer.systemError.trim()}`);
        return;
      }
      if (!answer.idempotent) {
        errors.set(provider, `failed to validate external data response from provider ${provider}: non-idempotent response`);
        return;
      }
      responses.set(provider, new Map(answer.items.map((it) => [it.key, { value: it.value, error: it.error }])));
    }),
  );
  const failures: string[] = [];
  const replace = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(replace);
    if (!isPlainObject(v) || v instanceof ExternalDataPlaceholder) return;
    for (const [k, x] of Object.entries(v)) {
      if (!(x instanceof ExternalDataPlaceholder)) {
        replace(x);
        continue;
      }
      const p = x.ref.provider;
      let err = errors.get(p) ?? null;
      let value = "";
      if (err === null) {
        const resp = responses.get(p);
        if (!resp) err = `failed to find external data provider ${p} in responses`;
        else {
          const item = resp.get(x.valueAtLocation);
          if (!item) err = `failed to find external data item in response for provider ${p}`;
          else if (item.error !== "") err = `failed to retrieve external data item from provider ${p}: ${item.error}`;
          else if (typeof item.value !== "string") err = `failed to convert external data item value from provider ${p} to string, got type ${goTypeOf(item.value)}`;
          else value = item.value;
        }
      }
      if (err !== null) {
        if (x.ref.failurePolicy === "Fail") {
          failures.push(err);
          continue;
        }
        if (x.ref.failurePolicy === "Ignore") {
          log(`${err}. Ignoring and using placeholder value`, { key: x.valueAtLocation });
          value = x.valueAtLocation;
        } else {
          log(`${err}. Ignoring and using default value`, { key: x.valueAtLocation, default: x.ref.default });
          value = x.ref.default;
        }
      }
      v[k] = value;
    }
  };
  replace(object);
  if (failures.length > 0) throw new Error(aggregate(failures));
}

function goTypeOf(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object") return "map[string]interface {}";
  if (typeof v === "number") return "float64";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

/** A ProviderCaller over Providers (the snapshot's or the input's), each call bounded by the provider's timeout and the deadline. */
export function providerCaller(providers: ReadonlyMap<string, Provider>, deadline?: number): ProviderCaller {
  return async (name, keys) => {
    const p = providers.get(name);
    if (!p) throw new ProviderNotFound(`provider ${JSON.stringify(name)} not found`);
    const timeoutMs = Math.max(1, Math.min(p.timeoutSeconds * 1000, (deadline ?? Infinity) - Date.now()));
    const a = await post(p, keys, timeoutMs);
    const transport = `failed to send external data request to provider ${name}: `;
    if (a.systemError.startsWith(transport)) throw new Error(a.systemError.slice(transport.length));
    if (a.statusCode !== 200) throw new Error(a.systemError || `HTTP ${a.statusCode}`);
    return { items: a.items, systemError: a.systemError, idempotent: a.idempotent };
  };
}
