// Everything `portcullis controller` needs from a cluster, behind one PolicySource: the API
// connection (kubeconfig or in-cluster), the webhook certificates (rotated into --cert-dir
// before the webhook starts, unless turned off), and the ClusterSource's watches. Stopping it
// stops all three.

import { KubeClient, type KubeConfigOptions } from "../../kube/index.ts";
import type { GatekeeperObjects, PolicySource } from "../state.ts";
import { ClusterSource, type LogFn } from "./source.ts";
import { CertRotator } from "./certs.ts";

export interface ClusterControllerOptions extends KubeConfigOptions {
  /** --gatekeeper-namespace: where the Config, the Secret and the Service are. */
  namespace: string;
  /** --cert-dir */
  certDir: string;
  /** --disable-cert-rotation: certificates come from elsewhere (cert-manager). */
  disableCertRotation?: boolean;
  /** --cert-secret */
  certSecret?: string;
  /** --cert-service-name */
  certServiceName?: string;
  /** --validating-webhook-configuration-name */
  webhookConfigurationName?: string;
  /** --mutating-webhook-configuration-name */
  mutatingWebhookConfigurationName?: string;
  /** Extra names (DNS or IP) for the serving certificate (tests serve on 127.0.0.1). */
  extraCertNames?: string[];
  operations?: string[];
  podName?: string;
  log?: LogFn;
}

export class ClusterController implements PolicySource {
  private constructor(
    private readonly client: KubeClient,
    private readonly source: ClusterSource,
    private readonly rotator: CertRotator | undefined,
  ) {}

  /** Connects and, with rotation on, has valid certificates in certDir before it returns. */
  static async create(o: ClusterControllerOptions): Promise<ClusterController> {
    const client = await KubeClient.connect({ kubeconfig: o.kubeconfig, context: o.context, inCluster: o.inCluster });
    let rotator: CertRotator | undefined;
    if (!o.disableCertRotation) {
      rotator = new CertRotator({
        client,
        namespace: o.namespace,
        certDir: o.certDir,
        secretName: o.certSecret,
        serviceName: o.certServiceName,
        validatingWebhookConfigurations: o.webhookConfigurationName !== undefined ? [o.webhookConfigurationName] : undefined,
        mutatingWebhookConfigurations: !(o.operations ?? []).includes("mutation-webhook") ? [] : o.mutatingWebhookConfigurationName !== undefined ? [o.mutatingWebhookConfigurationName] : undefined,
        extraNames: o.extraCertNames,
        log: o.log,
      });
      try {
        await rotator.start();
      } catch (e) {
        rotator.stop();
        client.close();
        throw e;
      }
    }
    const source = new ClusterSource({ client, gatekeeperNamespace: o.namespace, operations: o.operations, mutation: (o.operations ?? []).includes("mutation-webhook"), podName: o.podName, log: o.log });
    return new ClusterController(client, source, rotator);
  }

  start(onChange: (objs: GatekeeperObjects) => void): Promise<void> {
    return this.source.start(onChange);
  }

  async stop(): Promise<void> {
    this.rotator?.stop();
    await this.source.stop();
    this.client.close();
  }
}
