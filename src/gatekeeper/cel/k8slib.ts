// The Kubernetes CEL libraries of ValidatingAdmissionPolicy (k8s.io/apiserver/pkg/cel/library and
// the cel-go extensions the API server enables), written for @bufbuild/cel:
//   lists     isSorted, sum, min, max, indexOf, lastIndexOf; cel-go's lists extension: lists.range,
//             slice, flatten, distinct, reverse, sort, first, last (not the sortBy macro)
//   regex     find, findAll (RE2 syntax, linear time: src/builtins/re2.ts)
//   sets      sets.contains, sets.equivalent, sets.intersects
//   urls      url, isURL, getScheme, getHost, getHostname, getPort, getEscapedPath, getQuery
//   quantity  quantity, isQuantity, sign (a function), isInteger, asInteger, asApproximateFloat, add, sub,
//             isLessThan, isGreaterThan, compareTo
//   ip/cidr   ip, isIP, ip.isCanonical, family, isUnspecified, isLoopback, isLinkLocalMulticast,
//             isLinkLocalUnicast, isGlobalUnicast, cidr, isCIDR, containsIP, containsCIDR,
//             prefixLength, masked, string()
//   format    format.named, format.<name>(), validate (→ optional list of errors)
//   semver    semver, isSemver, major, minor, patch, isLessThan, isGreaterThan, compareTo
//   optional  optional.of, optional.ofNonZeroValue, optional.none, hasValue, value, orValue, or,
//             and the runtime of the optional syntax (parser.ts; engine.ts rewrites `x.?f`,
//             `l[?i]`, `[?e]`, `{?k: v}` into the portcullis.opt* functions below)
// Opaque values (Quantity, URL, IP, CIDR, Format, Semver, optionals) are protobuf messages of a
// small registry built here, so they have CEL types of their own (`type(quantity("1"))` is
// kubernetes.Quantity) and compare with == by value.

import type * as CelModule from "@bufbuild/cel";
import { lazyRequire } from "../../lazy.ts";
import { getRegex, execAt } from "../../builtins/re2.ts";
import { parseQuantity, compareQ, addQ, subQ, qToString, qIsInteger, qToBigInt, qToFloat, qFromBigInt, type Q } from "./quantity.ts";
import { parseIP, parseCIDR, ipToString, cidrToString, ipFamily, ipIsUnspecified, ipIsLoopback, ipIsLinkLocalMulticast, ipIsLinkLocalUnicast, ipIsGlobalUnicast, cidrContainsIP, cidrContainsCIDR, cidrMasked, isCanonicalIP, type IP, type CIDR } from "./ip.ts";
import { parseURL, type URLParts } from "./url.ts";
import { FORMATS, validateFormat } from "./format.ts";
import { parseSemver, parseSemverNormalized, compareSemver, type Semver } from "./semver.ts";

type Pb = typeof import("@bufbuild/protobuf");
type Wkt = typeof import("@bufbuild/protobuf/wkt");
const pbMod = lazyRequire<Pb>("@bufbuild/protobuf");
const wktMod = lazyRequire<Wkt>("@bufbuild/protobuf/wkt");

export interface CelLib {
  funcs: CelModule.CelFunc[];
  registry: import("@bufbuild/protobuf").Registry;
  /** An optional value's content ({has, v}), or null when the value is not an optional. */
  optional(x: unknown): { has: boolean; v?: unknown } | null;
}

/** The functions the optional syntax is rewritten into (engine.ts). */
export const OPT_SELECT = "portcullis.optSelect";
export const OPT_INDEX = "portcullis.optIndex";
export const OPT_LIST = "portcullis.optList";
export const OPT_MAP = "portcullis.optMap";
/** The optional type, for the identifier optional_type. */
export const OPT_TYPE = "portcullis.optionalType";

/** An error raised by a library function (its message is the CEL error). */
export class LibError extends Error {}

const OPAQUE = ["Quantity", "URL", "IP", "CIDR", "Format", "Semver", "Optional"] as const;
type Opaque = (typeof OPAQUE)[number];

export function k8sLibraries(c: typeof CelModule): CelLib {
  const pb = pbMod();
  const wkt = wktMod();
  const fdp = pb.create(wkt.FileDescriptorProtoSchema, {
    name: "portcullis/kubernetes_cel.proto",
    package: "kubernetes",
    syntax: "proto3",
    messageType: OPAQUE.map((n) => ({
      name: n,
      field: [{ name: "repr", number: 1, type: wkt.FieldDescriptorProto_Type.STRING, label: wkt.FieldDescriptorProto_Label.OPTIONAL, jsonName: "repr" }],
    })),
  });
  const registry = pb.createFileRegistry(fdp, () => undefined);
  const desc = Object.fromEntries(OPAQUE.map((n) => [n, registry.getMessage(`kubernetes.${n}`)!])) as Record<Opaque, import("@bufbuild/protobuf").DescMessage>;
  const T = Object.fromEntries(OPAQUE.map((n) => [n, c.objectType(desc[n])])) as Record<Opaque, CelModule.CelObjectType>;
  const S = c.CelScalar;
  const LIST = c.listType(S.DYN);
  const values = new WeakMap<object, unknown>();

  // An opaque value: a message whose repr is its canonical text (so == compares values), with
  // the parsed value kept aside.
  const make = (kind: Opaque, repr: string, value: unknown) => {
    const m = pb.create(desc[kind], { repr } as never);
    values.set(m, value);
    return m as never;
  };
  const valueOf = <V>(self: unknown): V => {
    const msg = (self as { message?: object }).message ?? self;
    const v = values.get(msg as object);
    if (v === undefined) throw new LibError("invalid value");
    return v as V;
  };
  const none = () => make("Optional", "none", { has: false });
  const some = (v: unknown) => make("Optional", `some:${reprOf(v)}`, { has: true, v });

  const method = (name: string, target: CelModule.CelType, args: CelModule.CelType[], result: CelModule.CelType, impl: (this: any, ...a: any[]) => unknown) =>
    c.celMethod(name, target as never, args as never, result as never, impl as never);
  const func = (name: string, args: CelModule.CelType[], result: CelModule.CelType, impl: (...a: any[]) => unknown) => c.celFunc(name, args as never, result as never, impl as never);

  const funcs: CelModule.CelFunc[] = [];

  // ---- lists ----
  const items = (l: unknown): unknown[] => Array.from(l as Iterable<unknown>);
  funcs.push(
    method("isSorted", LIST, [], S.BOOL, function () {
      const xs = items(this);
      for (let i = 1; i < xs.length; i++) if (compareValues(xs[i - 1], xs[i]) > 0) return false;
      return true;
    }),
    method("sum", LIST, [], S.DYN, function () {
      const xs = items(this);
      if (xs.length === 0) return 0n;
      let acc: unknown = xs[0];
      for (const x of xs.slice(1)) acc = addNumbers(acc, x);
      return acc;
    }),
    method("min", LIST, [], S.DYN, function () {
      const xs = items(this);
      if (xs.length === 0) throw new LibError("min called on empty list");
      return xs.reduce((a, b) => (compareValues(b, a) < 0 ? b : a));
    }),
    method("max", LIST, [], S.DYN, function () {
      const xs = items(this);
      if (xs.length === 0) throw new LibError("max called on empty list");
      return xs.reduce((a, b) => (compareValues(b, a) > 0 ? b : a));
    }),
    method("indexOf", LIST, [S.DYN], S.INT, function (x: unknown) {
      const xs = items(this);
      for (let i = 0; i < xs.length; i++) if (celEquals(xs[i], x)) return BigInt(i);
      return -1n;
    }),
    method("lastIndexOf", LIST, [S.DYN], S.INT, function (x: unknown) {
      const xs = items(this);
      for (let i = xs.length - 1; i >= 0; i--) if (celEquals(xs[i], x)) return BigInt(i);
      return -1n;
    }),
  );

  // ---- cel-go's lists extension (version 3): lists.range, slice, flatten, distinct, reverse, sort, first, last ----
  funcs.push(
    func("lists.range", [S.INT], c.listType(S.INT), (n: bigint) => {
      if (n < 0n || n > 1_000_000n) throw new LibError(`lists.range(${n}): size must be between 0 and 1000000`);
      return Array.from({ length: Number(n) }, (_, i) => BigInt(i));
    }),
    method("slice", LIST, [S.INT, S.INT], LIST, function (a: bigint, b: bigint) {
      const xs = items(this);
      if (a < 0n || b < 0n) throw new LibError(`cannot slice(${a}, ${b}), negative indexes not supported`);
      if (a > b) throw new LibError(`cannot slice(${a}, ${b}), start index must be less than or equal to end index`);
      if (b > BigInt(xs.length)) throw new LibError(`cannot slice(${a}, ${b}), list is length ${xs.length}`);
      return xs.slice(Number(a), Number(b));
    }),
    method("flatten", LIST, [], LIST, function () {
      return flatten(items(this), 1);
    }),
    method("flatten", LIST, [S.INT], LIST, function (d: bigint) {
      if (d < 0n) throw new LibError("level must be non-negative");
      return flatten(items(this), Number(d > 64n ? 64n : d));
    }),
    method("distinct", LIST, [], LIST, function () {
      const out: unknown[] = [];
      for (const x of items(this)) if (!out.some((y) => celEquals(x, y))) out.push(x);
      return out;
    }),
    method("reverse", LIST, [], LIST, function () {
      return items(this).reverse();
    }),
    method("sort", LIST, [], LIST, function () {
      const xs = items(this);
      return xs.slice().sort(compareValues);
    }),
    method("first", LIST, [], T.Optional, function () {
      const xs = items(this);
      return xs.length ? some(xs[0]) : none();
    }),
    method("last", LIST, [], T.Optional, function () {
      const xs = items(this);
      return xs.length ? some(xs[xs.length - 1]) : none();
    }),
  );
  function flatten(xs: unknown[], depth: number): unknown[] {
    const out: unknown[] = [];
    for (const x of xs) {
      if (depth > 0 && c.isCelList(x)) out.push(...flatten(items(x), depth - 1));
      else out.push(x);
    }
    return out;
  }

  // ---- regex ----
  const regex = (p: string) => getRegex(p); // throws RegexSyntaxError with Go's text
  funcs.push(
    method("find", S.STRING, [S.STRING], S.STRING, function (p: string) {
      const m = execAt(regex(p), this, 0);
      return m ? (m.groups[0] ?? "") : "";
    }),
    method("findAll", S.STRING, [S.STRING], c.listType(S.STRING), function (p: string) {
      return findAll(regex(p), this, -1);
    }),
    method("findAll", S.STRING, [S.STRING, S.INT], c.listType(S.STRING), function (p: string, n: bigint) {
      return findAll(regex(p), this, Number(n));
    }),
  );

  // ---- sets ----
  funcs.push(
    func("sets.contains", [LIST, LIST], S.BOOL, (a: unknown, b: unknown) => items(b).every((y) => items(a).some((x) => celEquals(x, y)))),
    func("sets.equivalent", [LIST, LIST], S.BOOL, (a: unknown, b: unknown) => items(b).every((y) => items(a).some((x) => celEquals(x, y))) && items(a).every((x) => items(b).some((y) => celEquals(x, y)))),
    func("sets.intersects", [LIST, LIST], S.BOOL, (a: unknown, b: unknown) => items(a).some((x) => items(b).some((y) => celEquals(x, y)))),
  );

  // ---- URLs ----
  const url = (s: string): URLParts => {
    const u = parseURL(s);
    if (typeof u === "string") throw new LibError(`URL parse error during conversion from string: ${u}`);
    return u;
  };
  funcs.push(
    func("url", [S.STRING], T.URL, (s: string) => make("URL", s, url(s))),
    func("isURL", [S.STRING], S.BOOL, (s: string) => typeof parseURL(s) !== "string"),
    method("getScheme", T.URL, [], S.STRING, function () {
      return valueOf<URLParts>(this).scheme;
    }),
    method("getHost", T.URL, [], S.STRING, function () {
      return valueOf<URLParts>(this).host;
    }),
    method("getHostname", T.URL, [], S.STRING, function () {
      return valueOf<URLParts>(this).hostname;
    }),
    method("getPort", T.URL, [], S.STRING, function () {
      return valueOf<URLParts>(this).port;
    }),
    method("getEscapedPath", T.URL, [], S.STRING, function () {
      return valueOf<URLParts>(this).escapedPath;
    }),
    method("getQuery", T.URL, [], c.mapType(S.STRING, c.listType(S.STRING)), function () {
      return new Map(Object.entries(valueOf<URLParts>(this).query));
    }),
  );

  // ---- quantity ----
  const qOf = (self: unknown) => valueOf<Q>(self);
  const quantity = (s: string) => {
    const q = parseQuantity(s);
    if (typeof q === "string") throw new LibError(q);
    return make("Quantity", qToString(q), q);
  };
  const qWrap = (q: Q) => make("Quantity", qToString(q), q);
  funcs.push(
    func("quantity", [S.STRING], T.Quantity, quantity),
    func("isQuantity", [S.STRING], S.BOOL, (s: string) => typeof parseQuantity(s) !== "string"),
    // sign is a global function in Kubernetes' library: sign(quantity("-1")).
    func("sign", [T.Quantity], S.INT, (x: unknown) => {
      const q = qOf(x);
      return q.num > 0n ? 1n : q.num < 0n ? -1n : 0n;
    }),
    method("isInteger", T.Quantity, [], S.BOOL, function () {
      return qIsInteger(qOf(this));
    }),
    method("asInteger", T.Quantity, [], S.INT, function () {
      const v = qToBigInt(qOf(this));
      if (v === null) throw new LibError("cannot convert value to integer");
      return v;
    }),
    method("asApproximateFloat", T.Quantity, [], S.DOUBLE, function () {
      return qToFloat(qOf(this));
    }),
    method("add", T.Quantity, [T.Quantity], T.Quantity, function (o: unknown) {
      return qWrap(addQ(qOf(this), qOf(o)));
    }),
    method("add", T.Quantity, [S.INT], T.Quantity, function (n: bigint) {
      return qWrap(addQ(qOf(this), qFromBigInt(n)));
    }),
    method("sub", T.Quantity, [T.Quantity], T.Quantity, function (o: unknown) {
      return qWrap(subQ(qOf(this), qOf(o)));
    }),
    method("sub", T.Quantity, [S.INT], T.Quantity, function (n: bigint) {
      return qWrap(subQ(qOf(this), qFromBigInt(n)));
    }),
    method("isLessThan", T.Quantity, [T.Quantity], S.BOOL, function (o: unknown) {
      return compareQ(qOf(this), qOf(o)) < 0;
    }),
    method("isGreaterThan", T.Quantity, [T.Quantity], S.BOOL, function (o: unknown) {
      return compareQ(qOf(this), qOf(o)) > 0;
    }),
    method("compareTo", T.Quantity, [T.Quantity], S.INT, function (o: unknown) {
      return BigInt(compareQ(qOf(this), qOf(o)));
    }),
  );

  // ---- IP and CIDR ----
  const ip = (s: string) => {
    const v = parseIP(s);
    if (typeof v === "string") throw new LibError(v);
    return make("IP", ipToString(v), v);
  };
  const cidr = (s: string) => {
    const v = parseCIDR(s);
    if (typeof v === "string") throw new LibError(v);
    return make("CIDR", cidrToString(v), v);
  };
  const ipOf = (x: unknown) => valueOf<IP>(x);
  const cidrOf = (x: unknown) => valueOf<CIDR>(x);
  funcs.push(
    func("ip", [S.STRING], T.IP, ip),
    func("isIP", [S.STRING], S.BOOL, (s: string) => typeof parseIP(s) !== "string"),
    func("ip.isCanonical", [S.STRING], S.BOOL, (s: string) => {
      const v = parseIP(s);
      if (typeof v === "string") throw new LibError(v);
      return isCanonicalIP(s, v);
    }),
    func("string", [T.IP], S.STRING, (x: unknown) => ipToString(ipOf(x))),
    method("family", T.IP, [], S.INT, function () {
      return BigInt(ipFamily(ipOf(this)));
    }),
    method("isUnspecified", T.IP, [], S.BOOL, function () {
      return ipIsUnspecified(ipOf(this));
    }),
    method("isLoopback", T.IP, [], S.BOOL, function () {
      return ipIsLoopback(ipOf(this));
    }),
    method("isLinkLocalMulticast", T.IP, [], S.BOOL, function () {
      return ipIsLinkLocalMulticast(ipOf(this));
    }),
    method("isLinkLocalUnicast", T.IP, [], S.BOOL, function () {
      return ipIsLinkLocalUnicast(ipOf(this));
    }),
    method("isGlobalUnicast", T.IP, [], S.BOOL, function () {
      return ipIsGlobalUnicast(ipOf(this));
    }),
    func("cidr", [S.STRING], T.CIDR, cidr),
    func("isCIDR", [S.STRING], S.BOOL, (s: string) => typeof parseCIDR(s) !== "string"),
    func("string", [T.CIDR], S.STRING, (x: unknown) => cidrToString(cidrOf(x))),
    method("containsIP", T.CIDR, [T.IP], S.BOOL, function (x: unknown) {
      return cidrContainsIP(cidrOf(this), ipOf(x));
    }),
    method("containsIP", T.CIDR, [S.STRING], S.BOOL, function (s: string) {
      const v = parseIP(s);
      if (typeof v === "string") throw new LibError(v);
      return cidrContainsIP(cidrOf(this), v);
    }),
    method("containsCIDR", T.CIDR, [T.CIDR], S.BOOL, function (x: unknown) {
      return cidrContainsCIDR(cidrOf(this), cidrOf(x));
    }),
    method("containsCIDR", T.CIDR, [S.STRING], S.BOOL, function (s: string) {
      const v = parseCIDR(s);
      if (typeof v === "string") throw new LibError(v);
      return cidrContainsCIDR(cidrOf(this), v);
    }),
    method("ip", T.CIDR, [], T.IP, function () {
      const v = cidrOf(this).ip;
      return make("IP", ipToString(v), v);
    }),
    method("masked", T.CIDR, [], T.CIDR, function () {
      const v = cidrMasked(cidrOf(this));
      return make("CIDR", cidrToString(v), v);
    }),
    method("prefixLength", T.CIDR, [], S.INT, function () {
      return BigInt(cidrOf(this).bits);
    }),
  );

  // ---- optional (functions only) ----
  const optOf = (x: unknown) => valueOf<{ has: boolean; v?: unknown }>(x);
  funcs.push(
    func("optional.of", [S.DYN], T.Optional, (v: unknown) => some(v)),
    func("optional.none", [], T.Optional, () => none()),
    func("optional.ofNonZeroValue", [S.DYN], T.Optional, (v: unknown) => (isZeroValue(v) ? none() : some(v))),
    method("hasValue", T.Optional, [], S.BOOL, function () {
      return optOf(this).has;
    }),
    method("value", T.Optional, [], S.DYN, function () {
      const o = optOf(this);
      if (!o.has) throw new LibError("optional.none() dereference");
      return o.v;
    }),
    method("orValue", T.Optional, [S.DYN], S.DYN, function (d: unknown) {
      const o = optOf(this);
      return o.has ? o.v : d;
    }),
    method("or", T.Optional, [T.Optional], T.Optional, function (other: unknown) {
      return optOf(this).has ? (this as { message: unknown }).message : (other as { message: unknown }).message;
    }),
  );

  // ---- the optional syntax (cel-go's _?._ and _[?_], optional list elements and map entries) ----
  // An optional operand is looked through: none stays none, some(v) selects in v.
  const isOpt = (x: unknown): boolean => {
    const msg = (x as { message?: { $typeName?: string } } | null)?.message ?? x;
    return (msg as { $typeName?: string } | null)?.$typeName === "kubernetes.Optional";
  };
  const unwrap = (x: unknown): { has: boolean; v?: unknown } => (isOpt(x) ? optOf(x) : { has: true, v: x });
  const entryOf = (container: unknown, key: unknown): { found: boolean; v?: unknown } => {
    if (c.isCelMap(container)) {
      // get(), not has(): @bufbuild/cel's has() misses keys whose value is null
      const v = (container as unknown as { get(k: unknown): unknown }).get(key);
      return v !== undefined ? { found: true, v } : { found: false };
    }
    if (c.isCelList(container)) {
      let i: bigint;
      if (typeof key === "bigint") i = key;
      else if (c.isCelUint(key)) i = (key as { value: bigint }).value;
      else if (typeof key === "number" && Number.isInteger(key)) i = BigInt(key);
      else throw new LibError("no such overload");
      const xs = container as unknown as { size: number; get(i: number): unknown };
      return i >= 0n && i < BigInt(xs.size) ? { found: true, v: xs.get(Number(i)) } : { found: false };
    }
    const msg = (container as { message?: Record<string, unknown> } | null)?.message;
    if (msg && typeof msg === "object" && typeof key === "string" && !isOpt(container)) {
      return Object.hasOwn(msg, key) && msg[key] !== undefined ? { found: true, v: msg[key] } : { found: false };
    }
    throw new LibError("no such overload");
  };
  const optAccess = (x: unknown, key: unknown) => {
    const o = unwrap(x);
    if (!o.has) return none();
    const e = entryOf(o.v, key);
    return e.found ? some(e.v) : none();
  };
  funcs.push(
    func(OPT_SELECT, [S.DYN, S.STRING], T.Optional, optAccess),
    func(OPT_INDEX, [S.DYN, S.DYN], T.Optional, optAccess),
    // [a, ?b]: the elements, with the optional ones kept only when they have a value
    func(OPT_LIST, [LIST, c.listType(S.INT)], LIST, (elems: unknown, optional: unknown) => {
      const xs = items(elems);
      const opt = new Set(items(optional).map((i) => Number(i as bigint)));
      const out: unknown[] = [];
      xs.forEach((x, i) => {
        if (!opt.has(i)) return out.push(x);
        if (!isOpt(x)) throw new LibError("no such overload");
        const o = optOf(x);
        if (o.has) out.push(o.v);
      });
      return out;
    }),
    // {k: v, ?k2: v2}: the entries, with the optional ones kept only when their value has one
    func(OPT_MAP, [LIST, LIST, c.listType(S.BOOL)], c.mapType(S.DYN, S.DYN), (keys: unknown, vals: unknown, optional: unknown) => {
      const ks = items(keys);
      const vs = items(vals);
      const opt = items(optional);
      const out = new Map<unknown, unknown>();
      const seen = c.celMap(out as never) as unknown as { get(k: unknown): unknown };
      for (let i = 0; i < ks.length; i++) {
        let v = vs[i];
        if (opt[i]) {
          if (!isOpt(v)) throw new LibError("no such overload");
          const o = optOf(v);
          if (!o.has) continue;
          v = o.v;
        }
        if (seen.get(ks[i]) !== undefined) throw new LibError(`Failed with repeated key: ${String(ks[i])}`);
        out.set(ks[i], v);
      }
      return out as never;
    }),
    // cel-go's name of the optional type (`type(optional.none()) == optional_type`)
    func(OPT_TYPE, [], S.TYPE, () => T.Optional),
  );

  // ---- format ----
  const formatNamed = (name: string) => (FORMATS.has(name) ? some(make("Format", name, name)) : none());
  funcs.push(
    func("format.named", [S.STRING], T.Optional, formatNamed),
    method("validate", T.Format, [S.STRING], T.Optional, function (s: string) {
      const errs = validateFormat(valueOf<string>(this), s);
      return errs.length ? some(errs) : none();
    }),
  );
  for (const name of FORMATS.keys()) funcs.push(func(`format.${name}`, [], T.Format, () => make("Format", name, name)));

  // ---- semver ----
  const semverValue = (v: Semver | string) => {
    if (typeof v === "string") throw new LibError(v);
    return make("Semver", `${v.major}.${v.minor}.${v.patch}${v.pre ? `-${v.pre}` : ""}`, v);
  };
  const semverOf = (x: unknown) => valueOf<Semver>(x);
  funcs.push(
    func("semver", [S.STRING], T.Semver, (s: string) => semverValue(parseSemver(s))),
    func("semver", [S.STRING, S.BOOL], T.Semver, (s: string, norm: boolean) => semverValue(norm ? parseSemverNormalized(s) : parseSemver(s))),
    func("isSemver", [S.STRING], S.BOOL, (s: string) => typeof parseSemver(s) !== "string"),
    func("isSemver", [S.STRING, S.BOOL], S.BOOL, (s: string, norm: boolean) => typeof (norm ? parseSemverNormalized(s) : parseSemver(s)) !== "string"),
    method("major", T.Semver, [], S.INT, function () {
      return semverOf(this).major;
    }),
    method("minor", T.Semver, [], S.INT, function () {
      return semverOf(this).minor;
    }),
    method("patch", T.Semver, [], S.INT, function () {
      return semverOf(this).patch;
    }),
    method("isLessThan", T.Semver, [T.Semver], S.BOOL, function (o: unknown) {
      return compareSemver(semverOf(this), semverOf(o)) < 0;
    }),
    method("isGreaterThan", T.Semver, [T.Semver], S.BOOL, function (o: unknown) {
      return compareSemver(semverOf(this), semverOf(o)) > 0;
    }),
    method("compareTo", T.Semver, [T.Semver], S.INT, function (o: unknown) {
      return BigInt(compareSemver(semverOf(this), semverOf(o)));
    }),
  );

  return { funcs, registry, optional: (x: unknown) => (isOpt(x) ? optOf(x) : null) };

  function reprOf(v: unknown): string {
    if (typeof v === "bigint") return `${v}`;
    if (typeof v === "string") return JSON.stringify(v);
    if (v && typeof v === "object" && "message" in (v as object)) return `msg:${String(((v as { message: { repr?: string } }).message as { repr?: string }).repr)}`;
    try {
      return JSON.stringify(Array.from(v as Iterable<unknown>, (x) => reprOf(x)));
    } catch {
      return String(v);
    }
  }

  function isZeroValue(v: unknown): boolean {
    if (v === null || v === false || v === "" || v === 0 || v === 0n) return true;
    if (v instanceof Uint8Array) return v.length === 0;
    if (c.isCelUint(v)) return (v as { value: bigint }).value === 0n;
    if (c.isCelList(v) || c.isCelMap(v)) return (v as { size: number }).size === 0;
    return false;
  }

  function numeric(v: unknown): number | bigint | null {
    if (typeof v === "bigint" || typeof v === "number") return v;
    if (c.isCelUint(v)) return (v as { value: bigint }).value;
    return null;
  }

  function compareValues(a: unknown, b: unknown): number {
    const na = numeric(a);
    const nb = numeric(b);
    if (na !== null && nb !== null) return na < nb ? -1 : na > nb ? 1 : 0;
    if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
    if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
    if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
    throw new LibError("no such overload");
  }

  function addNumbers(a: unknown, b: unknown): unknown {
    if (typeof a === "bigint" && typeof b === "bigint") {
      const r = a + b;
      if (r > 9223372036854775807n || r < -9223372036854775808n) throw new LibError("integer overflow");
      return r;
    }
    if (typeof a === "number" && typeof b === "number") return a + b;
    if (c.isCelUint(a) && c.isCelUint(b)) return c.celUint((a as { value: bigint }).value + (b as { value: bigint }).value);
    throw new LibError("no such overload");
  }

  function celEquals(a: unknown, b: unknown): boolean {
    const na = numeric(a);
    const nb = numeric(b);
    if (na !== null || nb !== null) return na !== null && nb !== null && (typeof na === typeof nb ? na === nb : Number(na) === Number(nb));
    if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
    if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
    if (c.isCelList(a) && c.isCelList(b)) {
      const xs = items(a);
      const ys = items(b);
      return xs.length === ys.length && xs.every((x, i) => celEquals(x, ys[i]));
    }
    if (c.isCelMap(a) && c.isCelMap(b)) {
      const ma = a as ReadonlyMap<unknown, unknown>;
      const mb = b as ReadonlyMap<unknown, unknown>;
      if (ma.size !== mb.size) return false;
      // get(), not has(): @bufbuild/cel's has() misses keys whose value is null
      for (const [k, v] of ma.entries()) {
        const w = (mb as unknown as { get(k: unknown): unknown }).get(k);
        if (w === undefined || !celEquals(v, w)) return false;
      }
      return true;
    }
    const ra = (a as { message?: { repr?: string; $typeName?: string } }).message;
    const rb = (b as { message?: { repr?: string; $typeName?: string } }).message;
    if (ra && rb) return ra.$typeName === rb.$typeName && ra.repr === rb.repr;
    return false;
  }
}

function findAll(re: ReturnType<typeof getRegex>, s: string, limit: number): string[] {
  const out: string[] = [];
  if (limit === 0) return out;
  let from = 0;
  let prevEnd = -1;
  while (from <= s.length) {
    const m = execAt(re, s, from);
    if (!m) break;
    if (m.end === m.start && m.start === prevEnd) {
      // Go skips an empty match right after the previous match.
      from = m.start + (s.codePointAt(m.start)! > 0xffff ? 2 : 1);
      continue;
    }
    out.push(m.groups[0] ?? "");
    if (limit > 0 && out.length >= limit) break;
    prevEnd = m.end;
    from = m.end > m.start ? m.end : m.end + (m.end < s.length && s.codePointAt(m.end)! > 0xffff ? 2 : 1);
  }
  return out;
}
