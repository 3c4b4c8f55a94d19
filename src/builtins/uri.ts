// uri.parse and uri.is_valid: URI components as Go's net/url reports them.

import type { Builtin } from "./registry.ts";
import { T, BuiltinError, expectString } from "./registry.ts";
import type { Value } from "../rego/value.ts";
import { makeObject } from "../rego/value.ts";

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
    const at = authority.lastIndexOf("@");
    const hostport = at >= 0 ? authority.slice(at + 1) : authority;
    const pm = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostport);
    if (!pm) throw new BuiltinError(`uri.parse: parse ${JSON.stringify(s)}: invalid port`);
    let host = pm[1].replace(/^\[|\]$/g, "");
    // An IPv6 zone is written %25zone in a URI; Go reports the decoded %zone.
    host = host.replace(/%25/g, "%");
    if (host) out.push(["hostname", host]);
    if (pm[2]) out.push(["port", pm[2]]);
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
