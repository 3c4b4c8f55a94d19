// OPA bundles: build, sign and verify against opa's recorded answers (test/bundle/record.ts), and
// the archive reader's refusals. Runs without OPA; with ~/go/bin/opa present, a few checks are
// also run live.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync, existsSync, rmSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { join } from "node:path";
import { tmpdir, homedir } from "node:os";
import { spawnSync } from "node:child_process";
import { cli } from "../cli/helpers.ts";
import { variants } from "./tamper.ts";
import {
  readBundle,
  readBundleArchive,
  readTarGz,
  writeTarGz,
  writeBundle,
  hashFile,
  parseRaw,
  writeRaw,
  rawToValue,
  BundleError,
  type VerificationConfig,
} from "../../src/bundle/index.ts";
import { writeTar } from "../../src/bundle/tar.ts";

const FIX = join(import.meta.dirname, "fixtures");
const REC = join(FIX, "recorded");
process.chdir(FIX);
const tmp = mkdtempSync(join(tmpdir(), "bundle-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const OPA = join(homedir(), "go/bin/opa");
const haveOPA = existsSync(OPA);

const out = (name: string) => join(tmp, name);
const tarOf = (f: string) => gunzipSync(readFileSync(f));

test("portcullis build writes the tar stream opa build writes (plain, -r/--ignore, -b, signed RS256, RS512 with claims)", async () => {
  const cases: [string, string[]][] = [
    ["plain", ["build", "plain"]],
    ["plain-revision-ignore", ["build", "plain", "-r", "rev-7", "--ignore", "extra.yaml"]],
    ["bundle", ["build", "-b", "policy", "-r", "r2"]],
    ["bundle-rs256", ["build", "-b", "policy", "--signing-key", "rsa.pem"]],
    ["bundle-rs256-claims", ["build", "-b", "policy", "--signing-key", "rsa.pem", "--signing-alg", "RS512", "--claims-file", "claims.json"]],
  ];
  for (const [name, args] of cases) {
    const r = await cli([...args, "-o", out(`${name}.tar.gz`)]);
    assert.equal(r.code, 0, `${name}: ${r.out}${r.err}`);
    const mine = tarOf(out(`${name}.tar.gz`));
    const theirs = readFileSync(join(REC, `${name}.tar`));
    assert.ok(mine.equals(theirs), `${name}: tar stream differs from opa build's\n${readTarGz(gzipSync(mine)).map((e) => `${e.name}: ${e.data}`).join("\n")}`);
  }
});

test("the gzip wrapper is Go's: mtime 0, OS 255", async () => {
  const r = await cli(["build", "plain", "-o", out("g.tar.gz")]);
  assert.equal(r.code, 0);
  const gz = readFileSync(out("g.tar.gz"));
  assert.deepEqual([...gz.subarray(0, 4)], [0x1f, 0x8b, 8, 0]);
  assert.equal(gz.readUInt32LE(4), 0);
  assert.equal(gz[9], 0xff);
});

test("tampering: portcullis build -b --verification-key answers as opa for every case", async () => {
  const rec = JSON.parse(readFileSync(join(REC, "tamper.json"), "utf8")) as { cases: { name: string; args: string[]; status: number; stdout: string }[] };
  const vs = variants(readFileSync(join(REC, "opa-rs256.tar.gz")));
  assert.equal(vs.length, rec.cases.length);
  let refused = 0;
  for (const [i, v] of vs.entries()) {
    const want = rec.cases[i];
    assert.equal(v.name, want.name);
    const f = out("variant.tar.gz");
    writeFileSync(f, v.archive);
    const r = await cli(["build", "-b", f, "--verification-key", "rsa.pub", ...v.args, "-o", out("o.tar.gz")]);
    assert.equal(r.code, want.status, `${v.name}: ${r.out}${r.err}`);
    assert.equal(r.out.split(f).join("BUNDLE"), want.stdout, v.name);
    if (want.status !== 0) refused++;
  }
  assert.equal(refused, 11);
});

const vc = (key: string, alg = "RS256", scope = ""): VerificationConfig => ({ keys: { default: { key: readFileSync(key, "utf8"), algorithm: alg } }, keyId: "default", scope, exclude: [] });

test("opa-signed ES256 bundle with claims: verified with the key and scope; refused without the scope", () => {
  const b = readBundle(join(REC, "opa-es256.tar.gz"), { verification: vc("ec.pub", "ES256", "write") });
  assert.equal(b.manifest.revision, "r1");
  assert.deepEqual(b.manifest.roots, ["x", "y"]);
  assert.throws(() => readBundle(join(REC, "opa-es256.tar.gz"), { verification: vc("ec.pub", "ES256") }), /^BundleError: scope mismatch$/);
  assert.throws(() => readBundle(join(REC, "opa-es256.tar.gz")), /verification key not provided/);
  // skipVerify reads it as opa run --skip-verify does
  assert.equal(readBundle(join(REC, "opa-es256.tar.gz"), { skipVerify: true }).modules.length, 1);
});

test("opa verified bundles portcullis signed with RS256, PS384, ES256, HS256 (recorded), and portcullis verifies them too", async () => {
  const rec = JSON.parse(readFileSync(join(REC, "opa-accepts.json"), "utf8")) as { accepted: { alg: string; status: number; stdout: string }[] };
  assert.equal(rec.accepted.length, 4);
  for (const a of rec.accepted) {
    assert.equal(a.status, 0, a.stdout);
    assert.equal(a.stdout, "");
    const [key, pub] = a.alg.startsWith("ES") ? ["ec.pem", "ec.pub"] : a.alg.startsWith("HS") ? ["s3cr3t", "s3cr3t"] : ["rsa.pem", "rsa.pub"];
    const f = out(`p-${a.alg}.tar.gz`);
    const r = await cli(["build", "-b", "policy", "--signing-key", key, "--signing-alg", a.alg, "-o", f]);
    assert.equal(r.code, 0, r.out);
    const v = await cli(["build", "-b", f, "--verification-key", pub, "--signing-alg", a.alg, "-o", out("v.tar.gz")]);
    assert.equal(v.code, 0, `${a.alg}: ${v.out}`);
    if (haveOPA) {
      const live = spawnSync(OPA, ["build", "-b", f, "--verification-key", pub, "--signing-alg", a.alg, "-o", out("w.tar.gz")], { encoding: "utf8" });
      assert.equal(live.status, 0, `opa refused portcullis's ${a.alg} bundle: ${live.stdout}`);
    }
  }
});

test("portcullis sign writes a .signatures.json opa build verifies in the directory", async () => {
  const dir = mkdtempSync(join(tmp, "sign-"));
  const r = await cli(["sign", "-b", "policy", "--signing-key", "rsa.pem", "-o", dir]);
  assert.equal(r.code, 0, r.err);
  const sigs = JSON.parse(readFileSync(join(dir, ".signatures.json"), "utf8")) as { signatures: string[] };
  const payload = JSON.parse(Buffer.from(sigs.signatures[0].split(".")[1], "base64url").toString()) as { files: { name: string }[] };
  assert.deepEqual(payload.files.map((f) => f.name), ["policy/.manifest", "policy/x/data.json", "policy/x/p.rego", "policy/y/data.yaml"]);
  assert.equal((await cli(["sign", "policy", "--signing-key", "rsa.pem"])).err, "Error: enable bundle mode (ie. --bundle) to sign bundle files or directories\n");
  assert.equal((await cli(["sign", "-b", "policy"])).err, "Error: specify the secret (HMAC) or path of the PEM file containing the private key (RSA and ECDSA)\n");
});

test("data.yaml is read as OPA reads YAML (1.1 booleans) and hashed over its canonical JSON", () => {
  const b = readBundle("policy", {});
  const y = b.data.get("y") as Map<string, unknown>;
  assert.equal(y.get("enabled"), true);
  assert.ok(y.has("false"), "the key n is the boolean false in YAML 1.1");
  // canonical hashing: key order and whitespace do not matter, number literals do
  assert.equal(hashFile("data.json", Buffer.from('{"b": 1.50, "a": [1, "<&>"]}')), hashFile("x/data.json", Buffer.from('{"a":[1,"<&>"],"b":1.50}')));
  assert.notEqual(hashFile("data.json", Buffer.from('{"b":1.5}')), hashFile("data.json", Buffer.from('{"b":1.50}')));
  assert.notEqual(hashFile("p.rego", Buffer.from("package a\n")), hashFile("p.rego", Buffer.from("package  a\n")));
  // number literals survive a round trip, and big ones stay exact as values
  assert.equal(writeRaw(parseRaw('{"n":12345678901234567890,"f":1.50}')), '{"f":1.50,"n":12345678901234567890}');
  assert.equal(String(rawToValue(parseRaw("12345678901234567890"))), "12345678901234567890");
});

test("build errors as opa build prints them (stdout, exit 1)", async () => {
  writeFileSync(out("bad.rego"), "package bad\np := x\n");
  const cases: [string[], string][] = [
    [[out("bad.rego")], `error: 1 error occurred: ${out("bad.rego")}:2: rego_unsafe_var_error: var x is unsafe\n`],
    [["--signing-key", "rsa.pem", "policy"], "error: enable bundle mode (ie. --bundle) to verify or sign bundle files or directories\n"],
    [["-b", "policy", "--claims-file", "claims.json"], "error: specify the secret (HMAC) or path of the PEM file containing the private key (RSA and ECDSA)\n"],
    [["-b", join(REC, "opa-es256.tar.gz")], `error: load error: bundle ${join(REC, "opa-es256.tar.gz")}: verification key not provided\n`],
    [["-t", "wasm", "policy"], "error: target wasm is not supported: Portcullis builds Rego bundles only (-t rego)\n"],
    // opa build's texts for these (checked with opa 1.19.0)
    [["no-such-path"], "error: load error: 1 error occurred during loading: stat no-such-path: no such file or directory\n"],
    [["-b", "no-such-path"], 'error: load error: error reading "no-such-path": stat no-such-path: no such file or directory\n'],
    [["-b", "policy/x/p.rego"], "error: load error: bundle policy/x/p.rego: bundle read failed: archive read failed: gzip: invalid header\n"],
  ];
  for (const [args, want] of cases) {
    const r = await cli(["build", ...args, "-o", out("e.tar.gz")]);
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(r.out, want);
  }
  const t = await cli(["build", "-t", "foo", "policy"]);
  assert.equal(t.code, 1);
  assert.match(t.err, /invalid argument "foo" for "-t, --target" flag: must be one of \{rego,wasm,plan\}/);
});

// ---- The archive reader's limits (an attacker may write the bundle) ----------------------------

function rawTar(entries: { name: string; type?: string; data?: string; linkname?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    const data = Buffer.from(e.data ?? "");
    h.write(e.name, 0, 100, "latin1");
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
    h.write("00000000000\0", 136);
    h.write(e.type ?? "0", 156);
    if (e.linkname) h.write(e.linkname, 157, 100);
    h.write("ustar\0" + "00", 257, "latin1");
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

test("archives: symlinks, hard links, devices and .. paths are refused; limits hold", () => {
  const ok = rawTar([{ name: "/x/data.json", data: '{"a":1}' }]);
  assert.equal(JSON.stringify(rawToValue(readBundleArchive(ok).data)), '{"x":{"a":1}}');
  const refuse: [Buffer, RegExp][] = [
    [rawTar([{ name: "/evil.rego", type: "2", linkname: "/etc/passwd" }]), /entry '\/evil.rego' is a symbolic link: only regular files and directories are allowed/],
    [rawTar([{ name: "/h.rego", type: "1", linkname: "x" }]), /is a hard link/],
    [rawTar([{ name: "/dev", type: "3" }]), /is a character device/],
    [rawTar([{ name: "/fifo", type: "6" }]), /is a FIFO/],
    [rawTar([{ name: "/../../etc/x.rego", data: "package x" }]), /has an unsafe path/],
    [Buffer.from("not gzip at all"), /^bundle read failed: archive read failed: gzip: invalid header$/],
    [Buffer.from("garbage"), /^bundle read failed: archive read failed: unexpected EOF$/],
    [gzipSync(Buffer.alloc(700, 1)), /archive read failed/],
  ];
  for (const [archive, re] of refuse) assert.throws(() => readBundleArchive(archive), (e: Error) => e instanceof BundleError && re.test(e.message), String(re));
  // a gzip bomb stops at the decompressed-size limit
  const bomb = gzipSync(Buffer.concat([rawTar([]).length ? Buffer.alloc(0) : Buffer.alloc(0), Buffer.alloc(8 * 1024 * 1024)]));
  assert.throws(() => readBundleArchive(bomb, { limits: { maxUncompressedBytes: 1024 * 1024 } }), /decompressed size exceeds the limit of 1048576 bytes/);
  const big = rawTar([{ name: "/x/data.json", data: `{"a":"${"x".repeat(5000)}"}` }]);
  assert.throws(() => readBundleArchive(big, { limits: { maxFileBytes: 4096 } }), /bundle file \/x\/data.json size \(5008 bytes\) exceeds configured size_limit_bytes \(4096 bytes\)/);
  const many = rawTar(Array.from({ length: 20 }, (_, i) => ({ name: `/p${i}.rego`, data: `package p${i}\n` })));
  assert.throws(() => readBundleArchive(many, { limits: { maxFiles: 10 } }), /more than 10 files/);
  assert.throws(() => readBundleArchive(ok, { limits: { maxCompressedBytes: 10 } }), /compressed size \d+ bytes exceeds the limit of 10 bytes/);
});

test("manifest checks as OPA: overlapping roots, packages and data outside the roots, wasm refused", () => {
  const mk = (files: [string, string][]) => writeTarGz(files.map(([name, data]) => ({ name, data: Buffer.from(data) })));
  const cases: [[string, string][], string][] = [
    [[["/.manifest", '{"roots":["a","a/b"]}']], "manifest has overlapped roots: 'a' and 'a/b'"],
    [[["/.manifest", '{"roots":["a"]}'], ["/p.rego", "package b\n"]], "manifest roots [a] do not permit 'package b' in module '/p.rego'"],
    [[["/.manifest", '{"roots":["a"]}'], ["/c/data.json", '{"x":1}']], "manifest roots [a] do not permit data at path '/c' (hint: check bundle directory structure)"],
    [[["/.manifest", '{"revision":1}']], "bundle load failed on manifest decode: json: cannot unmarshal number into Go struct field Manifest.revision of type string"],
    [[["/policy.wasm", "\0asm"]], "bundle load failed on /policy.wasm: wasm modules are not supported (Portcullis evaluates Rego only)"],
    [[["/data.json", "[1]"]], "bundle load failed on /data.json: root value must be object"],
    [[["/a/data.json", '{"x":1}'], ["/a/x/data.json", '{"y":1}']], "bundle load failed on /a/x/data.json: failed to insert data file from path a/x"],
    [[["/data.json", "{"]], "bundle load failed on /data.json: unexpected EOF"],
  ];
  for (const [files, msg] of cases) assert.throws(() => readBundleArchive(mk(files)), (e: Error) => e.message === msg, msg);
});

test("write → read round trip keeps modules, data (exact numbers), manifest and signature", () => {
  const b = readBundle(join(REC, "opa-rs256.tar.gz"), { verification: vc("rsa.pub") });
  const again = readBundleArchive(writeBundle(b), { verification: vc("rsa.pub") });
  assert.equal(writeRaw(again.data), writeRaw(b.data));
  assert.deepEqual(again.modules.map((m) => [m.path, m.raw]), b.modules.map((m) => [m.path, m.raw]));
  assert.equal(again.manifest.revision, "r1");
  assert.ok(writeTar(readTarGz(writeBundle(b))).equals(gunzipSync(readFileSync(join(REC, "opa-rs256.tar.gz")))));
});
