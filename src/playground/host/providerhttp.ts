// The browser bundle's src/gatekeeper/providerhttp.ts (see ./substitutes.ts): the playground sends
// nothing anywhere, so a Provider's external data answers with a system error saying so (what
// Gatekeeper gives a template when a provider cannot be reached).

import type { Provider } from "../../gatekeeper/externaldata.ts";

export interface ProviderAnswer {
  items: { key: string; value: unknown; error: string }[];
  systemError: string;
  statusCode: number;
  idempotent: boolean;
}

export function post(p: Provider, _keys: string[], _timeoutMs: number): Promise<ProviderAnswer> {
  return Promise.resolve({ items: [], systemError: `failed to send external data request to provider ${p.name}: not available in the browser`, statusCode: 500, idempotent: false });
}
