// The local policy store: an OCI image layout with tags by full reference, image IDs, garbage
// collection, digest checks on read, and the lock that keeps concurrent writers' tags.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { PolicyStore, bundleImage, parseReference, defaultStoreRoot, MEDIA } from "../../src/oci/index.ts";

const top = mkdtempSync(join(tmpdir(), "portcullis-store-"));
after(() => rmSync(top, { recursive: true, force: true }));

function add(store: PolicyStore, ref: string, content: string) {
  const tgz = gzipSync(Buffer.from(content));
  const r = parseReference(ref, "latest");
  const { bytes, manifest } = bundleImage(tgz, r, { created: new Date("2026-01-02T03:04:05Z") });
  return { tgz, d: store.putImage(r, bytes, [{ digest: manifest.config.digest, data: Buffer.from("{}") }, { digest: manifest.layers[0].digest, data: tgz }]) };
}

test("store layout, references, image IDs, tags, removal with garbage collection", () => {
  const root = join(mkdtempSync(join(top, "s-")), "policies-root");
  const store = new PolicyStore(root);
  const a = add(store, "localhost:5000/org/a:1", "a");
  assert.equal(readFileSync(join(root, "oci-layout"), "utf8"), '{"imageLayoutVersion":"1.0.0"}');
  const index = JSON.parse(readFileSync(join(root, "index.json"), "utf8"));
  assert.deepEqual(index.manifests, [{ mediaType: MEDIA.ociManifest, digest: a.d.digest, size: a.d.size, annotations: { "org.opencontainers.image.ref.name": "localhost:5000/org/a:1" } }]);
  const img = store.resolve("localhost:5000/org/a:1");
  assert.equal(img.created, "2026-01-02T03:04:05Z");
  assert.deepEqual(img.manifest.layers[0].annotations, {
    "org.opencontainers.image.title": "localhost:5000/org/a",
    "org.openpolicyregistry.type": "policy",
    "org.opencontainers.image.created": "2026-01-02T03:04:05Z",
    "rego.version": "v1",
  });
  assert.ok(store.bundle(img).equals(a.tgz));
  // Docker Hub defaults and latest apply when matching
  add(store, "org/b", "b");
  assert.equal(store.resolve("docker.io/org/b:latest").ref, "docker.io/org/b:latest");
  assert.ok(store.has("org/b:latest") && !store.has("org/b:2"));
  // image IDs
  assert.equal(store.resolve(a.d.digest.slice(7, 19)).descriptor.digest, a.d.digest);
  assert.throws(() => store.resolve("nothing"), /not found in the local store/);
  store.tag("localhost:5000/org/a:1", parseReference("localhost:5000/org/a:2"));
  assert.deepEqual(store.list().map((i) => i.ref).sort(), ["docker.io/org/b:latest", "localhost:5000/org/a:1", "localhost:5000/org/a:2"]);
  // removing one tag keeps the blobs the other needs; removing by ID drops every tag of it
  store.remove("localhost:5000/org/a:1");
  assert.ok(store.bundle(store.resolve("localhost:5000/org/a:2")).equals(a.tgz));
  store.remove(a.d.digest.slice(7, 19));
  assert.deepEqual(store.list().map((i) => i.ref), ["docker.io/org/b:latest"]);
  store.remove("org/b");
  assert.deepEqual(readdirSync(join(root, "blobs", "sha256")), []);
  assert.match(defaultStoreRoot({ PORTCULLIS_HOME: "/x" }), /^\/x\/policies-root$/);
  assert.match(defaultStoreRoot({ HOME: "/h" }), /^\/h\/\.local\/share\/portcullis\/policies-root$/);
  assert.match(defaultStoreRoot({ XDG_DATA_HOME: "/d", HOME: "/h" }), /^\/d\/portcullis\/policies-root$/);
});

test("a corrupt blob is an error, not a wrong bundle; non-gzip bundles are refused", () => {
  const root = join(mkdtempSync(join(top, "s-")), "policies-root");
  const store = new PolicyStore(root);
  add(store, "localhost:5000/org/c:1", "c");
  const img = store.resolve("localhost:5000/org/c:1");
  writeFileSync(join(root, "blobs", "sha256", img.manifest.layers[0].digest.slice(7)), "tampered");
  assert.throws(() => store.bundle(store.resolve("localhost:5000/org/c:1")), /is corrupt/);
  assert.throws(() => bundleImage(Buffer.from("plain"), parseReference("a/b:1")), /not a gzip file/);
});

test("the lock: a writer waits for another, and a stale lock is taken over", () => {
  const root = join(mkdtempSync(join(top, "s-")), "policies-root");
  const store = new PolicyStore(root);
  mkdirSync(join(root, ".lock"), { recursive: true });
  const old = new Date(Date.now() - 120_000);
  utimesSync(join(root, ".lock"), old, old);
  add(store, "localhost:5000/org/d:1", "d");
  assert.ok(store.has("localhost:5000/org/d:1"));
  assert.deepEqual(readdirSync(root).sort(), ["blobs", "index.json", "oci-layout"]);
});
