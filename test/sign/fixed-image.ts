// A small image whose bytes never change, so its digest (and a recorded signature of it) is the
// same in every run: what scripts/record-cosign.ts signed with cosign and the recorded tests push.
import type { RegistryClient } from "../../src/oci/client.ts";
import { parseReference } from "../../src/oci/reference.ts";
import { pushImage } from "../../src/oci/image.ts";

export const FIXED_CONFIG = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] }, config: {} });
export const FIXED_LAYER = "portcullis fixed test layer\n";

export async function pushFixedImage(client: RegistryClient, host: string, repo: string): Promise<{ ref: string; digest: string }> {
  const ref = `${host}/${repo}:v1`;
  const d = await pushImage(client, parseReference(ref), {
    config: { mediaType: "application/vnd.oci.image.config.v1+json", data: Buffer.from(FIXED_CONFIG) },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", data: Buffer.from(FIXED_LAYER) }],
  });
  return { ref, digest: d.digest };
}

/** Pushes a small image made distinct by `seed`; returns its tag reference and digest. */
export async function pushTestImage(client: RegistryClient, host: string, repo: string, tag: string, seed: string): Promise<{ ref: string; digest: string }> {
  const ref = `${host}/${repo}:${tag}`;
  const d = await pushImage(client, parseReference(ref), {
    config: { mediaType: "application/vnd.oci.image.config.v1+json", data: Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed })) },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", data: Buffer.from(`layer ${seed}`) }],
  });
  return { ref, digest: d.digest };
}
