// Share links: the playground's state in the URL fragment (`#s=…`), JSON compressed with the
// browser's CompressionStream (deflate-raw) and written in base64url. A fragment never goes to
// a server (browsers do not send it), so a shared policy stays between the people who share it.

import type { Mode, State } from "./api.ts";

/** The longest fragment read back (compressed text); a longer one is refused, not truncated. */
export const MAX_SHARE_CHARS = 2_000_000;
/** The largest state a fragment may expand to. */
export const MAX_STATE_BYTES = 8 * 1024 * 1024;

const MODES: readonly Mode[] = ["eval", "test", "gatekeeper"];

function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 8192) bin += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error("the link's state is not base64url");
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream, limit: number): Promise<Uint8Array> {
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`the link's state is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The fragment (without `#`) that carries `state`. */
export async function encodeState(state: State): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(state));
  return "s=" + base64url(await pipe(json, new CompressionStream("deflate-raw"), Number.MAX_SAFE_INTEGER));
}

/** The state of a fragment written by encodeState; an Error saying what is wrong otherwise. */
export async function decodeState(fragment: string): Promise<State> {
  const text = fragment.replace(/^#/, "");
  if (!text.startsWith("s=")) throw new Error("the link carries no playground state");
  if (text.length > MAX_SHARE_CHARS) throw new Error(`the link's state is longer than ${MAX_SHARE_CHARS} characters`);
  const json = await pipe(fromBase64url(text.slice(2)), new DecompressionStream("deflate-raw"), MAX_STATE_BYTES);
  const v = JSON.parse(new TextDecoder().decode(json)) as Record<string, unknown>;
  const str = (k: string) => {
    if (typeof v[k] !== "string") throw new Error(`the link's state has no ${k}`);
    return v[k] as string;
  };
  const mode = str("mode") as Mode;
  if (!MODES.includes(mode)) throw new Error(`the link's state has an unknown mode ${JSON.stringify(mode)}`);
  return { mode, policy: str("policy"), input: str("input"), format: str("format"), filename: str("filename"), data: str("data"), query: str("query") };
}
