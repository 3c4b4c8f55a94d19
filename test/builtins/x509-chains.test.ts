// Chain verification security checks (crypto.x509.parse_and_verify_certificates and
// _with_options): name constraints, basic constraints, path length, key usage, extended key usage,
// validity, unhandled critical extensions, certificate policies and weak keys.
//
// The certificates are in test/fixtures/crypto/chains.json (made by chains-gen.sh beside it, valid
// 2020-2120). Each row is a chain (root first, leaf last) and OPA 1.19's answer, recorded with
//   opa eval 'crypto.x509.parse_and_verify_certificates(pem)' and
//   'crypto.x509.parse_and_verify_certificates_with_options(pem, {"KeyUsages": ["KeyUsageAny"]})':
// [chain, verified, common names of the returned chain (leaf first), verified with KeyUsageAny].
//
// Names: nc-* carry or sit under a CA with name constraints (nc-dns permits example.com, nc-excl
// excludes evil.org and .bad.example, nc-email permits example.com and boss@corp.example, nc-ip
// permits 10/8 but excludes 10.9/16, nc-uri permits .example.com, nc-dirname has a critical
// directoryName constraint, ncroot is a root with constraints); crit-* carry an unknown critical
// extension; notca/nobc/rootnotca/rootnobc lack the CA flag; pl* have path length 0; noku lack
// keyCertSign; eku-* carry extended key usages; pol-* certificate policies; rsa512 a 512-bit key;
// san-* and uri* carry unusual or malformed subject alternative names (a malformed one makes the
// certificate unparsable, so the chain does not verify).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { getBuiltin } from "../../src/builtins/index.ts";
import { fakeContext } from "./helpers.ts";
import type { Value } from "../../src/rego/value.ts";

const PEMS = JSON.parse(readFileSync(new URL("../fixtures/crypto/chains.json", import.meta.url), "utf8")) as Record<string, string>;

function pem(chain: string): string {
  return chain
    .split(" ")
    .map((n) => PEMS[n])
    .join("");
}

function call(name: string, ...args: Value[]): Value {
  return getBuiltin(name)!.impl(args, fakeContext()) as Value;
}

function verify(chain: string): [boolean, string[]] {
  const [ok, certs] = call("crypto.x509.parse_and_verify_certificates", pem(chain)) as [boolean, Record<string, Value>[]];
  return [ok, certs.map((c) => (c.Subject as Record<string, Value>).CommonName as string)];
}

function verifyAny(chain: string): boolean {
  const r = call("crypto.x509.parse_and_verify_certificates_with_options", pem(chain), { KeyUsages: ["KeyUsageAny"] }) as [boolean, Value[]];
  return r[0];
}

// The findings of the hardening issue, one test each.

test("x509 security: a name-constrained intermediate cannot issue for a name outside its subtree", () => {
  // root -> intermediate (critical nameConstraints permitted;DNS:example.com) -> leaf for evil.org
  assert.deepEqual(verify("root nc-dns nc-dns-evil"), [false, []]);
  assert.equal(verifyAny("root nc-dns nc-dns-evil"), false);
  assert.deepEqual(verify("root nc-dns nc-dns-good"), [true, ["www.example.com", "NC DNS Intermediate", "NC Root"]]);
});

test("x509 security: excluded subtrees, including a wildcard name that could cover an excluded host", () => {
  assert.deepEqual(verify("root nc-excl nc-excl-evil"), [false, []]);
  assert.deepEqual(verify("root nc-wx nc-wx-wild"), [false, []]);
});

test("x509 security: email, IP and URI constraints", () => {
  assert.deepEqual(verify("root nc-email nc-email-evil"), [false, []]);
  assert.deepEqual(verify("root nc-ip nc-ip-evil"), [false, []]);
  assert.deepEqual(verify("root nc-ip nc-ip-excl"), [false, []]);
  assert.deepEqual(verify("root nc-uri nc-uri-evil"), [false, []]);
});

test("x509 security: constraints on the root apply too, also to an intermediate's own names", () => {
  assert.deepEqual(verify("ncroot ncroot-evil"), [false, []]);
  assert.deepEqual(verify("ncroot ncroot-int ncroot-int-leaf"), [false, []]);
});

test("x509 security: a critical name-constraints form that is not checked (directoryName) is not understood", () => {
  assert.deepEqual(verify("root nc-dirname nc-dirname-leaf"), [false, []]);
  const [parsed] = call("crypto.x509.parse_certificates", PEMS["nc-dirname"]) as Record<string, Value>[];
  assert.deepEqual(parsed.UnhandledCriticalExtensions, [[2, 5, 29, 30]]);
});

test("x509 security: unknown critical extension on the root", () => {
  assert.deepEqual(verify("critroot critroot-leaf"), [false, []]);
});

test("x509 security: a root without the CA flag or without keyCertSign cannot sign", () => {
  assert.deepEqual(verify("rootnotca rootnotca-leaf"), [false, []]);
  assert.deepEqual(verify("rootnobc rootnobc-leaf"), [false, []]);
  assert.deepEqual(verify("rootnoku rootnoku-leaf"), [false, []]);
  assert.deepEqual(verify("root noku noku-leaf"), [false, []]);
});

test("x509 security: certificate policies (requireExplicitPolicy, inhibitAnyPolicy, mappings)", () => {
  assert.deepEqual(verify("root pol-req pol-req-leaf"), [false, []]);
  assert.deepEqual(verify("root pol-a pol-a-leafb"), [false, []]);
  assert.deepEqual(verify("root pol-mapany pol-mapany-leaf"), [false, []]);
});

test("x509 security: a key under 1024 bits does not verify", () => {
  assert.deepEqual(verify("rsa512 rsa512-leaf"), [false, []]);
  assert.deepEqual(verify("rsa1024 rsa1024-leaf"), [true, ["x", "RSA1024 Root"]]);
});

test("x509 security: server-gated-crypto usage on an intermediate no longer stands for serverAuth", () => {
  assert.deepEqual(verify("root eku-int-sgc eku-int-sgc-leaf"), [false, []]);
  assert.equal(verifyAny("root eku-int-sgc eku-int-sgc-leaf"), true);
});

test("x509 security: a malformed subjectAltName URI makes the certificate unparsable", () => {
  assert.deepEqual(verify("root san-urispace-plain"), [false, []]);
  assert.throws(() => call("crypto.x509.parse_certificates", PEMS["san-urispace-plain"]), {
    message: 'crypto.x509.parse_certificates: x509: cannot parse URI "http://a b.example.com/": parse "http://a b.example.com/": invalid character " " in host name',
  });
});

test("x509: parse_and_verify_certificates asks for serverAuth, not any usage", () => {
  assert.deepEqual(verify("root eku-client"), [false, []]);
  assert.equal(verifyAny("root eku-client"), true);
});

// Every chain, as OPA answers.
const ROWS: [string, boolean, string[], boolean][] = [
  ["root nc-dns nc-dns-good", true, ["www.example.com", "NC DNS Intermediate", "NC Root"], true],
  ["root nc-dns nc-dns-evil", false, [], false],
  ["root nc-dns nc-dns-mixed", false, [], false],
  ["root nc-dns nc-dns-cn", true, ["evil.org", "NC DNS Intermediate", "NC Root"], true],
  ["root nc-excl nc-excl-evil", false, [], false],
  ["root nc-excl nc-excl-sub", false, [], false],
  ["root nc-excl nc-excl-base", true, ["x", "NC Excluded Intermediate", "NC Root"], true],
  ["root nc-excl nc-excl-good", true, ["x", "NC Excluded Intermediate", "NC Root"], true],
  ["root nc-excl nc-excl-wild", false, [], false],
  ["root nc-email nc-email-good", true, ["x", "NC Email Intermediate", "NC Root"], true],
  ["root nc-email nc-email-evil", false, [], false],
  ["root nc-email nc-email-other", false, [], false],
  ["root nc-ip nc-ip-good", true, ["x", "NC IP Intermediate", "NC Root"], true],
  ["root nc-ip nc-ip-evil", false, [], false],
  ["root nc-ip nc-ip-excl", false, [], false],
  ["root nc-ip nc-ip-v6", false, [], false],
  ["root nc-ip nc-ip-dns", true, ["x", "NC IP Intermediate", "NC Root"], true],
  ["root nc-uri nc-uri-good", true, ["x", "NC URI Intermediate", "NC Root"], true],
  ["root nc-uri nc-uri-evil", false, [], false],
  ["root nc-uri nc-uri-ip", false, [], false],
  ["root nc-dirname nc-dirname-leaf", false, [], false],
  ["root nc-dirname-nc nc-dirname-nc-leaf", true, ["x", "NC DirName NonCrit", "NC Root"], true],
  ["ncroot ncroot-evil", false, [], false],
  ["ncroot ncroot-good", true, ["x", "NC Constrained Root"], true],
  ["ncroot ncroot-int ncroot-int-leaf", false, [], false],
  ["root crit-int crit-int-leaf", false, [], false],
  ["root crit-leaf", false, [], false],
  ["critroot critroot-leaf", false, [], false],
  ["root notca notca-leaf", false, [], false],
  ["root nobc nobc-leaf", false, [], false],
  ["rootnotca rootnotca-leaf", false, [], false],
  ["rootnobc rootnobc-leaf", false, [], false],
  ["plroot plroot-int plroot-int-leaf", false, [], false],
  ["plroot plroot-leaf", true, ["x", "PathLen0 Root"], true],
  ["root pl0 pl0-int pl0-int-leaf", false, [], false],
  ["root pl0 pl0-leaf", true, ["x", "PathLen0 Int", "NC Root"], true],
  ["root noku noku-leaf", false, [], false],
  ["rootnoku rootnoku-leaf", false, [], false],
  ["root eku-client", false, [], true],
  ["root eku-int eku-int-code", false, [], true],
  ["root eku-int eku-int-server", true, ["x", "EKU ServerAuth Int", "NC Root"], true],
  ["root eku-int eku-int-none", true, ["x", "EKU ServerAuth Int", "NC Root"], true],
  ["root expired-int expired-int-leaf", false, [], false],
  ["root future-leaf", false, [], false],
  ["root expired-leaf", false, [], false],
  ["root good-leaf", true, ["x", "NC Root"], true],
  ["root nc-wx nc-wx-wild", false, [], false],
  ["root nc-wx nc-wx-other", true, ["x", "Wild Excl", "NC Root"], true],
  ["root nc-wx nc-wx-deep", false, [], false],
  ["root nc-wp nc-wp-wild", false, [], false],
  ["root nc-wp nc-wp-deep", true, ["x", "Wild Perm", "NC Root"], true],
  ["root nc-dns nc-dns-case", true, ["x", "NC DNS Intermediate", "NC Root"], true],
  ["root nc-dns nc-dns-base", true, ["x", "NC DNS Intermediate", "NC Root"], true],
  ["root nc-dns nc-dns-suffix", false, [], false],
  ["root nc-dns nc-dns-dotdot", false, [], false],
  ["root nc-dns nc-dns-trail", false, [], false],
  ["root nc-dns nc-dns-email", true, ["x", "NC DNS Intermediate", "NC Root"], true],
  ["root nc-dns nc-dns-bademail", false, [], false],
  ["root nc-dns nc-dns-uriip", false, [], false],
  ["root nc-dns nc-dns-ip", true, ["x", "NC DNS Intermediate", "NC Root"], true],
  ["root nc-email nc-email-case", false, [], false],
  ["root nc-email nc-email-case2", true, ["x", "NC Email Intermediate", "NC Root"], true],
  ["root nc-email nc-email-sub", true, ["x", "NC Email Intermediate", "NC Root"], true],
  ["root nc-email nc-email-quoted", false, [], false],
  ["root nc-emaildot nc-emaildot-base", false, [], false],
  ["root nc-emaildot nc-emaildot-sub", true, ["x", "Email Dot", "NC Root"], true],
  ["root nc-uri nc-uri-port", true, ["x", "NC URI Intermediate", "NC Root"], true],
  ["root nc-uri nc-uri-urn", false, [], false],
  ["root nc-uri nc-uri-base", false, [], false],
  ["root nc-uri nc-uri-v6", false, [], false],
  ["root nc-uri nc-uri-user", true, ["x", "NC URI Intermediate", "NC Root"], true],
  ["root nc-empty nc-empty-leaf", true, ["x", "Empty Perm", "NC Root"], true],
  ["root nc-dnsdot nc-dnsdot-base", false, [], false],
  ["root nc-dnsdot nc-dnsdot-sub", true, ["x", "DNS Dot", "NC Root"], true],
  ["root nc-v6 nc-v6-good", true, ["x", "V6", "NC Root"], true],
  ["root nc-v6 nc-v6-v4", false, [], false],
  ["root nc-ip nc-v6-mapped", false, [], false],
  ["root nc-badmask nc-badmask-leaf", false, [], false],
  ["root nc-baddns nc-baddns-leaf", false, [], false],
  ["root nc-uriipc nc-uriipc-leaf", false, [], false],
  ["root nc-noncrit nc-noncrit-evil", false, [], false],
  ["root nc-dirname-nc nc-dirnc-baddns", false, [], false],
  ["root nc-dns-baddns-noNC", true, ["x", "NC Root"], true],
  ["root eku-sgc", false, [], true],
  ["root eku-nssgc", false, [], true],
  ["root eku-int-sgc eku-int-sgc-leaf", false, [], true],
  ["root eku-unk", false, [], true],
  ["root eku-int-unk eku-int-unk-leaf", false, [], true],
  ["root eku-anyleaf", true, ["x", "NC Root"], true],
  ["root pol-req pol-req-leaf", false, [], false],
  ["root pol-req pol-req-leafp", false, [], false],
  ["root sha1-leaf", false, [], false],
  ["rsa512 rsa512-leaf", false, [], false],
  ["rsa1024 rsa1024-leaf", true, ["x", "RSA1024 Root"], true],
  ["polroot polroot-leaf", true, ["x", "Policy Root"], true],
  ["root pol-a pol-a-leafa", true, ["x", "Policy A Int", "NC Root"], true],
  ["root pol-a pol-a-leafb", false, [], false],
  ["root pol-a pol-a-leafany", true, ["x", "Policy A Int", "NC Root"], true],
  ["root pol-a pol-a-none", false, [], false],
  ["root pol-any pol-any-leafb", true, ["x", "Policy Any Int", "NC Root"], true],
  ["root pol-any pol-any-none", false, [], false],
  ["root pol-any-int2 pol-any pol-any-int2-none", false, [], false],
  ["root pol-any pol-any-int2 pol-any-int2-leaf", true, ["x", "Policy Any Int2", "Policy Any Int", "NC Root"], true],
  ["root pol-map pol-map-leaf9", true, ["x", "Policy Map Int", "NC Root"], true],
  ["root pol-map pol-map-leaf5", false, [], false],
  ["root pol-mapany pol-mapany-leaf", false, [], false],
  ["root pol-inh pol-inh-leafany", false, [], false],
  ["root pol-inh pol-inh-leafb", true, ["x", "Inhibit Any Int", "NC Root"], true],
  ["root pol-nomap pol-nomap-int pol-nomap-leaf9", false, [], false],
  ["root pol-nomap pol-nomap-int pol-nomap-leaf5", false, [], false],
  ["root nc-dns nc-dns-urievil", true, ["x", "NC DNS Intermediate", "NC Root"], true],
  ["root nc-dns nc-dns-urigood", true, ["x", "NC DNS Intermediate", "NC Root"], true],
  ["root nc-dns nc-dns-urn", false, [], false],
  ["root nc-ip nc-ip-uriip", false, [], false],
  ["root nc-ip nc-ip-urievil", true, ["x", "NC IP Intermediate", "NC Root"], true],
  ["root nc-email nc-email-uriip", false, [], false],
  ["root nc-dns nc-dns-uriport", true, ["x", "NC DNS Intermediate", "NC Root"], true],
  ["root nc-wxd nc-wxd-wild", true, ["x", "Wild Excl Dot", "NC Root"], true],
  ["root nc-wxe nc-wxe-wild", false, [], false],
  ["root nc-wxu nc-wxu-wild", false, [], false],
  ["root nc-email san-dnsff", false, [], false],
  ["root san-dnsff-plain", false, [], false],
  ["root nc-email san-emailff", false, [], false],
  ["root san-emailff-plain", false, [], false],
  ["root nc-email san-uribad", false, [], false],
  ["root san-uribad-plain", false, [], false],
  ["root nc-email san-uripct", false, [], false],
  ["root san-uripct-plain", false, [], false],
  ["root nc-email san-urictl", false, [], false],
  ["root san-urictl-plain", false, [], false],
  ["root nc-email san-urispace", false, [], false],
  ["root san-urispace-plain", false, [], false],
  ["root nc-email san-quoted", true, ["x", "NC Email Intermediate", "NC Root"], true],
  ["root san-quoted-plain", true, ["x", "NC Root"], true],
  ["root nc-email san-quoted2", true, ["x", "NC Email Intermediate", "NC Root"], true],
  ["root san-quoted2-plain", true, ["x", "NC Root"], true],
  ["root nc-email san-escaped", true, ["x", "NC Email Intermediate", "NC Root"], true],
  ["root san-escaped-plain", true, ["x", "NC Root"], true],
  ["root nc-email san-ip5", false, [], false],
  ["root san-ip5-plain", false, [], false],
  ["root nc-email san-dnsempty", true, ["x", "NC Email Intermediate", "NC Root"], true],
  ["root san-dnsempty-plain", true, ["x", "NC Root"], true],
  ["root nc-email san-uriempty", false, [], false],
  ["root san-uriempty-plain", true, ["x", "NC Root"], true],
  ["root uri0", false, [], false],
  ["root uri1", false, [], false],
  ["root uri2", true, ["x", "NC Root"], true],
  ["root uri3", true, ["x", "NC Root"], true],
  ["root uri4", true, ["x", "NC Root"], true],
  ["root uri5", false, [], false],
  ["root uri6", false, [], false],
  ["root uri7", false, [], false],
  ["root uri8", true, ["x", "NC Root"], true],
  ["root uri9", false, [], false],
  ["root uri10", true, ["x", "NC Root"], true],
  ["root uri11", true, ["x", "NC Root"], true],
  ["root uri12", false, [], false],
  ["root uri13", false, [], false],
  ["root uri14", false, [], false],
  ["root uri15", false, [], false],
  ["root uri16", false, [], false],
  ["root uri17", false, [], false],
  ["root uri18", true, ["x", "NC Root"], true],
  ["root uri19", true, ["x", "NC Root"], true],
  ["root uri20", true, ["x", "NC Root"], true],
];

for (const [chain, ok, names, okAny] of ROWS) {
  test(`x509 chain: ${chain}`, () => {
    assert.deepEqual(verify(chain), [ok, names]);
    assert.equal(verifyAny(chain), okAny);
  });
}
