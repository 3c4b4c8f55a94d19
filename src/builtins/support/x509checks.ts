// Checks that X.509 chain verification applies beyond signatures: name constraints (RFC 5280
// §4.2.1.10) and certificate policies (RFC 5280 §6.1), with the matching rules of Go's
// crypto/x509, whose Verify OPA uses. Written from the RFCs and the oracle's answers.

import { BuiltinError } from "../registry.ts";
import { goQuote } from "../../gotext/fmt.ts";
import { content, children, oidString, parseDer } from "./der.ts";

// ---- Domain names ---------------------------------------------------------------------------

/**
 * The labels of a domain name, last label first, or null when the name is not usable: an
 * empty label (including a trailing dot) or a character outside printable ASCII. The empty
 * string has no labels and is usable.
 */
export function reverseLabels(domain: string): string[] | null {
  if (domain === "") return [];
  const labels = domain.split(".").reverse();
  for (const l of labels) {
    if (l === "") return null;
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      if (c < 33 || c > 126) return null;
    }
  }
  return labels;
}

/**
 * Whether `domain` lies within `constraint`. An empty constraint matches everything; a leading
 * dot asks for at least one more label. With `wildcard`, a leading "*" label of the name stands
 * for any label (used for excluded subtrees, so that "*.example.com" is caught by an exclusion of
 * "test.example.com").
 */
function matchDomain(domain: string, constraint: string, wildcard = false): boolean {
  if (constraint === "") return true;
  const d = reverseLabels(domain);
  if (d === null) throw new BuiltinError(`cannot parse domain ${JSON.stringify(domain)}`);
  let c = constraint;
  let needSub = false;
  if (c.startsWith(".")) {
    needSub = true;
    c = c.slice(1);
  }
  const cl = reverseLabels(c);
  if (cl === null) throw new BuiltinError(`cannot parse constraint ${JSON.stringify(constraint)}`);
  const star = wildcard && d.length > 0 && d[d.length - 1] === "*";
  if (d.length < cl.length) return false;
  if (needSub && d.length === cl.length) return false;
  for (let i = 0; i < cl.length; i++) {
    if (star && i === d.length - 1) continue;
    if (d[i].toLowerCase() !== cl[i].toLowerCase()) return false;
  }
  return true;
}

// ---- Mailboxes (RFC 5321 §4.1.2) --------------------------------------------------------------

export interface Mailbox {
  local: string;
  domain: string;
}

const ATEXT = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]/;

/** Parse "local@domain"; the local part may be a dot-string or a quoted string. */
export function parseMailbox(s: string): Mailbox | null {
  if (s === "") return null;
  let i = 0;
  let local = "";
  if (s[0] === '"') {
    i = 1;
    for (;;) {
      if (i >= s.length) return null;
      const c = s.charCodeAt(i++);
      if (c === 0x22) break;
      if (c === 0x5c) {
        // quoted-pair: a backslash and any character but NUL, LF and CR
        if (i >= s.length) return null;
        const d = s.charCodeAt(i);
        if (d === 0 || d === 10 || d === 13 || d > 127) return null;
        local += s[i++];
        continue;
      }
      // qtext, plus space (RFC 3696 examples use it) and the obsolete control characters
      const ok = c === 32 || c === 33 || (c >= 35 && c <= 91) || (c >= 93 && c <= 127) || (c >= 1 && c <= 8) || c === 11 || c === 12 || (c >= 14 && c <= 31);
      if (!ok) return null;
      local += s[i - 1];
    }
  } else {
    while (i < s.length) {
      const ch = s[i];
      if (ch === "\\") {
        // An escaped character outside quotes is accepted as itself.
        i++;
        if (i >= s.length) return null;
        local += s[i++];
        continue;
      }
      if (!ATEXT.test(ch)) break;
      local += ch;
      i++;
    }
    if (local === "" || local.startsWith(".") || local.endsWith(".") || local.includes("..")) return null;
  }
  if (s[i] !== "@") return null;
  const domain = s.slice(i + 1);
  if (reverseLabels(domain) === null) return null;
  return { local, domain };
}

function matchEmail(m: Mailbox, constraint: string, wildcard: boolean): boolean {
  if (constraint.includes("@")) {
    const cm = parseMailbox(constraint);
    if (!cm) throw new BuiltinError(`cannot parse constraint ${JSON.stringify(constraint)}`);
    return m.local === cm.local && m.domain.toLowerCase() === cm.domain.toLowerCase();
  }
  return matchDomain(m.domain, constraint, wildcard);
}

// ---- URIs -----------------------------------------------------------------------------------

function isIPLiteral(s: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) return s.split(".").every((p) => Number(p) <= 255 && (p === "0" || !p.startsWith("0")));
  if (!s.includes(":")) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The host a URI name is matched by: any URI under a constrained CA needs a host that is a domain
 * name (not empty, not an IP address), whether or not URI constraints are present.
 */
function uriMatchHost(uri: string): string {
  const parsed = urlParseError(uri);
  if ("error" in parsed) throw new BuiltinError(`cannot parse URI ${JSON.stringify(uri)}`);
  let host = parsed.host;
  if (host === "") throw new BuiltinError(`URI with empty host (${JSON.stringify(uri)}) cannot be matched against constraints`);
  if (host.includes(":") && !host.endsWith("]")) {
    const colon = host.lastIndexOf(":");
    host = host.slice(0, colon);
    if (host.includes(":")) throw new BuiltinError(`address ${host}: too many colons`);
  }
  if ((host.startsWith("[") && host.endsWith("]")) || isIPLiteral(host)) {
    throw new BuiltinError(`URI with IP (${JSON.stringify(uri)}) cannot be matched against constraints`);
  }
  return host;
}

// ---- IP ranges ------------------------------------------------------------------------------

export interface IPRange {
  ip: Buffer;
  mask: Buffer;
}

function matchIP(ip: Buffer, r: IPRange): boolean {
  if (ip.length !== r.ip.length) return false;
  for (let i = 0; i < ip.length; i++) if ((ip[i] & r.mask[i]) !== (r.ip[i] & r.mask[i])) return false;
  return true;
}

function validMask(mask: Buffer): boolean {
  let zero = false;
  for (const b of mask) {
    if (zero) {
      if (b !== 0) return false;
      continue;
    }
    if (b === 0xff) continue;
    if (![0x00, 0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe].includes(b)) return false;
    zero = true;
  }
  return true;
}

// ---- The NameConstraints extension ------------------------------------------------------------

export interface NameConstraints {
  permittedDNS: string[];
  excludedDNS: string[];
  permittedEmail: string[];
  excludedEmail: string[];
  permittedURI: string[];
  excludedURI: string[];
  permittedIP: IPRange[];
  excludedIP: IPRange[];
  /** A subtree of a name form that is not checked (directoryName, otherName…). */
  unhandled: boolean;
}

function isASCII(s: Buffer): boolean {
  return s.every((b) => b < 0x80);
}

/** Decode the extension value; throws Go's parse errors for malformed constraints. */
export function parseNameConstraints(value: Buffer): NameConstraints {
  const nc: NameConstraints = {
    permittedDNS: [],
    excludedDNS: [],
    permittedEmail: [],
    excludedEmail: [],
    permittedURI: [],
    excludedURI: [],
    permittedIP: [],
    excludedIP: [],
    unhandled: false,
  };
  let subtrees;
  try {
    const seq = parseDer(value);
    if (seq.tag !== 0x30) throw new Error();
    subtrees = children(seq);
    if (subtrees.some((s) => s.tag !== 0xa0 && s.tag !== 0xa1)) throw new Error();
  } catch {
    throw new BuiltinError("x509: invalid NameConstraints extension");
  }
  if (subtrees.every((s) => s.end === s.hdrEnd)) throw new BuiltinError("x509: empty name constraints extension");
  for (const sub of subtrees) {
    const permitted = sub.tag === 0xa0;
    for (const subtree of children(sub)) {
      const base = children(subtree)[0];
      if (!base) throw new BuiltinError("x509: invalid NameConstraints extension");
      const data = Buffer.from(content(base));
      const text = data.toString("latin1");
      switch (base.tag) {
        case 0x82: {
          if (!isASCII(data)) throw new BuiltinError(`x509: invalid constraint value: ${JSON.stringify(text)}`);
          const trimmed = text.startsWith(".") ? text.slice(1) : text;
          if (reverseLabels(trimmed) === null) throw new BuiltinError(`x509: failed to parse dnsName constraint ${JSON.stringify(text)}`);
          (permitted ? nc.permittedDNS : nc.excludedDNS).push(text);
          break;
        }
        case 0x87: {
          if (data.length !== 8 && data.length !== 32) throw new BuiltinError(`x509: IP constraint contained value of length ${data.length}`);
          const half = data.length / 2;
          const mask = data.subarray(half);
          if (!validMask(mask)) throw new BuiltinError(`x509: IP constraint contained invalid mask ${mask.toString("hex")}`);
          (permitted ? nc.permittedIP : nc.excludedIP).push({ ip: data.subarray(0, half), mask });
          break;
        }
        case 0x81: {
          if (!isASCII(data)) throw new BuiltinError(`x509: invalid constraint value: ${JSON.stringify(text)}`);
          if (text.includes("@")) {
            if (parseMailbox(text) === null) throw new BuiltinError(`x509: failed to parse rfc822Name constraint ${JSON.stringify(text)}`);
          } else {
            const trimmed = text.startsWith(".") ? text.slice(1) : text;
            if (reverseLabels(trimmed) === null) throw new BuiltinError(`x509: failed to parse rfc822Name constraint ${JSON.stringify(text)}`);
          }
          (permitted ? nc.permittedEmail : nc.excludedEmail).push(text);
          break;
        }
        case 0x86: {
          if (!isASCII(data)) throw new BuiltinError(`x509: invalid constraint value: ${JSON.stringify(text)}`);
          if (isIPLiteral(text)) throw new BuiltinError(`x509: failed to parse URI constraint ${JSON.stringify(text)}: cannot be IP address`);
          const trimmed = text.startsWith(".") ? text.slice(1) : text;
          if (reverseLabels(trimmed) === null) throw new BuiltinError(`x509: failed to parse URI constraint ${JSON.stringify(text)}`);
          (permitted ? nc.permittedURI : nc.excludedURI).push(text);
          break;
        }
        default:
          nc.unhandled = true;
      }
    }
  }
  return nc;
}

// ---- Checking the names of a certificate ------------------------------------------------------

/** A subjectAltName entry: the GeneralName's tag byte and contents. */
export interface SanEntry {
  tag: number;
  data: Buffer;
}

/**
 * Check every name of `san` against the constraints. Returns null when they all pass, else the
 * reason. (OPA 1.19 puts no limit on the number of comparisons: its MaxConstraintComparisons
 * option changes nothing, even when negative.)
 */
export function checkNames(nc: NameConstraints, san: SanEntry[]): string | null {
  const check = <N>(kind: string, shown: string, name: N, match: (n: N, c: string, w: boolean) => boolean, permitted: string[], excluded: string[]): string | null => {
    for (const c of excluded) if (match(name, c, true)) return `${kind} ${JSON.stringify(shown)} is excluded by constraint ${JSON.stringify(c)}`;
    if (permitted.length === 0) return null;
    for (const c of permitted) if (match(name, c, false)) return null;
    return `${kind} ${JSON.stringify(shown)} is not permitted by any constraint`;
  };
  try {
    for (const e of san) {
      const text = e.data.toString("latin1");
      let err: string | null = null;
      switch (e.tag) {
        case 0x81: {
          const m = parseMailbox(text);
          if (!m) return `cannot parse rfc822Name ${JSON.stringify(text)}`;
          err = check("email address", text, m, matchEmail, nc.permittedEmail, nc.excludedEmail);
          break;
        }
        case 0x82:
          if (reverseLabels(text) === null) return `cannot parse dnsName ${JSON.stringify(text)}`;
          err = check("DNS name", text, text, (n, c, w) => matchDomain(n, c, w), nc.permittedDNS, nc.excludedDNS);
          break;
        case 0x86: {
          const host = uriMatchHost(text);
          err = check("URI", text, host, (h, c, w) => matchDomain(h, c, w), nc.permittedURI, nc.excludedURI);
          break;
        }
        case 0x87: {
          if (nc.excludedIP.some((r) => matchIP(e.data, r))) return "IP address is excluded";
          if (nc.permittedIP.length > 0 && !nc.permittedIP.some((r) => matchIP(e.data, r))) return "IP address is not permitted";
          break;
        }
      }
      if (err !== null) return err;
    }
  } catch (e) {
    if (e instanceof BuiltinError) return e.message;
    throw e;
  }
  return null;
}

// ---- Certificate policies (RFC 5280 §6.1.3–6.1.5) ----------------------------------------------

export const ANY_POLICY = "2.5.29.32.0";

export interface PolicyInfo {
  /** Certificate policy OIDs, or null without a certificatePolicies extension. */
  policies: string[] | null;
  mappings: [string, string][];
  requireExplicit: number | null;
  inhibitMapping: number | null;
  inhibitAny: number | null;
  selfIssued: boolean;
}

export function policyOids(value: Buffer): string[] {
  return children(parseDer(value)).map((pi) => oidString(children(pi)[0]));
}

interface PolicyNode {
  policy: string;
  expected: Set<string>;
  parent: PolicyNode | null;
  children: PolicyNode[];
}

/**
 * Policy processing for a path whose certificates are given from the one the trust anchor issued
 * down to the leaf (the trust anchor itself is not processed), with any-policy as the user's
 * policy set and no initial inhibitions. Returns whether the path is acceptable.
 */
export function policiesValid(path: PolicyInfo[]): boolean {
  const n = path.length;
  if (n === 0) return true;
  let explicit = n + 1;
  let mapping = n + 1;
  let inhibitAny = n + 1;
  const root: PolicyNode = { policy: ANY_POLICY, expected: new Set([ANY_POLICY]), parent: null, children: [] };
  let levels: PolicyNode[][] | null = [[root]];

  const prune = (lv: PolicyNode[][]): PolicyNode[][] | null => {
    // Remove nodes above the deepest level that have no children, bottom up.
    for (let d = lv.length - 2; d >= 0; d--) {
      const keep = lv[d].filter((node) => node.children.length > 0);
      for (const gone of lv[d].filter((node) => node.children.length === 0)) {
        if (gone.parent) gone.parent.children = gone.parent.children.filter((c) => c !== gone);
      }
      lv[d] = keep;
    }
    return lv[0].length === 0 ? null : lv;
  };

  for (let i = 1; i <= n; i++) {
    const cert = path[i - 1];
    // (d) process the policies of this certificate
    if (cert.policies !== null && levels !== null) {
      const prev = levels[levels.length - 1];
      const next: PolicyNode[] = [];
      const add = (parent: PolicyNode, policy: string, expected: Set<string>) => {
        const node: PolicyNode = { policy, expected, parent, children: [] };
        parent.children.push(node);
        next.push(node);
      };
      for (const p of cert.policies) {
        if (p === ANY_POLICY) continue;
        let matched = false;
        for (const node of prev) {
          if (node.expected.has(p)) {
            add(node, p, new Set([p]));
            matched = true;
          }
        }
        if (!matched) for (const node of prev) if (node.policy === ANY_POLICY) add(node, p, new Set([p]));
      }
      if (cert.policies.includes(ANY_POLICY) && (inhibitAny > 0 || (i < n && cert.selfIssued))) {
        for (const node of prev) {
          for (const e of node.expected) {
            if (!node.children.some((c) => c.policy === e)) add(node, e, new Set([e]));
          }
        }
      }
      levels.push(next);
      levels = prune(levels);
    }
    // (e) without policies the tree is gone
    if (cert.policies === null) levels = null;
    // (f)
    if (explicit <= 0 && levels === null) return false;
    if (i === n) break;
    // Preparation for the next certificate (§6.1.4)
    for (const [from, to] of cert.mappings) if (from === ANY_POLICY || to === ANY_POLICY) return false;
    if (levels !== null && cert.mappings.length > 0) {
      const depth = levels.length - 1;
      const level = levels[depth];
      const byIssuer = new Map<string, Set<string>>();
      for (const [from, to] of cert.mappings) {
        if (!byIssuer.has(from)) byIssuer.set(from, new Set());
        byIssuer.get(from)!.add(to);
      }
      if (mapping > 0) {
        for (const [from, tos] of byIssuer) {
          const nodes = level.filter((node) => node.policy === from);
          if (nodes.length > 0) for (const node of nodes) node.expected = new Set(tos);
          else {
            const anyNode = level.find((node) => node.policy === ANY_POLICY);
            if (anyNode && anyNode.parent) {
              const node: PolicyNode = { policy: from, expected: new Set(tos), parent: anyNode.parent, children: [] };
              anyNode.parent.children.push(node);
              level.push(node);
            }
          }
        }
      } else {
        for (const from of byIssuer.keys()) {
          for (const node of level.filter((x) => x.policy === from)) {
            if (node.parent) node.parent.children = node.parent.children.filter((c) => c !== node);
          }
          levels[depth] = levels[depth].filter((x) => x.policy !== from);
        }
        levels = prune(levels);
      }
    }
    if (!cert.selfIssued) {
      if (explicit > 0) explicit--;
      if (mapping > 0) mapping--;
      if (inhibitAny > 0) inhibitAny--;
    }
    if (cert.requireExplicit !== null && cert.requireExplicit < explicit) explicit = cert.requireExplicit;
    if (cert.inhibitMapping !== null && cert.inhibitMapping < mapping) mapping = cert.inhibitMapping;
    if (cert.inhibitAny !== null && cert.inhibitAny < inhibitAny) inhibitAny = cert.inhibitAny;
  }
  // Wrap-up (§6.1.5)
  const leaf = path[n - 1];
  if (explicit > 0) explicit--;
  if (leaf.requireExplicit === 0) explicit = 0;
  return explicit > 0 || levels !== null;
}

// ---- URI syntax (for subjectAltName URIs) ------------------------------------------------------

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Characters a host may carry unescaped (RFC 3986 unreserved and sub-delims, plus the IP-literal and port punctuation). */
function hostCharOK(c: string): boolean {
  return /[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"]/.test(c);
}

function checkEscapes(s: string, host: boolean): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "%") {
      const hex = s.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return `invalid URL escape ${goQuote(s.slice(i, i + 3))}`;
      // In a host only escapes of non-ASCII bytes, and "%25" (a zone's "%"), are allowed.
      if (host && parseInt(hex[0], 16) < 8 && s.slice(i, i + 3) !== "%25") return `invalid URL escape ${goQuote(s.slice(i, i + 3))}`;
      i += 2;
    } else if (host && c.charCodeAt(0) < 0x80 && !hostCharOK(c)) {
      return `invalid character ${goQuote(c)} in host name`;
    }
  }
  return null;
}

function validOptionalPort(port: string): boolean {
  return port === "" || /^:[0-9]*$/.test(port);
}

/**
 * Why a URI does not parse as a URL (RFC 3986 syntax with the leniencies of Go's url.Parse), or
 * else its host: the authority after any userinfo, port kept, unescaped ("" when none).
 */
export function urlParseError(raw: string): { error: string } | { host: string } {
  if (/[\x00-\x1f\x7f]/.test(raw)) return { error: "net/url: invalid control character in URL" };
  let rest = raw;
  const hash = rest.indexOf("#");
  if (hash >= 0) {
    const e = checkEscapes(rest.slice(hash + 1), false);
    if (e) return { error: e };
    rest = rest.slice(0, hash);
  }
  let scheme = "";
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ":") {
      if (i === 0) return { error: "missing protocol scheme" };
      scheme = rest.slice(0, i);
      rest = rest.slice(i + 1);
    }
    break;
  }
  if (rest.endsWith("?") && rest.indexOf("?") === rest.length - 1) rest = rest.slice(0, -1);
  else {
    const q = rest.indexOf("?");
    if (q >= 0) rest = rest.slice(0, q);
  }
  if (!rest.startsWith("/")) {
    if (scheme !== "") return { host: "" };
    const slash = rest.indexOf("/");
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(":")) return { error: "first path segment in URL cannot contain colon" };
  }
  let host = "";
  if ((scheme !== "" || !rest.startsWith("///")) && rest.startsWith("//")) {
    let authority = rest.slice(2);
    const slash = authority.indexOf("/");
    rest = slash >= 0 ? authority.slice(slash) : "";
    if (slash >= 0) authority = authority.slice(0, slash);
    const at = authority.lastIndexOf("@");
    let h = authority;
    if (at >= 0) {
      const user = authority.slice(0, at);
      if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(user)) return { error: "net/url: invalid userinfo" };
      const e = checkEscapes(user, false);
      if (e) return { error: e };
      h = authority.slice(at + 1);
    }
    if (h.startsWith("[")) {
      const close = h.lastIndexOf("]");
      if (close < 0) return { error: "missing ']' in host" };
      const port = h.slice(close + 1);
      if (!validOptionalPort(port)) return { error: `invalid port ${goQuote(port)} after host` };
    } else {
      const colon = h.lastIndexOf(":");
      if (colon >= 0 && !validOptionalPort(h.slice(colon))) return { error: `invalid port ${goQuote(h.slice(colon))} after host` };
    }
    const e = checkEscapes(h, true);
    if (e) return { error: e };
    try {
      host = decodeURIComponent(h);
    } catch {
      host = h;
    }
  }
  const e = checkEscapes(rest, false);
  if (e) return { error: e };
  return { host };
}
