// The signature-verification flags shared by `verify-signature` and the commands that fetch
// policy from a registry (`pull`, `test --update oci://…`): a key, or keyless identities against
// a trusted root. With any of them given, an artifact without a valid signature is refused
// before anything of it is written.
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import type { ClientOptions } from "../oci/client.ts";
import type { VerifyHook } from "../oci/transfer.ts";
import type { VerifyPolicy } from "../sign/verify.ts";

export interface VerificationFlags {
  key?: string;
  verifyKey?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  trustedRoot?: string;
  insecureIgnoreTlog?: boolean;
  insecureIgnoreSct?: boolean;
  annotations?: string[];
}

/** -a key=value flags as an object; throws on one without `=`. */
export function parseAnnotations(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list) {
    const eq = a.indexOf("=");
    if (eq <= 0) throw new Error(`unable to parse annotation ${JSON.stringify(a)}: expected key=value`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

/** The keyless flags (with --trusted-root and the two --insecure-ignore-* flags). */
export function keylessFlags(cmd: Command): Command {
  return cmd
    .option("--certificate-identity <id>", "keyless: the certificate's SAN (email or URI), exactly")
    .option("--certificate-identity-regexp <re>", "keyless: a Go regular expression the SAN must match")
    .option("--certificate-oidc-issuer <url>", "keyless: the OIDC issuer in the certificate, exactly")
    .option("--certificate-oidc-issuer-regexp <re>", "keyless: a Go regular expression the OIDC issuer must match")
    .option("--trusted-root <file>", "Sigstore trusted_root.json: Fulcio CAs, Rekor and CT log keys (no network is used)")
    .option("--insecure-ignore-tlog", "do not require a transparency log entry")
    .option("--insecure-ignore-sct", "keyless: do not require an embedded SCT");
}

/** The flags of the commands that verify what they fetch (`--verify-key` there, `--key` in verify-signature). */
export function fetchVerificationFlags(cmd: Command): Command {
  return keylessFlags(cmd.option("--verify-key <file>", "refuse the artifact unless a cosign signature verifies with this public key (cosign.pub)"));
}

/** Whether any verification flag was given. */
export function wantsVerification(o: VerificationFlags): boolean {
  return [o.key, o.verifyKey, o.certificateIdentity, o.certificateIdentityRegexp, o.certificateOidcIssuer, o.certificateOidcIssuerRegexp].some((v) => v !== undefined);
}

/** The verification policy of the flags; throws with a one-line reason on a bad combination or file. */
export async function policyFromFlags(o: VerificationFlags, keyFlag = "--verify-key"): Promise<VerifyPolicy> {
  const { loadPublicKey } = await import("../sign/keys.ts");
  const { parseTrustedRoot } = await import("../sign/verify.ts");
  const keyFile = o.key ?? o.verifyKey;
  const identity = o.certificateIdentity !== undefined || o.certificateIdentityRegexp !== undefined || o.certificateOidcIssuer !== undefined || o.certificateOidcIssuerRegexp !== undefined;
  if (keyFile && identity) throw new Error(`${keyFlag} and --certificate-identity/--certificate-oidc-issuer exclude each other`);
  if (!keyFile && !identity) throw new Error(`a verification key (${keyFlag}) or a keyless identity (--certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]) is required`);
  const readFile = (f: string, what: string) => {
    try {
      return readFileSync(f, "utf8");
    } catch (e) {
      throw new Error(`reading ${what} ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const policy: VerifyPolicy = {
    ignoreTlog: !!o.insecureIgnoreTlog,
    ignoreSct: !!o.insecureIgnoreSct,
    annotations: parseAnnotations(o.annotations ?? []),
  };
  if (keyFile) policy.keys = [loadPublicKey(readFile(keyFile, "the public key"))];
  else policy.identities = [{ subject: o.certificateIdentity, subjectRegExp: o.certificateIdentityRegexp, issuer: o.certificateOidcIssuer, issuerRegExp: o.certificateOidcIssuerRegexp }];
  if (o.trustedRoot) policy.trustedRoot = parseTrustedRoot(readFile(o.trustedRoot, "the trusted root"));
  const { checkPolicy } = await import("../sign/verify.ts");
  checkPolicy(policy);
  return policy;
}

/** The hook `pull` and `test --update` hand to the OCI client, or undefined without verification flags. */
export async function verifyHookFromFlags(o: VerificationFlags, clientOptions: ClientOptions): Promise<VerifyHook | undefined> {
  if (!wantsVerification(o)) return undefined;
  const policy = await policyFromFlags(o);
  const { signatureVerifyHook } = await import("../sign/remote.ts");
  return signatureVerifyHook(policy, clientOptions);
}
