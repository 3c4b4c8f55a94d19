// uri.parse and uri.is_valid: URI components as Go's net/url reports them.

import type { Builtin } from "./registry.ts";
import { T, BuiltinError, expectString } from "./registry.ts";
import type { Value } from "../rego/value.ts";
import { makeObject } from "../rego/value.ts";
import { parseIP } from "./net.ts";

// scheme ":" ["//" [userinfo "@"] host [":" port]] path ["?" query] ["#" fragment]
const URI = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/;

function parse(s: string): [string, Value][] {
  if (/[\x00-\x1f\x7f ]/.test(s) && /[\x00-\x1f\x7f]/.test(s)) throw new BuiltinError(`uri.parse: parse ${JSON.stringify(s)}: invalid control character in URL`);
  if (s.startsWith(":")) throw new BuiltinError(`uri.parse: parse ${JSON.stringify(s)}: missing protocol scheme`);
  const m = URI.exec(s);
  if (!m) throw new BuiltinError(`uri.parse: parse ${JSON.stringify(s)}: invalid URI`);
  const [, scheme, authority, path, query, fragment] = m;
  const out: [string, Value][] = [];
  if (scheme) out.push(["scheme", scheme.toLowerCase()]);
  if (authority !== undefined) {
    let hostport: string;
    try {
      hostport = parseAuthority(authority);
    } catch (e) {
      if (e instanceof UrlError) throw new BuiltinError(`uri.parse: parse ${JSON.stringify(s)}: ${e.message}`);
      throw e;
    }
    // Go's Hostname() and Port(): the host without brackets, the digits after the last colon.
    let host: string;
    let port = "";
    if (hostport.startsWith("[")) {
      const close = hostport.lastIndexOf("]");
      host = hostport.slice(1, close);
      port = hostport.slice(close + 2);
    } else {
      const colon = hostport.lastIndexOf(":");
      host = colon >= 0 ? hostport.slice(0, colon) : hostport;
      port = colon >= 0 ? hostport.slice(colon + 1) : "";
    }
    if (host) out.push(["hostname", host]);
    if (port) out.push(["port", port]);
  }
  if (fragment !== undefined) {
    try {
      goUnescape(fragment, "other");
    } catch (e) {
      if (e instanceof UrlError) throw new BuiltinError(`uri.parse: parse ${JSON.stringify(s)}: ${e.message}`);
      throw e;
    }
  }
  // Opaque URIs (mailto:joe@x) have no path in Go's report.
  const opaque = scheme && authority === undefined && path && !path.startsWith("/");
  if (path && !opaque) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      throw new BuiltinError(`uri.parse: parse ${JSON.stringify(s)}: invalid URL escape`);
    }
    out.push(["path", decoded], ["raw_path", path]);
  }
  if (query !== undefined && query !== "") out.push(["raw_query", query]);
  if (fragment !== undefined && fragment !== "") out.push(["fragment", fragment]);
  return out;
}

/** An error of Go's url.Parse (the text after `parse "URL": `). */
class UrlError extends Error {}

/** Characters Go's net/url lets appear unescaped in a host name or an IPv6 zone. */
const HOST_CHAR = /^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"]$/;

/**
 * Go's url.unescape: checks every %-escape (in a host only non-ASCII bytes and %25 may be
 * escaped; in a zone only bytes a host may hold, spaces and %25) and, in a host or zone, that
 * no other character needs escaping; returns the decoded text.
 */
function goUnescape(s: string, mode: "host" | "zone" | "other"): string {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; ) {
    const c = s[i];
    if (c === "%") {
      if (!/^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) throw new UrlError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      const v = parseInt(s.slice(i + 1, i + 3), 16);
      const esc = s.slice(i, i + 3);
      if (mode === "host" && v < 0x80 && esc !== "%25") throw new UrlError(`invalid URL escape ${JSON.stringify(esc)}`);
      if (mode === "zone" && esc !== "%25" && v !== 0x20 && (v >= 0x80 || !HOST_CHAR.test(String.fromCharCode(v)))) {
        throw new UrlError(`invalid URL escape ${JSON.stringify(esc)}`);
      }
      bytes.push(v);
      i += 3;
      continue;
    }
    const cp = s.codePointAt(i)!;
    if ((mode === "host" || mode === "zone") && cp < 0x80 && !HOST_CHAR.test(c)) throw new UrlError(`invalid character ${JSON.stringify(c)} in host name`);
    const ch = String.fromCodePoint(cp);
    bytes.push(...enc.encode(ch));
    i += ch.length;
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function validOptionalPort(p: string): boolean {
  return p === "" || /^:[0-9]*$/.test(p);
}

/** Go's url.parseHost: the unescaped host[:port], IP literals checked. */
function parseHost(host: string): string {
  const open = host.lastIndexOf("[");
  if (open > 0) throw new UrlError("invalid IP-literal");
  if (open === 0) {
    const close = host.lastIndexOf("]");
    if (close < 0) throw new UrlError("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) throw new UrlError(`invalid port ${JSON.stringify(colonPort)} after host`);
    const name = host.slice(1, close);
    const zone = name.indexOf("%25");
    const unescaped = zone >= 0 ? goUnescape(name.slice(0, zone), "host") + goUnescape(name.slice(zone), "zone") : goUnescape(name, "host");
    // Only an IPv6 address may be bracketed (an IPv4-mapped one may, a plain IPv4 may not).
    const pct = unescaped.indexOf("%");
    const addr = pct >= 0 ? unescaped.slice(0, pct) : unescaped;
    const ip = parseIP(addr);
    if (ip?.v4 && pct < 0) throw new UrlError("invalid IP-literal");
    if (!ip || ip.v4 || (pct >= 0 && pct === unescaped.length - 1)) throw new UrlError(`invalid host: ParseAddr(${JSON.stringify(unescaped)}): unable to parse IP`);
    return "[" + unescaped + "]" + colonPort;
  }
  const last = host.lastIndexOf(":");
  if (last >= 0) {
    // The port follows the last colon (OPA's build keeps Go's lenient colons: urlstrictcolons=0).
    const colonPort = host.slice(last);
    if (!validOptionalPort(colonPort)) throw new UrlError(`invalid port ${JSON.stringify(colonPort)} after host`);
  }
  return goUnescape(host, "host");
}

const USERINFO = /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/;

/** Go's url.parseAuthority: the host[:port] of `user@host:port`, the user part checked. */
function parseAuthority(authority: string): string {
  const at = authority.lastIndexOf("@");
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (at >= 0) {
    const user = authority.slice(0, at);
    if (!USERINFO.test(user)) throw new UrlError("net/url: invalid userinfo");
    for (const part of user.split(":").slice(0, 2)) goUnescape(part, "other");
  }
  return host;
}

export const builtins: Builtin[] = [
  {
    name: "uri.parse",
    decl: T.fn([T.string], T.objectOf(T.string, T.string)),
    impl: ([s]) => makeObject(parse(expectString("uri.parse", 1, s))),
  },
  {
    name: "uri.is_valid",
    decl: T.fn([T.string], T.boolean),
    impl: ([s]) => {
      const str = expectString("uri.is_valid", 1, s);
      try {
        parse(str);
        return URI.exec(str)?.[1] !== undefined || str.startsWith("/");
      } catch {
        return false;
      }
    },
  },
];
