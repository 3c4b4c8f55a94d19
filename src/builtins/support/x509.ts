// X.509 certificates, CSRs and private keys, decoded into the JSON shapes OPA produces (which are
// those of Go's crypto/x509 structures marshalled to JSON), plus chain verification.

import { nodeCrypto } from "../../lazy.ts";
import type { KeyObject, X509Certificate } from "node:crypto";
import type { Value, PlainObject } from "../../rego/value.ts";
import { fromBigInt, isInteger, isNumber, isPlainObject, RSet, toJsNumber } from "../../rego/value.ts";
import { BuiltinError } from "../registry.ts";
import {
  DerError,
  type Node,
  TAG,
  bigFromBytes,
  bigIntOf,
  bitString,
  boolOf,
  children,
  content,
  expectTag,
  intOf,
  isStringTag,
  oidArcs,
  oidString,
  parseDer,
  raw,
  readNode,
  stringOf,
  timeOf,
  goOuterSequenceError,
} from "./der.ts";
import { Base64Error, b64, goBase64Decode } from "./encoding.ts";
import { goQuote } from "../../gotext/fmt.ts";
import {
  type NameConstraints,
  type PolicyInfo,
  type SanEntry,
  checkNames,
  parseNameConstraints,
  reverseLabels,
  urlParseError,
  policiesValid,
  policyOids,
} from "./x509checks.ts";

// ---- PEM ------------------------------------------------------------------------------------

export interface PemBlock {
  type: string;
  bytes: Buffer;
}

/** All PEM blocks in a text, in order (like repeated Go pem.Decode calls; junk is skipped). */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([^\r\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const lines = m[2].split(/\r?\n/);
    // Drop RFC 1421 headers (lines with a colon before the first blank line).
    let body = lines;
    if (lines.some((l) => l.includes(":"))) {
      const blank = lines.indexOf("");
      if (blank >= 0) body = lines.slice(blank + 1);
    }
    const b64text = body.join("").replace(/\s+/g, "");
    let bytes: Buffer;
    try {
      bytes = goBase64Decode(b64text, false, true);
    } catch {
      continue;
    }
    out.push({ type: m[1], bytes });
  }
  return out;
}

// ---- Names ----------------------------------------------------------------------------------

const NAME_FIELDS: Record<string, string> = {
  "2.5.4.6": "Country",
  "2.5.4.10": "Organization",
  "2.5.4.11": "OrganizationalUnit",
  "2.5.4.7": "Locality",
  "2.5.4.8": "Province",
  "2.5.4.9": "StreetAddress",
  "2.5.4.17": "PostalCode",
};

function attrValue(n: Node): Value {
  if (isStringTag(n.tag)) return stringOf(n);
  switch (n.tag) {
    case TAG.INTEGER:
      return fromBigInt(bigIntOf(n));
    case TAG.BOOLEAN:
      return boolOf(n);
    case TAG.OID:
      return oidArcs(n);
    case TAG.UTCTime:
    case TAG.GeneralizedTime:
      return timeOf(n).iso;
  }
  return b64(content(n));
}

function nameToValue(n: Node): PlainObject {
  const out: PlainObject = {
    Country: null,
    Organization: null,
    OrganizationalUnit: null,
    Locality: null,
    Province: null,
    StreetAddress: null,
    PostalCode: null,
    SerialNumber: "",
    CommonName: "",
    Names: null,
    ExtraNames: null,
  };
  const names: Value[] = [];
  for (const rdn of children(n)) {
    for (const atv of children(rdn)) {
      const [t, v] = children(atv);
      const type = oidArcs(t);
      const value = attrValue(v);
      names.push({ Type: type, Value: value });
      if (typeof value !== "string") continue;
      const key = type.join(".");
      const field = NAME_FIELDS[key];
      if (field) {
        const arr = (out[field] as Value[] | null) ?? [];
        arr.push(value);
        out[field] = arr;
      } else if (key === "2.5.4.3") out.CommonName = value;
      else if (key === "2.5.4.5") out.SerialNumber = value;
    }
  }
  if (names.length > 0) out.Names = names;
  return out;
}

// ---- Algorithms -----------------------------------------------------------------------------

const SIG_ALGS: Record<string, number> = {
  "1.2.840.113549.1.1.2": 1,
  "1.2.840.113549.1.1.4": 2,
  "1.2.840.113549.1.1.5": 3,
  "1.3.14.3.2.29": 3,
  "1.2.840.113549.1.1.11": 4,
  "1.2.840.113549.1.1.12": 5,
  "1.2.840.113549.1.1.13": 6,
  "1.2.840.10040.4.3": 7,
  "2.16.840.1.101.3.4.3.2": 8,
  "1.2.840.10045.4.1": 9,
  "1.2.840.10045.4.3.2": 10,
  "1.2.840.10045.4.3.3": 11,
  "1.2.840.10045.4.3.4": 12,
  "1.3.101.112": 16,
};

function signatureAlgorithm(algId: Node): number {
  const parts = children(algId);
  const oid = oidString(parts[0]);
  if (oid === "1.2.840.113549.1.1.10") {
    // RSASSA-PSS: the hash is in the parameters.
    try {
      const params = children(parts[1]);
      const hashField = params.find((p) => p.tag === 0xa0);
      const hashOid = hashField ? oidString(children(children(hashField)[0])[0]) : "1.3.14.3.2.26";
      if (hashOid === "2.16.840.1.101.3.4.2.1") return 13;
      if (hashOid === "2.16.840.1.101.3.4.2.2") return 14;
      if (hashOid === "2.16.840.1.101.3.4.2.3") return 15;
    } catch {
      return 0;
    }
    return 0;
  }
  return SIG_ALGS[oid] ?? 0;
}


const CURVES: Record<string, { name: string; size: number }> = {
  "1.2.840.10045.3.1.7": { name: "P-256", size: 32 },
  "1.3.132.0.34": { name: "P-384", size: 48 },
  "1.3.132.0.35": { name: "P-521", size: 66 },
  "1.2.840.10045.3.1.1": { name: "P-224", size: 28 },
};

interface PublicKeyInfo {
  algorithm: number;
  value: Value;
  /** Modulus size of an RSA key. */
  rsaBits?: number;
}

function publicKeyInfo(spki: Node): PublicKeyInfo {
  const [algId, keyBits] = children(spki);
  const algParts = children(algId);
  const oid = oidString(algParts[0]);
  const { bytes } = bitString(keyBits);
  switch (oid) {
    case "1.2.840.113549.1.1.1": {
      const [n, e] = children(parseDer(bytes));
      const nv = bigIntOf(n);
      return { algorithm: 1, value: { N: fromBigInt(nv), E: fromBigInt(bigIntOf(e)) }, rsaBits: nv > 0n ? nv.toString(2).length : 0 };
    }
    case "1.2.840.10045.2.1": {
      const curve = algParts[1] && algParts[1].tag === TAG.OID ? CURVES[oidString(algParts[1])] : undefined;
      if (!curve) throw new BuiltinError("x509: unsupported elliptic curve");
      if (bytes[0] !== 4 || bytes.length !== 1 + 2 * curve.size) throw new BuiltinError("x509: failed to unmarshal elliptic curve point");
      const x = bigFromBytes(bytes.subarray(1, 1 + curve.size));
      const y = bigFromBytes(bytes.subarray(1 + curve.size));
      return { algorithm: 3, value: { Curve: {}, X: fromBigInt(x), Y: fromBigInt(y) } };
    }
    case "1.3.101.112":
      return { algorithm: 4, value: b64(bytes) };
    case "1.2.840.10040.4.1": {
      const y = bigIntOf(parseDer(bytes));
      let params: Value = { P: null, Q: null, G: null };
      if (algParts[1] && algParts[1].tag === TAG.SEQUENCE) {
        const [p, q, g] = children(algParts[1]);
        params = { P: fromBigInt(bigIntOf(p)), Q: fromBigInt(bigIntOf(q)), G: fromBigInt(bigIntOf(g)) };
      }
      return { algorithm: 2, value: { Parameters: params, Y: fromBigInt(y) } };
    }
  }
  return { algorithm: 0, value: null };
}

// ---- IPs and URLs ---------------------------------------------------------------------------

export function ipString(b: Buffer): string {
  if (b.length === 4) return Array.from(b).join(".");
  if (b.length !== 16) return "?" + b.toString("hex");
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return Array.from(b.subarray(12)).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(":");
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(":");
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(":");
  return head + "::" + tail;
}

/** A URL as Go's url.URL marshals to JSON (its exported fields). */
export function goURL(s: string): PlainObject {
  const u: PlainObject = {
    Scheme: "",
    Opaque: "",
    User: null,
    Host: "",
    Path: "",
    RawPath: "",
    OmitHost: false,
    ForceQuery: false,
    RawQuery: "",
    Fragment: "",
    RawFragment: "",
  };
  let rest = s;
  const hash = rest.indexOf("#");
  if (hash >= 0) {
    const frag = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
    u.Fragment = safeUnescape(frag);
    if (encodeFragment(u.Fragment as string) !== frag) u.RawFragment = frag;
  }
  const sm = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (sm) {
    u.Scheme = sm[1].toLowerCase();
    rest = rest.slice(sm[0].length);
  }
  if (rest.endsWith("?") && rest.split("?").length === 2) {
    u.ForceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf("?");
    if (q >= 0) {
      u.RawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith("/") && u.Scheme !== "") {
    u.Opaque = rest;
    return u;
  }
  if (rest.startsWith("//") && (u.Scheme !== "" || true)) {
    let authority = rest.slice(2);
    const slash = authority.indexOf("/");
    let path = "";
    if (slash >= 0) {
      path = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const at = authority.lastIndexOf("@");
    if (at >= 0) {
      u.User = {};
      authority = authority.slice(at + 1);
    }
    u.Host = safeUnescape(authority);
    if (authority === "" && path === "") u.OmitHost = false;
    rest = path;
  }
  u.Path = safeUnescape(rest);
  if (encodePath(u.Path as string) !== rest) u.RawPath = rest;
  return u;
}

function safeUnescape(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function encodePath(s: string): string {
  return s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/g, (c) =>
    Array.from(Buffer.from(c, "utf8"), (b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join(""),
  );
}

function encodeFragment(s: string): string {
  return s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]/g, (c) =>
    Array.from(Buffer.from(c, "utf8"), (b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join(""),
  );
}

// ---- Certificates ---------------------------------------------------------------------------

export interface Cert {
  der: Buffer;
  tbs: Buffer;
  rawSubject: Buffer;
  rawIssuer: Buffer;
  value: PlainObject;
  notBeforeMs: number;
  notAfterMs: number;
  sigAlg: number;
  dnsNames: string[];
  ips: Buffer[];
  extKeyUsage: number[];
  unknownEku: number;
  uriStrings: string[];
  isCA: boolean;
  bcValid: boolean;
  maxPathLen: number;
  unhandledCritical: number;
  subjectKeyId: Buffer | null;
  authorityKeyId: Buffer | null;
  version: number;
  keyUsage: number;
  rawSPKI: Buffer;
  publicKeyAlgorithm: number;
  rsaBits: number | null;
  /** The subjectAltName entries, or null without that extension. */
  san: SanEntry[] | null;
  rawSAN: Buffer | null;
  /** Name constraints, or null without that extension. */
  nc: NameConstraints | null;
  policy: PolicyInfo;
}

const EKU_OIDS: Record<string, number> = {
  "2.5.29.37.0": 0,
  "1.3.6.1.5.5.7.3.1": 1,
  "1.3.6.1.5.5.7.3.2": 2,
  "1.3.6.1.5.5.7.3.3": 3,
  "1.3.6.1.5.5.7.3.4": 4,
  "1.3.6.1.5.5.7.3.5": 5,
  "1.3.6.1.5.5.7.3.6": 6,
  "1.3.6.1.5.5.7.3.7": 7,
  "1.3.6.1.5.5.7.3.8": 8,
  "1.3.6.1.5.5.7.3.9": 9,
  "1.3.6.1.4.1.311.10.3.3": 10,
  "2.16.840.1.113730.4.1": 11,
  "1.3.6.1.4.1.311.2.1.22": 12,
  "1.3.6.1.4.1.311.61.1.1": 13,
};

interface SanResult {
  dns: string[];
  emails: string[];
  ips: Buffer[];
  uris: string[];
  entries: SanEntry[];
}

const SAN_KINDS: Record<number, string> = { 0x81: "rfc822Name", 0x82: "dNSName", 0x86: "uniformResourceIdentifier" };

function parseSAN(extValue: Buffer): SanResult {
  const r: SanResult = { dns: [], emails: [], ips: [], uris: [], entries: [] };
  for (const gn of children(parseDer(extValue))) {
    const c = content(gn);
    r.entries.push({ tag: gn.tag, data: Buffer.from(c) });
    const kind = SAN_KINDS[gn.tag];
    if (kind && c.some((b) => b >= 0x80)) throw new BuiltinError(`x509: SAN ${kind} is malformed`);
    if (gn.tag === 0x86) {
      const uri = c.toString("latin1");
      const parsed = urlParseError(uri);
      if ("error" in parsed) throw new BuiltinError(`x509: cannot parse URI ${goQuote(uri)}: parse ${goQuote(uri)}: ${parsed.error}`);
      if (parsed.host !== "" && reverseLabels(parsed.host) === null) throw new BuiltinError(`x509: cannot parse URI ${goQuote(uri)}: invalid domain`);
    }
    switch (gn.tag) {
      case 0x82:
        r.dns.push(c.toString("latin1"));
        break;
      case 0x81:
        r.emails.push(c.toString("latin1"));
        break;
      case 0x87:
        if (c.length !== 4 && c.length !== 16) throw new BuiltinError("x509: cannot parse IP address of length " + c.length);
        r.ips.push(Buffer.from(c));
        break;
      case 0x86:
        r.uris.push(c.toString("latin1"));
        break;
    }
  }
  return r;
}

const HANDLED_EXTS = new Set([
  "2.5.29.15",
  "2.5.29.19",
  "2.5.29.17",
  "2.5.29.30",
  "2.5.29.31",
  "2.5.29.35",
  "2.5.29.37",
  "2.5.29.14",
  "2.5.29.32",
  "2.5.29.54",
  "2.5.29.36",
  "2.5.29.33",
  "1.3.6.1.5.5.7.1.1",
]);

function malformed(): BuiltinError {
  return new BuiltinError("x509: malformed certificate");
}

/** Decode one DER certificate. */
export function parseCertificate(der: Buffer): Cert {
  let top: Node;
  try {
    top = parseDer(der);
    expectTag(top, TAG.SEQUENCE);
  } catch {
    throw malformed();
  }
  try {
    return parseCertificateInner(der, top);
  } catch (e) {
    if (e instanceof BuiltinError) throw e;
    throw malformed();
  }
}

function parseCertificateInner(der: Buffer, top: Node): Cert {
  const [tbsNode, sigAlgNode, sigNode] = children(top);
  expectTag(tbsNode, TAG.SEQUENCE);
  const tbs = children(tbsNode);
  let i = 0;
  let version = 1;
  if (tbs[i].tag === 0xa0) {
    version = intOf(children(tbs[i])[0]) + 1;
    i++;
  }
  const serial = bigIntOf(expectTag(tbs[i++], TAG.INTEGER));
  i++; // inner signature algorithm
  const issuer = tbs[i++];
  const validity = children(tbs[i++]);
  const subject = tbs[i++];
  const spki = tbs[i++];
  let extsNode: Node | undefined;
  for (; i < tbs.length; i++) if (tbs[i].tag === 0xa3) extsNode = children(tbs[i])[0];

  const nb = timeOf(validity[0]);
  const na = timeOf(validity[1]);
  const pk = publicKeyInfo(spki);
  const sigAlg = signatureAlgorithm(sigAlgNode);

  const v: PlainObject = {
    Raw: b64(der),
    RawTBSCertificate: b64(raw(tbsNode)),
    RawSubjectPublicKeyInfo: b64(raw(spki)),
    RawSubject: b64(raw(subject)),
    RawIssuer: b64(raw(issuer)),
    Signature: b64(bitString(sigNode).bytes),
    SignatureAlgorithm: sigAlg,
    PublicKeyAlgorithm: pk.algorithm,
    PublicKey: pk.value,
    Version: version,
    SerialNumber: fromBigInt(serial),
    Issuer: nameToValue(issuer),
    Subject: nameToValue(subject),
    NotBefore: nb.iso,
    NotAfter: na.iso,
    KeyUsage: 0,
    Extensions: null,
    ExtraExtensions: null,
    UnhandledCriticalExtensions: null,
    ExtKeyUsage: null,
    UnknownExtKeyUsage: null,
    BasicConstraintsValid: false,
    IsCA: false,
    MaxPathLen: 0,
    MaxPathLenZero: false,
    SubjectKeyId: null,
    AuthorityKeyId: null,
    OCSPServer: null,
    IssuingCertificateURL: null,
    DNSNames: null,
    EmailAddresses: null,
    IPAddresses: null,
    URIs: null,
    PermittedDNSDomainsCritical: false,
    PermittedDNSDomains: null,
    ExcludedDNSDomains: null,
    PermittedIPRanges: null,
    ExcludedIPRanges: null,
    PermittedEmailAddresses: null,
    ExcludedEmailAddresses: null,
    PermittedURIDomains: null,
    ExcludedURIDomains: null,
    CRLDistributionPoints: null,
    PolicyIdentifiers: null,
    Policies: null,
    InhibitAnyPolicy: 0,
    InhibitAnyPolicyZero: false,
    InhibitPolicyMapping: 0,
    InhibitPolicyMappingZero: false,
    RequireExplicitPolicy: 0,
    RequireExplicitPolicyZero: false,
    PolicyMappings: null,
  };
  const cert: Cert = {
    der,
    tbs: raw(tbsNode),
    rawSubject: raw(subject),
    rawIssuer: raw(issuer),
    value: v,
    notBeforeMs: nb.ms,
    notAfterMs: na.ms,
    sigAlg,
    dnsNames: [],
    ips: [],
    extKeyUsage: [],
    unknownEku: 0,
    uriStrings: [],
    isCA: false,
    bcValid: false,
    maxPathLen: 0,
    unhandledCritical: 0,
    subjectKeyId: null,
    authorityKeyId: null,
    version,
    keyUsage: 0,
    rawSPKI: raw(spki),
    publicKeyAlgorithm: pk.algorithm,
    rsaBits: pk.rsaBits ?? null,
    san: null,
    rawSAN: null,
    nc: null,
    policy: {
      policies: null,
      mappings: [],
      requireExplicit: null,
      inhibitMapping: null,
      inhibitAny: null,
      selfIssued: raw(subject).equals(raw(issuer)),
    },
  };

  if (extsNode) {
    const exts: Value[] = [];
    const unhandled: Value[] = [];
    for (const ext of children(extsNode)) {
      const parts = children(ext);
      const idArcs = oidArcs(parts[0]);
      const id = idArcs.join(".");
      let critical = false;
      let valNode = parts[1];
      if (parts[1].tag === TAG.BOOLEAN) {
        critical = boolOf(parts[1]);
        valNode = parts[2];
      }
      const value = content(valNode);
      exts.push({ Id: idArcs, Critical: critical, Value: b64(value) });
      applyExtension(id, critical, Buffer.from(value), v, cert);
      // A name-constraints extension with a name form that is not checked is not understood.
      if (critical && (!HANDLED_EXTS.has(id) || (id === "2.5.29.30" && cert.nc?.unhandled))) unhandled.push(idArcs);
    }
    v.Extensions = exts;
    if (unhandled.length > 0) {
      v.UnhandledCriticalExtensions = unhandled;
      cert.unhandledCritical = unhandled.length;
    }
  }
  return cert;
}

function applyExtension(id: string, critical: boolean, value: Buffer, v: PlainObject, cert: Cert): void {
  switch (id) {
    case "2.5.29.15": {
      const { bytes } = bitString(parseDer(value));
      let usage = 0;
      for (let i = 0; i < 9; i++) {
        const byte = bytes[i >> 3];
        if (byte !== undefined && byte & (0x80 >> (i & 7))) usage |= 1 << i;
      }
      v.KeyUsage = usage;
      cert.keyUsage = usage;
      break;
    }
    case "2.5.29.19": {
      const parts = children(parseDer(value));
      let isCA = false;
      let maxPathLen = -1;
      for (const p of parts) {
        if (p.tag === TAG.BOOLEAN) isCA = boolOf(p);
        else if (p.tag === TAG.INTEGER) maxPathLen = intOf(p);
      }
      v.BasicConstraintsValid = true;
      v.IsCA = isCA;
      v.MaxPathLen = maxPathLen;
      v.MaxPathLenZero = maxPathLen === 0;
      cert.bcValid = true;
      cert.isCA = isCA;
      cert.maxPathLen = maxPathLen;
      break;
    }
    case "2.5.29.17": {
      const san = parseSAN(value);
      if (san.dns.length) v.DNSNames = san.dns;
      if (san.emails.length) v.EmailAddresses = san.emails;
      if (san.ips.length) v.IPAddresses = san.ips.map(ipString);
      if (san.uris.length) {
        v.URIs = san.uris.map(goURL);
      }
      cert.dnsNames = san.dns;
      cert.uriStrings = san.uris;
      cert.ips = san.ips;
      cert.san = san.entries;
      cert.rawSAN = value;
      break;
    }
    case "2.5.29.30": {
      cert.nc = parseNameConstraints(value);
      v.PermittedDNSDomainsCritical = critical;
      for (const sub of children(parseDer(value))) {
        const prefix = sub.num === 0 ? "Permitted" : "Excluded";
        const dns: string[] = [];
        const ips: Value[] = [];
        const emails: string[] = [];
        const uris: string[] = [];
        for (const subtree of children(sub)) {
          const base = children(subtree)[0];
          const c = content(base);
          switch (base.tag) {
            case 0x82:
              dns.push(c.toString("latin1"));
              break;
            case 0x87: {
              const half = c.length / 2;
              ips.push({ IP: ipString(Buffer.from(c.subarray(0, half))), Mask: b64(c.subarray(half)) });
              break;
            }
            case 0x81:
              emails.push(c.toString("latin1"));
              break;
            case 0x86:
              uris.push(c.toString("latin1"));
              break;
          }
        }
        if (dns.length) v[prefix + "DNSDomains"] = dns;
        if (ips.length) v[prefix + "IPRanges"] = ips;
        if (emails.length) v[prefix + "EmailAddresses"] = emails;
        if (uris.length) v[prefix + "URIDomains"] = uris;
      }
      break;
    }
    case "2.5.29.31": {
      const urls: string[] = [];
      for (const dp of children(parseDer(value))) {
        for (const f of children(dp)) {
          if (f.tag !== 0xa0) continue;
          for (const name of children(f)) {
            if (name.tag !== 0xa0) continue;
            for (const gn of children(name)) if (gn.tag === 0x86) urls.push(content(gn).toString("latin1"));
          }
        }
      }
      if (urls.length) v.CRLDistributionPoints = urls;
      break;
    }
    case "2.5.29.35": {
      for (const p of children(parseDer(value))) {
        if (p.tag === 0x80) {
          v.AuthorityKeyId = b64(content(p));
          cert.authorityKeyId = Buffer.from(content(p));
        }
      }
      break;
    }
    case "2.5.29.14": {
      const n = parseDer(value);
      v.SubjectKeyId = b64(content(n));
      cert.subjectKeyId = Buffer.from(content(n));
      break;
    }
    case "2.5.29.37": {
      const known: number[] = [];
      const unknown: Value[] = [];
      for (const o of children(parseDer(value))) {
        const s = oidString(o);
        if (s in EKU_OIDS) known.push(EKU_OIDS[s]);
        else unknown.push(oidArcs(o));
      }
      if (known.length) v.ExtKeyUsage = known;
      if (unknown.length) v.UnknownExtKeyUsage = unknown;
      cert.extKeyUsage = known;
      cert.unknownEku = unknown.length;
      break;
    }
    case "2.5.29.32": {
      const ids: Value[] = [];
      const strs: Value[] = [];
      for (const pi of children(parseDer(value))) {
        const o = children(pi)[0];
        ids.push(oidArcs(o));
        strs.push(oidString(o));
      }
      if (ids.length) {
        v.PolicyIdentifiers = ids;
        v.Policies = strs;
      }
      cert.policy.policies = policyOids(value);
      break;
    }
    case "2.5.29.54": {
      const n = intOf(parseDer(value));
      v.InhibitAnyPolicy = n;
      v.InhibitAnyPolicyZero = n === 0;
      cert.policy.inhibitAny = n;
      break;
    }
    case "2.5.29.36": {
      for (const p of children(parseDer(value))) {
        const n = bigIntOf({ ...p, tag: TAG.INTEGER });
        if (p.num === 0) {
          v.RequireExplicitPolicy = Number(n);
          v.RequireExplicitPolicyZero = n === 0n;
          cert.policy.requireExplicit = Number(n);
        } else if (p.num === 1) {
          v.InhibitPolicyMapping = Number(n);
          v.InhibitPolicyMappingZero = n === 0n;
          cert.policy.inhibitMapping = Number(n);
        }
      }
      break;
    }
    case "2.5.29.33": {
      const maps: Value[] = [];
      for (const m of children(parseDer(value))) {
        const [a, b] = children(m);
        maps.push({ IssuerDomainPolicy: oidString(a), SubjectDomainPolicy: oidString(b) });
        cert.policy.mappings.push([oidString(a), oidString(b)]);
      }
      if (maps.length) v.PolicyMappings = maps;
      break;
    }
    case "1.3.6.1.5.5.7.1.1": {
      const ocsp: string[] = [];
      const issuers: string[] = [];
      for (const ad of children(parseDer(value))) {
        const [method, loc] = children(ad);
        if (loc.tag !== 0x86) continue;
        const m = oidString(method);
        const url = content(loc).toString("latin1");
        if (m === "1.3.6.1.5.5.7.48.1") ocsp.push(url);
        else if (m === "1.3.6.1.5.5.7.48.2") issuers.push(url);
      }
      if (ocsp.length) v.OCSPServer = ocsp;
      if (issuers.length) v.IssuingCertificateURL = issuers;
      break;
    }
  }
}

/** A certificate as Go's x509.Certificate marshals to JSON. */
export function certificateToValue(c: Cert): Value {
  return c.value;
}

/** parse_certificates adds the URIs as plain strings. */
export function certificateWithURIStrings(c: Cert): Value {
  return { ...c.value, URIStrings: c.uriStrings.length ? c.uriStrings : null };
}

/** Concatenated DER certificates. */
function parseDerCertificates(buf: Buffer): Cert[] {
  const out: Cert[] = [];
  let p = 0;
  while (p < buf.length) {
    let n: Node;
    try {
      n = readNode(buf, p);
    } catch {
      throw malformed();
    }
    out.push(parseCertificate(Buffer.from(buf.subarray(p, n.end))));
    p = n.end;
  }
  return out;
}

function b64OrThrow(s: string): Buffer {
  try {
    return goBase64Decode(s, false, true);
  } catch (e) {
    if (e instanceof Base64Error) throw new BuiltinError(e.message);
    throw e;
  }
}

/** The certificates of a PEM text, base64 PEM, or base64 DER (one or more). */
export function parseCertificatesInput(s: string): Cert[] {
  let text: string | null = null;
  if (s.startsWith("-----BEGIN")) text = s;
  else {
    const bytes = b64OrThrow(s);
    if (bytes.subarray(0, 10).toString("latin1") === "-----BEGIN") text = bytes.toString("utf8");
    else return parseDerCertificates(bytes);
  }
  const out: Cert[] = [];
  for (const block of pemBlocks(text)) {
    if (block.type !== "CERTIFICATE") throw new BuiltinError(`PEM block type is '${block.type}', expected CERTIFICATE`);
    out.push(...parseDerCertificates(block.bytes));
  }
  return out;
}

// ---- Certificate requests -------------------------------------------------------------------

export function parseCertificateRequestInput(s: string): PlainObject {
  let der: Buffer;
  const direct = pemBlocks(s);
  if (direct.length > 0 && direct[0].type === "CERTIFICATE REQUEST") der = direct[0].bytes;
  else {
    const bytes = b64OrThrow(s);
    const blocks = pemBlocks(bytes.toString("utf8"));
    der = blocks.length > 0 ? blocks[0].bytes : bytes;
  }
  const outer = goOuterSequenceError(der, "certificateRequest");
  if (outer !== null) throw new BuiltinError(outer);
  try {
    return parseCSR(der);
  } catch (e) {
    if (e instanceof BuiltinError) throw e;
    if (e instanceof DerError) throw new BuiltinError("asn1: syntax error: " + e.message);
    throw new BuiltinError("x509: malformed certificate request");
  }
}

function parseCSR(der: Buffer): PlainObject {
  const top = parseDer(der);
  const [infoNode, sigAlgNode, sigNode] = children(top);
  const info = children(infoNode);
  const version = intOf(info[0]);
  const subject = info[1];
  const spki = info[2];
  const pk = publicKeyInfo(spki);
  const v: PlainObject = {
    Raw: b64(der),
    RawTBSCertificateRequest: b64(raw(infoNode)),
    RawSubjectPublicKeyInfo: b64(raw(spki)),
    RawSubject: b64(raw(subject)),
    Version: version,
    Signature: b64(bitString(sigNode).bytes),
    SignatureAlgorithm: signatureAlgorithm(sigAlgNode),
    PublicKeyAlgorithm: pk.algorithm,
    PublicKey: pk.value,
    Subject: nameToValue(subject),
    Attributes: null,
    Extensions: null,
    ExtraExtensions: null,
    DNSNames: null,
    EmailAddresses: null,
    IPAddresses: null,
    URIs: null,
  };
  const attrsNode = info[3];
  if (attrsNode && attrsNode.tag === 0xa0) {
    const attrs: Value[] = [];
    const exts: Value[] = [];
    for (const attr of children(attrsNode)) {
      const [typeNode, setNode] = children(attr);
      const type = oidArcs(typeNode);
      const values: Value[] = [];
      let ok = true;
      for (const val of children(setNode)) {
        // Go keeps attributes whose values are SEQUENCE OF (oid, value) pairs.
        if (val.tag !== TAG.SEQUENCE) {
          ok = false;
          break;
        }
        const inner: Value[] = [];
        for (const pair of children(val)) {
          const pc = children(pair);
          if (pc.length < 2 || pc[0].tag !== TAG.OID) {
            ok = false;
            break;
          }
          const last = pc[pc.length - 1];
          inner.push({ Type: oidArcs(pc[0]), Value: attrValue(last) });
        }
        if (!ok) break;
        values.push(inner);
      }
      if (ok) attrs.push({ Type: type, Value: values });
      if (oidString(typeNode) === "1.2.840.113549.1.9.14") {
        const extSeq = children(setNode)[0];
        for (const ext of children(extSeq)) {
          const parts = children(ext);
          const idArcs = oidArcs(parts[0]);
          let critical = false;
          let valNode = parts[1];
          if (parts[1].tag === TAG.BOOLEAN) {
            critical = boolOf(parts[1]);
            valNode = parts[2];
          }
          exts.push({ Id: idArcs, Critical: critical, Value: b64(content(valNode)) });
          if (idArcs.join(".") === "2.5.29.17") {
            const san = parseSAN(Buffer.from(content(valNode)));
            if (san.dns.length) v.DNSNames = san.dns;
            if (san.emails.length) v.EmailAddresses = san.emails;
            if (san.ips.length) v.IPAddresses = san.ips.map(ipString);
            if (san.uris.length) v.URIs = san.uris.map(goURL);
          }
        }
      }
    }
    if (attrs.length) v.Attributes = attrs;
    if (exts.length) v.Extensions = exts;
  }
  return v;
}

// ---- Chain verification ---------------------------------------------------------------------

const KEY_USAGE_NAMES: Record<string, number> = {
  KeyUsageAny: 0,
  KeyUsageServerAuth: 1,
  KeyUsageClientAuth: 2,
  KeyUsageCodeSigning: 3,
  KeyUsageEmailProtection: 4,
  KeyUsageIPSECEndSystem: 5,
  KeyUsageIPSECTunnel: 6,
  KeyUsageIPSECUser: 7,
  KeyUsageTimeStamping: 8,
  KeyUsageOCSPSigning: 9,
  KeyUsageMicrosoftServerGatedCrypto: 10,
  KeyUsageNetscapeServerGatedCrypto: 11,
  KeyUsageMicrosoftCommercialCodeSigning: 12,
  KeyUsageMicrosoftKernelCodeSigning: 13,
};

export interface VerifyOptions {
  dnsName?: string;
  currentTimeMs?: number;
  keyUsages: number[];
}

/** Validate the options object of parse_and_verify_certificates_with_options. */
export function parseVerifyOptions(o: PlainObject | null): VerifyOptions {
  const opts: VerifyOptions = { keyUsages: [1] };
  if (o === null) return opts;
  for (const key of Object.keys(o)) {
    const val = o[key];
    switch (key) {
      case "DNSName":
        if (typeof val !== "string") throw new BuiltinError("'DNSName' should be a string");
        opts.dnsName = val;
        break;
      case "CurrentTime":
        if (!isNumber(val)) throw new BuiltinError("'CurrentTime' should be a number");
        if (!isInteger(val)) throw new BuiltinError("'CurrentTime' should be a valid int64 number");
        opts.currentTimeMs = Math.floor(toJsNumber(val) / 1e6);
        break;
      case "MaxConstraintComparisons":
        if (!isNumber(val)) throw new BuiltinError("'MaxConstraintComparisons' should be a number");
        if (!isInteger(val)) throw new BuiltinError("'MaxConstraintComparisons' should be a valid number");
        break;
      case "KeyUsages": {
        let items: Value[];
        if (Array.isArray(val)) items = val;
        else if (val instanceof RSet) items = val.sorted();
        else throw new BuiltinError("'KeyUsages' should be an Array or Set");
        const bad: string[] = [];
        const usages: number[] = [];
        for (const it of items) {
          if (typeof it !== "string") continue;
          if (it in KEY_USAGE_NAMES) usages.push(KEY_USAGE_NAMES[it]);
          else bad.push(it);
        }
        if (bad.length) throw new BuiltinError(`invalid entries for 'KeyUsages' found: [${bad.join(" ")}]`);
        opts.keyUsages = usages;
        break;
      }
      default:
        throw new BuiltinError("invalid key option");
    }
  }
  return opts;
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, "");
  const h = host.toLowerCase().replace(/\.$/, "");
  if (p === h) return true;
  const pl = p.split(".");
  const hl = h.split(".");
  if (pl.length !== hl.length || pl[0] !== "*") return false;
  for (let i = 1; i < pl.length; i++) if (pl[i] !== hl[i]) return false;
  return true;
}

function verifyHostname(c: Cert, host: string): boolean {
  let h = host;
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  const ip = parseIP(h);
  if (ip) return c.ips.some((x) => ipString(x) === ipString(ip));
  return c.dnsNames.some((d) => hostMatches(d, h));
}

function parseIP(s: string): Buffer | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return null;
    return Buffer.from(parts);
  }
  if (!s.includes(":")) return null;
  try {
    const u = new URL(`http://[${s}]/`);
    const host = u.hostname.slice(1, -1);
    const [head, tail] = host.includes("::") ? host.split("::") : [host, null];
    const hg = head ? head.split(":") : [];
    const tg = tail ? tail.split(":") : [];
    const groups = tail === null ? hg : [...hg, ...Array(8 - hg.length - tg.length).fill("0"), ...tg];
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
    return out;
  } catch {
    return null;
  }
}

function nodeCert(c: Cert): X509Certificate | null {
  try {
    return new nodeCrypto.X509Certificate(c.der);
  } catch {
    return null;
  }
}

/** Signature algorithms Go refuses in chains: MD2, MD5, the SHA-1 ones, DSA, and unknown ones. */
const REFUSED_SIG_ALGS = new Set([0, 1, 2, 3, 7, 8, 9]);
const KEY_USAGE_CERT_SIGN = 1 << 5;

/** Whether `parent` may sign certificates and did sign `child` (Go's CheckSignatureFrom). */
function signedBy(child: Cert, parent: Cert): boolean {
  // RFC 5280 §4.2.1.9: a version 3 certificate needs basic constraints with cA to sign certificates.
  if ((parent.version === 3 && !parent.bcValid) || (parent.bcValid && !parent.isCA)) return false;
  // §4.2.1.3: when key usage is present, keyCertSign must be set.
  if (parent.keyUsage !== 0 && (parent.keyUsage & KEY_USAGE_CERT_SIGN) === 0) return false;
  if (parent.publicKeyAlgorithm === 0 || parent.publicKeyAlgorithm === 2) return false;
  if (REFUSED_SIG_ALGS.has(child.sigAlg)) return false;
  // Go's crypto/rsa refuses keys under 1024 bits.
  if (parent.rsaBits !== null && parent.rsaBits < 1024) return false;
  const c = nodeCert(child);
  const p = nodeCert(parent);
  if (!c || !p) return false;
  try {
    return c.verify(p.publicKey);
  } catch {
    return false;
  }
}

function ekuAllows(chain: Cert[], wanted: number[]): boolean {
  let usages = wanted.slice();
  for (let i = chain.length - 1; i >= 0; i--) {
    const c = chain[i];
    if (c.extKeyUsage.length === 0 && c.unknownEku === 0) continue;
    if (c.extKeyUsage.includes(0)) continue;
    usages = usages.filter((u) => c.extKeyUsage.includes(u));
    if (usages.length === 0) return false;
  }
  return true;
}

type CertKind = "leaf" | "intermediate" | "root";

/** The checks Go applies to each certificate as it joins a chain (`chain` is the part below it). */
function certAcceptable(c: Cert, kind: CertKind, chain: Cert[], nowMs: number, opts: VerifyOptions): boolean {
  if (c.unhandledCritical > 0) return false;
  if (chain.length > 0 && !chain[chain.length - 1].rawIssuer.equals(c.rawSubject)) return false;
  if (nowMs < c.notBeforeMs || nowMs > c.notAfterMs) return false;
  if (kind !== "leaf" && c.nc !== null) {
    // Every certificate below a constrained CA that has subject alternative names must satisfy
    // the constraints; the subject's common name is not consulted.
    for (const below of chain) {
      if (below.san === null) continue;
      if (checkNames(c.nc, below.san) !== null) return false;
    }
  }
  if (kind === "intermediate" && (!c.bcValid || !c.isCA)) return false;
  if (c.bcValid && c.maxPathLen >= 0 && chain.length - 1 > c.maxPathLen) return false;
  return true;
}

/** Go's test for a certificate already on the chain: same subject, key and alternative names. */
function alreadyInChain(cand: Cert, chain: Cert[]): boolean {
  for (const c of chain) {
    if (!cand.rawSubject.equals(c.rawSubject)) continue;
    if (!cand.rawSPKI.equals(c.rawSPKI)) continue;
    if (cand.rawSAN === null && c.rawSAN === null) return true;
    if (cand.rawSAN === null || c.rawSAN === null) return false;
    if (cand.rawSAN.equals(c.rawSAN)) return true;
  }
  return false;
}

/** Issuers for `child` from a pool, those whose key identifiers agree first. */
function potentialParents(pool: Cert[], child: Cert): Cert[] {
  const matching: Cert[] = [];
  const oneId: Cert[] = [];
  const mismatching: Cert[] = [];
  const aki = child.authorityKeyId ?? Buffer.alloc(0);
  for (const c of pool) {
    if (!c.rawSubject.equals(child.rawIssuer)) continue;
    const ski = c.subjectKeyId ?? Buffer.alloc(0);
    if (ski.equals(aki)) matching.push(c);
    else if ((ski.length === 0) !== (aki.length === 0)) oneId.push(c);
    else mismatching.push(c);
  }
  return [...matching, ...oneId, ...mismatching];
}

function dedupe(certs: Cert[]): Cert[] {
  const out: Cert[] = [];
  for (const c of certs) if (!out.some((o) => o.der.equals(c.der))) out.push(c);
  return out;
}

const MAX_SIGNATURE_CHECKS = 100;

class ChainLimit extends Error {}

function policyPathValid(chain: Cert[]): boolean {
  // The trust anchor (last) is not processed; the path runs from the certificate it issued down.
  const path = chain.slice(0, -1).reverse().map((c) => c.policy);
  return policiesValid(path);
}

/**
 * Verify that the last certificate chains up to the first (the root) through the others, as Go's
 * crypto/x509 Verify does with that root as the only trust anchor. Returns the first acceptable
 * chain (leaf first) or null.
 */
export function verifyChain(certs: Cert[], opts: VerifyOptions): Cert[] | null {
  const roots = [certs[0]];
  const intermediates = dedupe(certs.slice(1, -1));
  const leaf = certs[certs.length - 1];
  // Like Go's x509 verification (and OPA), the default time is the wall clock.
  const nowMs = opts.currentTimeMs ?? Date.now();

  if (!certAcceptable(leaf, "leaf", [], nowMs, opts)) return null;
  if (opts.dnsName !== undefined && !verifyHostname(leaf, opts.dnsName)) return null;

  let candidates: Cert[][];
  if (leaf.der.equals(roots[0].der)) candidates = [[leaf]];
  else {
    const checks = { n: 0 };
    const build = (chain: Cert[]): Cert[][] => {
      const found: Cert[][] = [];
      const cur = chain[chain.length - 1];
      const consider = (kind: CertKind, cand: Cert) => {
        if (cand.publicKeyAlgorithm === 0 || alreadyInChain(cand, chain)) return;
        if (++checks.n > MAX_SIGNATURE_CHECKS) throw new ChainLimit();
        if (!signedBy(cur, cand)) return;
        if (!certAcceptable(cand, kind, chain, nowMs, opts)) return;
        if (kind === "root") found.push([...chain, cand]);
        else found.push(...build([...chain, cand]));
      };
      for (const r of potentialParents(roots, cur)) consider("root", r);
      for (const i of potentialParents(intermediates, cur)) consider("intermediate", i);
      return found;
    };
    try {
      candidates = build([leaf]);
    } catch (e) {
      if (e instanceof ChainLimit) return null;
      throw e;
    }
  }
  candidates = candidates.filter(policyPathValid);
  if (candidates.length === 0) return null;
  if (opts.keyUsages.includes(0)) return candidates[0];
  const usages = opts.keyUsages.length === 0 ? [1] : opts.keyUsages;
  for (const chain of candidates) if (ekuAllows(chain, usages)) return chain;
  return null;
}

// ---- Private keys ---------------------------------------------------------------------------

export interface PrivKey {
  key: KeyObject;
}

/** Parse DER private key bytes as PKCS#1, PKCS#8 or SEC 1 (Go's tls order). */
export function parsePrivateKeyDer(der: Buffer): KeyObject | null {
  for (const type of ["pkcs1", "pkcs8", "sec1"] as const) {
    try {
      return nodeCrypto.createPrivateKey({ key: der, format: "der", type });
    } catch {
      // try the next format
    }
  }
  return null;
}

function b64uBig(s: string | undefined): Value {
  if (s === undefined) return null;
  return fromBigInt(bigFromBytes(Buffer.from(s, "base64url")));
}

/** A private key as Go's crypto key struct marshals to JSON. */
export function privateKeyGoValue(k: KeyObject): Value {
  const jwk = k.export({ format: "jwk" }) as Record<string, string>;
  switch (jwk.kty) {
    case "RSA":
      return {
        N: b64uBig(jwk.n),
        E: b64uBig(jwk.e),
        D: b64uBig(jwk.d),
        Primes: [b64uBig(jwk.p), b64uBig(jwk.q)],
        Precomputed: { Dp: b64uBig(jwk.dp), Dq: b64uBig(jwk.dq), Qinv: b64uBig(jwk.qi), CRTValues: [] },
      };
    case "EC":
      return { Curve: {}, X: b64uBig(jwk.x), Y: b64uBig(jwk.y), D: b64uBig(jwk.d) };
    case "OKP":
      if (jwk.crv === "Ed25519") return b64(Buffer.concat([Buffer.from(jwk.d, "base64url"), Buffer.from(jwk.x, "base64url")]));
      return b64(Buffer.from(jwk.d, "base64url"));
  }
  return null;
}

export function privateKeyJWKValue(k: KeyObject): Value {
  const jwk = k.export({ format: "jwk" }) as Record<string, string>;
  const out: PlainObject = {};
  for (const key of Object.keys(jwk)) out[key] = jwk[key];
  return out;
}

/** crypto.x509.parse_rsa_private_key: the first private key of the PEM input as a JWK. */
export function rsaPrivateKeyJWK(s: string): Value {
  if (s === "") throw new BuiltinError("input PEM data was empty");
  let text = s;
  if (!s.startsWith("-----BEGIN")) text = b64OrThrow(s).toString("utf8");
  for (const block of pemBlocks(text)) {
    const k = parsePrivateKeyDer(block.bytes);
    if (k) return privateKeyJWKValue(k);
  }
  return null;
}

/** crypto.parse_private_keys. */
export function parsePrivateKeysInput(s: string): Value {
  if (s === "") return null;
  let text = s;
  if (!s.startsWith("-----BEGIN")) {
    try {
      text = goBase64Decode(s, false, true).toString("utf8");
    } catch {
      text = s;
    }
  }
  const out: Value[] = [];
  for (const block of pemBlocks(text)) {
    const k = parsePrivateKeyDer(block.bytes);
    if (k) out.push(privateKeyGoValue(k));
  }
  return out;
}

/** crypto.x509.parse_keypair. */
export function parseKeyPair(certText: string, keyText: string): Value {
  const certs = parseCertificatesInput(certText);
  if (certs.length === 0) throw new BuiltinError("tls: failed to find any PEM data in certificate input");
  let kt = keyText;
  if (!kt.startsWith("-----BEGIN")) kt = b64OrThrow(kt).toString("utf8");
  let key: KeyObject | null = null;
  for (const block of pemBlocks(kt)) {
    if (block.type === "PRIVATE KEY" || block.type.endsWith(" PRIVATE KEY")) {
      key = parsePrivateKeyDer(block.bytes);
      break;
    }
  }
  if (!key) throw new BuiltinError("tls: failed to parse private key");
  const leaf = certs[0];
  let pub: KeyObject;
  let priv: KeyObject;
  try {
    pub = new nodeCrypto.X509Certificate(leaf.der).publicKey;
    priv = nodeCrypto.createPublicKey(key);
  } catch {
    // a certificate our reader accepted but OpenSSL refuses (Go refuses it too, with its own reason)
    throw new BuiltinError("x509: malformed certificate");
  }
  if (pub.asymmetricKeyType !== priv.asymmetricKeyType) throw new BuiltinError("tls: private key type does not match public key type");
  const a = pub.export({ format: "der", type: "spki" });
  const b = priv.export({ format: "der", type: "spki" });
  if (!a.equals(b)) throw new BuiltinError("tls: private key does not match public key");
  return {
    Certificate: certs.map((c) => b64(c.der)),
    PrivateKey: privateKeyGoValue(key),
    OCSPStaple: null,
    SignedCertificateTimestamps: null,
    Leaf: leaf.value,
    SupportedSignatureAlgorithms: null,
  };
}



// ---- Distinguished names as Go prints them (pkix.Name.ToRDNSequence().String()) ------------

function escapeRdnValue(s: string): string {
  let out = "";
  const bytes = Buffer.byteLength(s, "utf8");
  let k = 0; // byte offset, as Go's range over a string
  for (const c of s) {
    let esc = false;
    if (",+\"\\<>;".includes(c)) esc = true;
    else if (c === " ") esc = k === 0 || k === bytes - 1;
    else if (c === "#") esc = k === 0;
    out += esc ? "\\" + c : c;
    k += Buffer.byteLength(c, "utf8");
  }
  return out;
}

/** Go's pkix.Name fields in ToRDNSequence's order, with the short names String() prints. */
const NAME_RDN_ORDER: [string, string][] = [
  ["2.5.4.6", "C"],
  ["2.5.4.8", "ST"],
  ["2.5.4.7", "L"],
  ["2.5.4.9", "STREET"],
  ["2.5.4.17", "POSTALCODE"],
  ["2.5.4.10", "O"],
  ["2.5.4.11", "OU"],
  ["2.5.4.3", "CN"],
  ["2.5.4.5", "SERIALNUMBER"],
];

/**
 * A DER Name (a certificate's RawSubject) as Go prints `cert.Subject.ToRDNSequence().String()`:
 * the name is first reduced to Go's pkix.Name (string values of the nine common attribute
 * types only; all values of C, ST, L, STREET, POSTALCODE, O, OU, the last CN and SERIALNUMBER),
 * then printed in RFC 2253 order (last first), the values of one type joined by `+`.
 */
export function goDistinguishedName(rawName: Buffer): string {
  const byType = new Map<string, string[]>();
  for (const rdn of children(expectTag(parseDer(rawName), TAG.SEQUENCE))) {
    for (const atv of children(rdn)) {
      const [t, v] = children(atv);
      if (!isStringTag(v.tag)) continue;
      const oid = oidString(t);
      const list = byType.get(oid) ?? [];
      if (oid === "2.5.4.3" || oid === "2.5.4.5") list.length = 0;
      list.push(stringOf(v));
      byType.set(oid, list);
    }
  }
  const rdns: string[] = [];
  for (const [oid, name] of NAME_RDN_ORDER) {
    const values = byType.get(oid);
    if (!values || values.length === 0 || values.every((x) => x === "") && (oid === "2.5.4.3" || oid === "2.5.4.5")) continue;
    rdns.push(values.map((x) => `${name}=${escapeRdnValue(x)}`).join("+"));
  }
  return rdns.reverse().join(",");
}
