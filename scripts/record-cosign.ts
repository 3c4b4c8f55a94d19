// Records cosign's answers for test/sign/cosign-recorded.test.ts (run by hand when cosign changes):
//   node --import tsx scripts/record-cosign.ts
// Needs ~/go/bin/cosign and /usr/bin/docker-registry. Writes test/fixtures/sign/cosign/:
// a key pair made by `cosign generate-key-pair` (password "pw"), a blob signature by
// `cosign sign-blob`, and for a fixed test image (tests/support's TEST_IMAGE, so its digest is
// the same every time): the `.sig` manifest, config and payload `cosign sign --key` pushed, the
// bundle referrer `cosign sign --new-bundle-format` pushed, and cosign verify's stdout.

import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RegistryClient } from "../src/oci/client.ts";
import { parseReference } from "../src/oci/reference.ts";
import { parseManifest, signatureTag } from "../src/sign/layout.ts";
import { startRegistry, goTool } from "../test/support/registry.ts";
import { pushFixedImage } from "../test/sign/fixed-image.ts";

const OUT = fileURLToPath(new URL("../test/fixtures/sign/cosign", import.meta.url));
const cosign = goTool("cosign");
if (!cosign) throw new Error("cosign is not installed (go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.1)");

async function main() {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const env = { ...process.env, COSIGN_PASSWORD: "pw" };
  const run = (args: string[]) => execFileSync(cosign!, args, { cwd: OUT, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  run(["generate-key-pair", "--output-key-prefix", "cosign"]);
  writeFileSync(join(OUT, "empty_root.json"), JSON.stringify({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }));
  writeFileSync(join(OUT, "blob.txt"), "a policy bundle's bytes\n");
  run(["sign-blob", "--key", "cosign.key", "--tlog-upload=false", "-y", "--output-signature", "blob.sig", "blob.txt"]);

  const reg = await startRegistry();
  const client = new RegistryClient();
  try {
    for (const [repo, flags] of [
      ["fixed/legacy", []],
      ["fixed/bundle", ["--new-bundle-format"]],
    ] as const) {
      const { ref, digest } = await pushFixedImage(client, reg.host, repo);
      run(["sign", ...flags, "--key", "cosign.key", "--tlog-upload=false", "-y", `${ref}@${digest}`]);
      const r = parseReference(ref);
      const name = repo.split("/")[1];
      if (flags.length === 0) {
        const got = await client.getManifest({ ...r, tag: signatureTag(digest), digest: undefined });
        const m = parseManifest(got.bytes);
        writeFileSync(join(OUT, `${name}.sig.manifest.json`), got.bytes);
        writeFileSync(join(OUT, `${name}.sig.config.json`), await client.getBlob(r, m.config.digest));
        writeFileSync(join(OUT, `${name}.payload.json`), await client.getBlob(r, m.layers[0].digest));
      } else {
        const { index } = await client.referrers(r, digest);
        const got = await client.getManifest({ ...r, tag: undefined, digest: index.manifests[0].digest });
        const m = parseManifest(got.bytes);
        writeFileSync(join(OUT, `${name}.referrer.manifest.json`), got.bytes);
        writeFileSync(join(OUT, `${name}.bundle.json`), await client.getBlob(r, m.layers[0].digest));
      }
      // the new bundle format wants a trusted root even with a key and no log: an empty one
      const root = flags.length ? ["--trusted-root", "empty_root.json"] : [];
      writeFileSync(join(OUT, `${name}.verify.stdout.json`), run(["verify", ...flags, ...root, "--key", "cosign.pub", "--insecure-ignore-tlog", `${ref}@${digest}`]));
    }
  } finally {
    await client.close();
    await reg.stop();
  }
  console.log(`recorded into ${OUT}: ${readFileSync(join(OUT, "legacy.verify.stdout.json"), "utf8").length} bytes of verify output`);
}

await main();
