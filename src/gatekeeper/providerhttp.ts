// The HTTP exchange of Gatekeeper's external data (src/gatekeeper/externaldata.ts): one
// ProviderRequest POSTed to a provider, its ProviderResponse read back. Kept apart so that hosts
// without Node's HTTP stack (the browser playground) substitute their own.

import { nodeHttp, nodeHttps } from "../lazy.ts";
import { PROVIDER_GROUP, type Provider } from "./externaldata.ts";
import type { Obj } from "./yaml.ts";

export interface ProviderAnswer {
  items: { key: string; value: unknown; error: string }[];
  systemError: string;
  statusCode: number;
  idempotent: boolean;
}

/** POST a ProviderRequest; `timeoutMs` is the provider's timeout, cut to the review's remaining time. */
export function post(p: Provider, keys: string[], timeoutMs: number): Promise<ProviderAnswer> {
  const body = JSON.stringify({ apiVersion: `${PROVIDER_GROUP}/v1beta1`, kind: "ProviderRequest", request: { keys } });
  const u = new URL(p.url);
  const mod = u.protocol === "https:" ? nodeHttps : nodeHttp;
  return new Promise((resolve) => {
    const req = mod.request(
      u,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
        timeout: timeoutMs,
        ...(p.caBundle ? { ca: Buffer.from(p.caBundle, "base64").toString("utf8") } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString("utf8");
          if (status !== 200) return resolve({ items: [], systemError: `provider ${p.name} returned HTTP ${status}: ${text.slice(0, 200)}`, statusCode: status, idempotent: false });
          try {
            const doc = JSON.parse(text);
            const r = doc?.response ?? {};
            const items = Array.isArray(r.items) ? r.items : [];
            resolve({
              items: items.map((it: Obj) => ({ key: String(it?.key ?? ""), value: it?.value ?? null, error: typeof it?.error === "string" ? it.error : "" })),
              systemError: typeof r.systemError === "string" ? r.systemError : "",
              statusCode: status,
              idempotent: r.idempotent === true,
            });
          } catch (e) {
            resolve({ items: [], systemError: `provider ${p.name}: invalid response: ${(e as Error).message}`, statusCode: status, idempotent: false });
          }
        });
      },
    );
    // The socket timeout covers idle time; the timer bounds the whole exchange.
    const timer = setTimeout(() => req.destroy(new DeadlineError()), timeoutMs);
    timer.unref?.();
    req.on("close", () => clearTimeout(timer));
    req.on("timeout", () => req.destroy(new DeadlineError()));
    req.on("error", (e) => resolve({ items: [], systemError: `failed to send external data request: Post ${JSON.stringify(p.url)}: ${transportError(e, u)}`, statusCode: 500, idempotent: false }));
    req.end(body);
  });
}


class DeadlineError extends Error {
  constructor() {
    super("context deadline exceeded");
  }
}

/**
 * A failed exchange in the words of Go's HTTP client, as Gatekeeper's system_error carries it
 * (`failed to send external data request: Post "<url>": <error>`): the deadline is `context
 * deadline exceeded`, a refused connection `dial tcp <host:port>: connect: connection refused`.
 */
function transportError(e: Error, u: URL): string {
  if (e instanceof DeadlineError) return e.message;
  const code = (e as NodeJS.ErrnoException).code;
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  const host = u.hostname.startsWith("[") ? u.hostname : u.hostname.includes(":") ? `[${u.hostname}]` : u.hostname;
  if (code === "ECONNREFUSED") return `dial tcp ${host}:${port}: connect: connection refused`;
  if (code === "ECONNRESET") return "EOF";
  return e.message;
}
