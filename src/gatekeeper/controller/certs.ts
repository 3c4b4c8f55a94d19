// The webhook's certificates, as Gatekeeper's cert-controller manages them: a CA and a serving
// certificate for <service>.<namespace>.svc (made by ../certs.ts) kept in a Secret (keys ca.crt,
// ca.key, tls.crt, tls.key), copied into the certificate directory the webhook server reads (and
// reloads), and the CA injected as `caBundle` into every webhook of the
// ValidatingWebhookConfiguration and of the MutatingWebhookConfiguration (when it exists and
// may be read). The Secret is checked every 12 hours: certificates that are
// invalid, for another name, or expire within 90 days are replaced (valid 1 year; cert-controller
// gives its CA 10 years, here CA and serving certificate are replaced together).
// Several replicas share the Secret: a write carries its resourceVersion, and the replica that
// loses the race adopts the winner's certificates. The webhook configuration is checked every
// minute, so a caBundle overwritten by a redeploy is put back.

import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { KubeClient, refs, isConflict, errorText, KubeError, type Obj, type ResourceRef } from "../../kube/index.ts";
import { generateWebhookCertificates, type WebhookCertificates } from "../certs.ts";

/** The four PEM texts the Secret holds. */
export type CertBundle = Pick<WebhookCertificates, "caCert" | "caKey" | "cert" | "key">;
import type { LogFn } from "./source.ts";

const DAY = 24 * 60 * 60 * 1000;

export interface CertRotatorOptions {
  client: KubeClient;
  /** Namespace of the Secret (the controller's namespace). */
  namespace: string;
  /** Default gatekeeper-webhook-server-cert. */
  secretName?: string;
  /** Where tls.crt, tls.key and ca.crt are written. */
  certDir: string;
  /** The webhook Service; the certificate is for <serviceName>.<namespace>.svc. Default gatekeeper-webhook-service. */
  serviceName?: string;
  /** More DNS names or IP addresses for the serving certificate. */
  extraNames?: string[];
  /** ValidatingWebhookConfigurations whose webhooks get the caBundle. Default [gatekeeper-validating-webhook-configuration]. */
  validatingWebhookConfigurations?: string[];
  /** MutatingWebhookConfigurations whose webhooks get the caBundle. Default [gatekeeper-mutating-webhook-configuration]. */
  mutatingWebhookConfigurations?: string[];
  /** Lifetime of new certificates, days. Default 365. */
  certValidityDays?: number;
  /** Replace certificates that expire within this time. Default 90 days. */
  lookaheadMs?: number;
  /** How often the Secret is checked. Default 12 hours. */
  checkEveryMs?: number;
  /** How often the webhook configurations' caBundle is checked. Default 60 s. */
  webhookCheckEveryMs?: number;
  log?: LogFn;
}

/** The mutating webhook's configuration (the mutation webhook, /v1/mutate). */
const MUTATING_WEBHOOK_CONFIGURATIONS: ResourceRef = { group: "admissionregistration.k8s.io", version: "v1", plural: "mutatingwebhookconfigurations", namespaced: false, kind: "MutatingWebhookConfiguration" };

/** Why a bundle cannot be used at `at` for `dnsName` ("" when it can). */
export function bundleProblem(b: Partial<CertBundle>, dnsName: string, at: Date): string {
  if (!b.caCert || !b.caKey || !b.cert || !b.key) return "incomplete";
  try {
    const ca = new X509Certificate(b.caCert);
    const cert = new X509Certificate(b.cert);
    if (!ca.ca) return "ca.crt is not a CA certificate";
    if (!ca.checkPrivateKey(createPrivateKey(b.caKey))) return "ca.key does not match ca.crt";
    if (!cert.checkPrivateKey(createPrivateKey(b.key))) return "tls.key does not match tls.crt";
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return "tls.crt is not signed by ca.crt";
    if (!cert.checkHost(dnsName, { wildcards: false })) return `tls.crt is not valid for ${dnsName}`;
    for (const c of [ca, cert]) {
      if (new Date(c.validFrom) > new Date()) return "not valid yet";
      if (new Date(c.validTo) < at) return `expires ${new Date(c.validTo).toISOString()}`;
    }
    return "";
  } catch (e) {
    return `unreadable: ${errorText(e)}`;
  }
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const unb64 = (s: unknown) => (typeof s === "string" ? Buffer.from(s, "base64").toString("utf8") : undefined);

export class CertRotator {
  private readonly o: Required<Omit<CertRotatorOptions, "extraNames" | "log">> & Pick<CertRotatorOptions, "extraNames">;
  private readonly log: LogFn;
  private timers: NodeJS.Timeout[] = [];
  private current: CertBundle | undefined;
  private stopped = false;
  /** Counters for logs and tests. */
  readonly stats = { generated: 0, adopted: 0, injected: 0 };

  constructor(opts: CertRotatorOptions) {
    this.o = {
      secretName: "gatekeeper-webhook-server-cert",
      serviceName: "gatekeeper-webhook-service",
      validatingWebhookConfigurations: ["gatekeeper-validating-webhook-configuration"],
      mutatingWebhookConfigurations: ["gatekeeper-mutating-webhook-configuration"],
      certValidityDays: 365,
      lookaheadMs: 90 * DAY,
      checkEveryMs: DAY / 2,
      webhookCheckEveryMs: 60_000,
      ...opts,
    };
    if (this.o.lookaheadMs >= this.o.certValidityDays * DAY) throw new Error(`certificate rotation: the lookahead (${this.o.lookaheadMs} ms) must be shorter than the certificates' lifetime (${this.o.certValidityDays} days)`);
    this.log = opts.log ?? (() => {});
  }

  get dnsName(): string {
    return `${this.o.serviceName}.${this.o.namespace}.svc`;
  }

  /** The CA in PEM (after start). */
  get caBundle(): string | undefined {
    return this.current?.caCert;
  }

  /** Make sure the Secret, the files and the caBundles are right; then keep them so. */
  async start(): Promise<void> {
    await this.refresh();
    await this.inject();
    const every = (ms: number, f: () => Promise<unknown>) => {
      const t = setInterval(() => {
        if (!this.stopped) f().catch((e) => this.log("error", "certificate rotation check failed; retrying at the next check", { err: errorText(e) }));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.checkEveryMs, () => this.refresh().then(() => this.inject()));
    every(this.o.webhookCheckEveryMs, () => this.inject());
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Read the Secret; replace its certificates when they are not good until now + lookahead; write the files. */
  async refresh(): Promise<CertBundle> {
    const c = this.o.client;
    for (let attempt = 0; ; attempt++) {
      const secret = await c.getOrNull(refs.secrets, this.o.secretName, this.o.namespace);
      const d = secret?.data ?? {};
      const have = { caCert: unb64(d["ca.crt"]), caKey: unb64(d["ca.key"]), cert: unb64(d["tls.crt"]), key: unb64(d["tls.key"]) };
      const problem = bundleProblem(have, this.dnsName, new Date(Date.now() + this.o.lookaheadMs));
      if (!problem) {
        if (this.current?.cert !== have.cert) {
          if (this.current || attempt > 0) this.stats.adopted++;
          this.log("info", "using the certificates of the Secret", { secret: `${this.o.namespace}/${this.o.secretName}` });
        }
        this.current = have as CertBundle;
        this.writeFiles(this.current);
        return this.current;
      }
      this.log("info", "generating webhook certificates", { secret: `${this.o.namespace}/${this.o.secretName}`, reason: secret ? problem : "no Secret" });
      const made = generateWebhookCertificates([this.dnsName, ...(this.o.extraNames ?? [])], this.o.certValidityDays, this.dnsName);
      const b: CertBundle = { caCert: made.caCert, caKey: made.caKey, cert: made.cert, key: made.key };
      const data = { "ca.crt": b64(b.caCert), "ca.key": b64(b.caKey), "tls.crt": b64(b.cert), "tls.key": b64(b.key) };
      try {
        if (secret) await c.replace(refs.secrets, { ...secret, data });
        else await c.create(refs.secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: this.o.secretName, namespace: this.o.namespace }, type: "Opaque", data });
        this.stats.generated++;
        this.current = b;
        this.writeFiles(b);
        return b;
      } catch (e) {
        // Another replica wrote first: read again and use its certificates.
        const raced = isConflict(e) || (e instanceof KubeError && e.reason === "AlreadyExists");
        if (!raced || attempt >= 4) throw e;
      }
    }
  }

  private writeFiles(b: CertBundle): void {
    mkdirSync(this.o.certDir, { recursive: true });
    // The key before the certificate: a reader that sees the new certificate finds its key.
    for (const [file, text, mode] of [["ca.crt", b.caCert, 0o644], ["tls.key", b.key, 0o600], ["tls.crt", b.cert, 0o644]] as const) {
      const p = join(this.o.certDir, file);
      if (existsSync(p) && readFileSync(p, "utf8") === text) continue;
      const tmp = `${p}.tmp-${process.pid}`;
      writeFileSync(tmp, text, { mode });
      renameSync(tmp, p);
    }
  }

  /** Put the CA into every webhook's clientConfig.caBundle of the configured webhook configurations. */
  async inject(): Promise<void> {
    if (!this.current) return;
    const want = b64(this.current.caCert);
    const targets = [
      ...this.o.validatingWebhookConfigurations.map((name) => ({ name, ref: refs.validatingWebhookConfigurations })),
      ...this.o.mutatingWebhookConfigurations.map((name) => ({ name, ref: MUTATING_WEBHOOK_CONFIGURATIONS })),
    ];
    for (const { name, ref } of targets) {
      try {
        await this.injectInto(ref, name, want);
      } catch (e) {
        // The mutating webhook is optional: a cluster whose RBAC predates it keeps the validating one working.
        if (ref !== MUTATING_WEBHOOK_CONFIGURATIONS) throw e;
        this.log("error", "could not inject the CA into the MutatingWebhookConfiguration", { name, err: errorText(e) });
      }
    }
  }

  private async injectInto(ref: ResourceRef, name: string, want: string): Promise<void> {
    const c = this.o.client;
    for (let attempt = 0; ; attempt++) {
      const wc: Obj | null = await c.getOrNull(ref, name);
      if (!wc) {
        this.log("debug", `no ${ref.kind} to inject the CA into (yet)`, { name });
        return;
      }
      const hooks: Obj[] = Array.isArray(wc.webhooks) ? wc.webhooks : [];
      if (hooks.every((h) => h.clientConfig?.caBundle === want)) return;
      for (const h of hooks) h.clientConfig = { ...(h.clientConfig ?? {}), caBundle: want };
      try {
        await c.replace(ref, wc);
        this.stats.injected++;
        this.log("info", "injected the CA into the webhook configuration", { name, webhooks: hooks.length });
        return;
      } catch (e) {
        if (!isConflict(e) || attempt >= 4) throw e;
      }
    }
  }
}
