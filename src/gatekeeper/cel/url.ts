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
  if (port !== "" && !/^\d*$/.test(port)) {
    // Go names everything after the host's first colon.
    const first = host.startsWith("[") ? host.indexOf(":", host.indexOf("]")) : host.indexOf(":");
    return `parse ${q(raw)}: invalid port ${q(host.slice(first))} after host`;
  }
  const path = escapedPath(rest);
  if (path === null) return `parse ${q(raw)}: invalid URL escape ${q(/%(?![0-9A-Fa-f]{2}).{0,2}/.exec(rest)?.[0] ?? "%")}`;
  return { scheme, host, hostname, port, escapedPath: path, query: parseQuery(rawQuery) };
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

/** Characters Go leaves unescaped in a path (besides letters and digits). */
const PATH_OK = new Set("-_.~$&+,/:;=@!'()*[]");

/**
 * Go's URL.EscapedPath: the raw path when it is a valid encoding of the path, else the path
 * escaped; null when the raw path has a malformed %-escape.
 */
function escapedPath(raw: string): string | null {
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return null;
  const valid = Array.from(raw).every((c, i) => /[A-Za-z0-9]/.test(c) || PATH_OK.has(c) || (c === "%" && /^[0-9A-Fa-f]{2}$/.test(raw.slice(i + 1, i + 3))) || /^[0-9A-Fa-f]$/.test(c));
  if (valid && !/[\s"<>\\^`{|}]/.test(raw)) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; ) {
    if (raw[i] === "%") {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      const ch = String.fromCodePoint(raw.codePointAt(i)!);
      bytes.push(...Buffer.from(ch, "utf8"));
      i += ch.length;
    }
  }
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && (/[A-Za-z0-9]/.test(c) || PATH_OK.has(c)) && c !== "[" && c !== "]" ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
