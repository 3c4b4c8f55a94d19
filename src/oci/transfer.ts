// Moving policy images between the local store and a registry.

import { RegistryError, type RegistryClient } from "./client.ts";
import type { PulledImage } from "./image.ts";
import { formatReference, type Reference } from "./reference.ts";
import type { PolicyStore, StoredImage } from "./store.ts";
import { type Descriptor, MEDIA } from "./types.ts";

/**
 * Checks an artifact before anything of it is written (signature verification plugs in here):
 * throws to refuse it. Called with the reference and the manifest's descriptor.
 */
export type VerifyHook = (ref: Reference, manifest: Descriptor) => Promise<void>;

/** A hook whose refusals (any exception) become RegistryErrors naming the artifact: `REF: refused: …`. */
export function refusing(hook: VerifyHook | undefined): VerifyHook | undefined {
  if (!hook) return undefined;
  return async (ref, manifest) => {
    try {
      await hook(ref, manifest);
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      throw new RegistryError(`${formatReference(ref)}@${manifest.digest}: refused: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
}

/** Pushes a stored image to `ref` (the same manifest bytes, so the same digest). */
export async function pushStored(client: RegistryClient, store: PolicyStore, img: StoredImage, ref: Reference): Promise<Descriptor> {
  for (const d of [img.manifest.config, ...img.manifest.layers]) await client.pushBlob(ref, store.getBlob(d.digest), d.mediaType);
  const bytes = store.getBlob(img.descriptor.digest);
  return (await client.putManifest(ref, bytes, MEDIA.ociManifest, ref.tag)).descriptor;
}

/** Puts a pulled image into the store, tagged `ref`. */
export function storePulled(store: PolicyStore, ref: Reference, img: PulledImage): Descriptor {
  return store.putImage(ref, img.manifestBytes, [
    { digest: img.manifest.config.digest, data: img.config },
    ...img.layers.map((l) => ({ digest: l.descriptor.digest, data: l.data })),
  ]);
}
