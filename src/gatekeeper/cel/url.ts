// URLs for Kubernetes' CEL url library, parsed as Go's url.ParseRequestURI does: an absolute
// URI (scheme ":" …) or an absolute path; the parts the library exposes.

export interface URLParts {
  scheme: string;
  host: string;
  hostname: string;
  port: string;
  escapedPath: string;
  query: Record<string, string[]>;
}

/** Longest URL accepted. */
export const MAX_URL_LENGTH = 8192;

function unescape(s: string): string | null {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return null;
  }
}

/** The parts of a URL, or the error text (Go's wording). */
export function parseURL(raw: string): URLParts | string {
  const q = (s: string) => JSON.stringify(s);
  if (raw.length > MAX_URL_LENGTH) return `parse ${q(raw.slice(0, 64))}: URL longer than ${MAX_URL_LENGTH} characters`;
  if (/[\x00-\x1f\x7f]/.test(raw)) return `parse ${q(raw)}: net/url: invalid control character in URL`;
  if (raw === "") return `parse "": empty url`;
  let rest = raw;
  let scheme = "";
  const sm = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (sm) {
    scheme = sm[1].toLowerCase();
    rest = rest.slice(sm[0].length);
  } else if (/^[0-9+.-]*:/.test(rest) && !rest.startsWith("/")) {
    return `parse ${q(raw)}: missing protocol scheme`;
  }
  let rawQuery = "";
  const qi = rest.indexOf("?");
  if (qi >= 0) {
    rawQuery = rest.slice(qi + 1);
    rest = rest.slice(0, qi);
  }
  let host = "";
  if (!rest.startsWith("/")) {
    if (scheme === "") return `parse ${q(raw)}: invalid URI for request`;
    // An opaque URI (mailto:x): no host, no path.
    return { scheme, host: "", hostname: "", port: "", escapedPath: "", query: parseQuery(rawQuery) };
  }
  if (scheme !== "" && rest.startsWith("//")) {
    const end = rest.indexOf("/", 2);
    let authority = end < 0 ? rest.slice(2) : rest.slice(2, end);
    rest = end < 0 ? "" : rest.slice(end);
    const at = authority.lastIndexOf("@");
    if (at >= 0) authority = authority.slice(at + 1);
    host = authority;
    if (/[\s<>"`{}|\\^]/.test(host)) return `parse ${q(raw)}: invalid character ${q(/[\s<>"`{}|\\^]/.exec(host)![0])} in host name`;
  }
  let hostname = host;
  let port = "";
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close < 0) return `parse ${q(raw)}: missing ']' in host`;
    hostname = host.slice(1, close);
    const after = host.slice(close + 1);
    if (after.startsWith(":")) port = after.slice(1);
    else if (after !== "") return `parse ${q(raw)}: invalid port ${q(after)} after host`;
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) {
      hostname = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
  }
  if (port !== "" && !/^\d*$/.test(port)) return `parse ${q(raw)}: invalid port ${q(":" + port)} after host`;
  return { scheme, host, hostname, port, escapedPath: rest, query: parseQuery(rawQuery) };
}

function parseQuery(s: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (s === "") return out;
  for (const part of s.split("&")) {
    if (part === "" || part.includes(";")) continue;
    const eq = part.indexOf("=");
    const k = unescape(eq < 0 ? part : part.slice(0, eq));
    const v = unescape(eq < 0 ? "" : part.slice(eq + 1));
    if (k === null || v === null) continue;
    (out[k] ??= []).push(v);
  }
  return out;
}
