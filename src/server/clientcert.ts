// TLS client authentication of the server (--authentication=tls, --tls-ca-cert-file,
// --min-tls-version): the CA file OPA accepts, and the identity and client certificates OPA's
// TLS identifier gives the authorization policy (`input.identity`, `input.client_certificates`).

import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import type { DetailedPeerCertificate, SecureVersion, TLSSocket } from "node:tls";
import type { Value } from "../rego/value.ts";
import { certificateToValue, goDistinguishedName, parseCertificate, pemBlocks } from "../builtins/support/x509.ts";
import { goErrnoText as errnoText } from "../gotext/errno.ts";

export const TLS_VERSIONS: Record<"1.0" | "1.1" | "1.2" | "1.3", SecureVersion> = { "1.0": "TLSv1", "1.1": "TLSv1.1", "1.2": "TLSv1.2", "1.3": "TLSv1.3" };

export class CAFileError extends Error {}

/** The CA file's PEM text; as Go's AppendCertsFromPEM, it must hold at least one certificate that parses. */
export function readCAFile(file: string, reading = "read CA cert file"): Buffer {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (e) {
    const why = errnoText(e);
    throw new CAFileError(`${reading}: open ${file}: ${why}`);
  }
  let parsed = 0;
  for (const b of pemBlocks(text.toString("latin1"))) {
    if (b.type !== "CERTIFICATE") continue;
    try {
      parseCertificate(b.bytes);
      parsed++;
    } catch {
      // Go skips certificates that do not parse
    }
  }
  if (parsed === 0) throw new CAFileError(`failed to parse CA cert ${JSON.stringify(file)}`);
  return text;
}

export interface ClientIdentity {
  /** The first certificate's subject as Go prints it (RFC 2253, e.g. `CN=alice,O=Acme`). */
  identity: string;
  /** The certificates, as Go's x509.Certificate marshals to JSON (OPA's `input.client_certificates`). */
  certificates: Value[];
}

const cache = new WeakMap<Socket, ClientIdentity | null>();

/**
 * The client certificate of a TLS connection (computed once per connection). The certificates
 * are the client's certificate and its issuers up to the CA, in chain order, as the TLS stack
 * verified them; OPA lists them as the client sent them (equal when the client sends its chain
 * up to the CA; a client sending only its own certificate gets one entry from OPA and the chain
 * from Portcullis — see docs/server.md).
 */
export function clientIdentity(socket: Socket): ClientIdentity | undefined {
  const known = cache.get(socket);
  if (known !== undefined) return known ?? undefined;
  let found: ClientIdentity | null = null;
  const s = socket as TLSSocket;
  if (s.encrypted && typeof s.getPeerCertificate === "function") {
    const leaf = s.getPeerCertificate(true) as DetailedPeerCertificate;
    if (leaf && leaf.raw) {
      const chain: Buffer[] = [];
      let c: DetailedPeerCertificate | undefined = leaf;
      while (c && c.raw && chain.length < 32 && !chain.some((d) => d.equals(c!.raw))) {
        chain.push(c.raw);
        c = c.issuerCertificate;
      }
      const certs = chain.map((d) => parseCertificate(d));
      found = { identity: goDistinguishedName(certs[0].rawSubject), certificates: certs.map(certificateToValue) };
    }
  }
  cache.set(socket, found);
  return found ?? undefined;
}
