// Gatekeeper's `external_data` builtin and its provider protocol.
//
//   external_data({"provider": "<Provider name>", "keys": ["k1", "k2"]}) →
//     {"responses": [[key, value], …], "errors": [[key, error], …],
//      "status_code": 200, "system_error": ""}
//
// A Provider (externaldata.gatekeeper.sh/v1beta1 or v1alpha1) gives spec.url (https),
// spec.timeout (seconds, default 3) and spec.caBundle (base64 PEM). The request is POSTed as
// {"apiVersion": "externaldata.gatekeeper.sh/v1beta1", "kind": "ProviderRequest",
//  "request": {"keys": [...]}}; the provider answers a ProviderResponse whose
// response.items[] carry key, value and error, and response.systemError. Answers of
// idempotent providers are cached per provider and key for 3 minutes (errors are not cached).
//
// The builtin is registered with the engine only when a Client is given providers (it is not
// part of OPA), and reads the providers from the query's host state.

import { post, type ProviderAnswer } from "./providerhttp.ts";
import { withBuiltins, withoutBuiltins } from "../engine/index.ts";
import { BuiltinError, type Builtin, type BuiltinContext, type BuiltinTable } from "../builtins/registry.ts";
import { fromJS, toJS, type Value } from "../rego/value.ts";
import { isPlainObject, type Obj } from "./yaml.ts";

export const PROVIDER_GROUP = "externaldata.gatekeeper.sh";
export const CACHE_TTL_MS = 3 * 60 * 1000;

export interface Provider {
  name: string;
  url: string;
  timeoutSeconds: number;
  caBundle?: string;
}

export interface ExternalDataState {
  providers: Map<string, Provider>;
  /** provider → key → {value, expires} */
  cache: Map<string, Map<string, { value: unknown; expiresAtMs: number }>>;
  /** Failed provider calls (system error or non-200 answer): gatekeeper_provider_error_count. */
  errorCount?: number;
  /** Accept http:// provider URLs (tests only; Gatekeeper requires https). */
  allowHTTP?: boolean;
}

export function isProvider(o: Obj): boolean {
  return o.kind === "Provider" && typeof o.apiVersion === "string" && o.apiVersion.split("/")[0] === PROVIDER_GROUP;
}

/** Validate a Provider object. */
export function parseProvider(o: Obj, allowHTTP = false): Provider {
  const name = o.metadata?.name;
  if (typeof name !== "string" || !name) throw new Error("Provider: metadata.name is required");
  const spec = isPlainObject(o.spec) ? o.spec : {};
  const url = spec.url;
  if (typeof url !== "string" || !url) throw new Error(`Provider ${JSON.stringify(name)}: spec.url is required`);
  const u = new URL(url);
  if (u.protocol !== "https:" && !(allowHTTP && u.protocol === "http:")) throw new Error(`Provider ${JSON.stringify(name)}: spec.url must use https, got ${JSON.stringify(url)}`);
  const timeout = spec.timeout === undefined ? 3 : Number(spec.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error(`Provider ${JSON.stringify(name)}: spec.timeout must be a positive number of seconds`);
  return { name, url, timeoutSeconds: timeout, caBundle: typeof spec.caBundle === "string" && spec.caBundle ? spec.caBundle : undefined };
}

function externalDataImpl(args: Value[], ctx: BuiltinContext): Value | undefined {
  const state = ctx.host?.externalData as ExternalDataState | undefined;
  const req = toJS(args[0]) as Obj;
  if (!isPlainObject(req) || typeof req.provider !== "string" || !Array.isArray(req.keys)) {
    throw new BuiltinError('external_data: the argument must be {"provider": <name>, "keys": [<string>, ...]}');
  }
  const p = state?.providers.get(req.provider);
  if (!state || !p) throw new BuiltinError(`external_data: provider ${JSON.stringify(req.provider)} is not defined`);
  const keys = req.keys.map(String);
  const now = Date.now();
  let cache = state.cache.get(p.name);
  if (!cache) state.cache.set(p.name, (cache = new Map()));
  const responses: [string, unknown][] = [];
  const errors: [string, string][] = [];
  const missing: string[] = [];
  // Within one query an error answer is reused too (only successes outlive the query).
  const queryKey = (k: string) => `external_data:${p.name}:${k}`;
  for (const k of keys) {
    const hit = cache.get(k);
    const inQuery = ctx.cache.get(queryKey(k));
    if (hit && hit.expiresAtMs > now) responses.push([k, hit.value]);
    else if (typeof inQuery === "string") errors.push([k, inQuery]);
    else missing.push(k);
  }
  let status = 200;
  let systemError = "";
  if (missing.length) {
    const ans = toJS(ctx.awaitValue(`external_data:${p.name}:${JSON.stringify(missing)}`, async () => {
      // Gatekeeper: the provider's timeout, but never past the review's deadline. A call cut by
      // the deadline ends just past it, so the evaluation stops with eval_cancel_error when it
      // resumes (the webhook's failurePolicy applies, as with Gatekeeper, whose answer the API
      // server stops waiting for) rather than making a violation of the cut call's system_error.
      const deadline = typeof ctx.host?.deadline === "number" ? ctx.host.deadline : Infinity;
      const left = deadline - Date.now();
      const timeoutMs = left < p.timeoutSeconds * 1000 ? Math.max(1, left + 1) : p.timeoutSeconds * 1000;
      const ans = await post(p, missing, timeoutMs);
      if (ans.systemError !== "" || ans.statusCode !== 200) state.errorCount = (state.errorCount ?? 0) + 1;
      return fromJS(ans);
    })) as ProviderAnswer;
    status = ans.statusCode;
    systemError = ans.systemError;
    for (const it of ans.items) {
      if (it.error) {
        errors.push([it.key, it.error]);
        ctx.cache.set(queryKey(it.key), it.error);
      } else {
        responses.push([it.key, it.value]);
        if (ans.idempotent) cache.set(it.key, { value: it.value, expiresAtMs: now + CACHE_TTL_MS });
      }
    }
  }
  return fromJS({ responses, errors, status_code: status, system_error: systemError });
}

export const externalDataBuiltin: Builtin = {
  name: "external_data",
  decl: { type: "function", args: [{ type: "object", dynamic: { key: { type: "any" }, value: { type: "any" } } }], result: { type: "object", dynamic: { key: { type: "any" }, value: { type: "any" } } } },
  impl: externalDataImpl,
  nondeterministic: true,
};

/**
 * The builtins of a Gatekeeper engine: OPA's without http.send (Gatekeeper disables it by
 * default, `--disable-opa-builtin`), and with `external_data` when external data is enabled.
 */
export const GATEKEEPER_BUILTINS: BuiltinTable = withoutBuiltins(["http.send"]);
export const EXTERNAL_DATA_BUILTINS: BuiltinTable = withBuiltins([externalDataBuiltin], GATEKEEPER_BUILTINS);
