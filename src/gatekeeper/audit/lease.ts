// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
// the holder renews `spec.renewTime` every `retryMs`; a candidate takes the Lease over once
// `renewTime + leaseDurationSeconds` has passed without a renewal. Every write carries the
// resourceVersion it read, so two candidates never both win (the loser gets 409 Conflict). A
// leader that cannot renew within `renewDeadlineMs` stops leading before its Lease can expire,
// so there is at most one leader at any time as long as clocks agree within the margin.

import { KubeClient, isConflict, isNotFound, type ResourceRef } from "../../kube/index.ts";

const LEASES: ResourceRef = { group: "coordination.k8s.io", version: "v1", plural: "leases", namespaced: true, kind: "Lease" };

export interface LeaseOptions {
  name: string;
  namespace: string;
  /** This candidate's identity (the pod name). */
  identity: string;
  /** How long a Lease stays valid without renewal, seconds (default 15, client-go's). */
  leaseDurationSeconds?: number;
  /** A leader that has not renewed for this long stops leading, ms (default 10,000). */
  renewDeadlineMs?: number;
  /** Time between attempts, ms (default 2,000). */
  retryMs?: number;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  onError?: (e: unknown) => void;
}

/** Kubernetes' MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaseElector {
  private timer: NodeJS.Timeout | null = null;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly duration: number;
  private readonly renewDeadline: number;
  private readonly retry: number;

  constructor(
    private readonly client: KubeClient,
    private readonly o: LeaseOptions,
  ) {
    this.duration = o.leaseDurationSeconds ?? 15;
    this.renewDeadline = o.renewDeadlineMs ?? 10_000;
    this.retry = o.retryMs ?? 2_000;
    if (this.renewDeadline >= this.duration * 1000) throw new Error("lease: the renew deadline must be shorter than the lease duration");
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    const tick = async () => {
      if (this.stopped) return;
      this.running = this.attempt();
      await this.running;
      if (!this.stopped) this.timer = setTimeout(tick, this.retry);
    };
    void tick();
  }

  /** Stop renewing without giving the Lease up (what a crashed process does; tests). */
  async halt(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    this.setLeading(false);
  }

  /** Stop; a leader gives the Lease up (holderIdentity cleared) so another takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (this.leading) {
      try {
        const lease = await this.client.getOrNull(LEASES, this.o.name, this.o.namespace);
        if (lease && lease.spec?.holderIdentity === this.o.identity) {
          lease.spec = { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1 };
          await this.client.replace(LEASES, lease);
        }
      } catch (e) {
        this.o.onError?.(e);
      }
      this.setLeading(false);
    }
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    if (v) this.o.onStartedLeading?.();
    else this.o.onStoppedLeading?.();
  }

  /** One round: create, renew or take over the Lease. */
  private async attempt(): Promise<void> {
    const now = new Date();
    try {
      const lease = await this.client.getOrNull(LEASES, this.o.name, this.o.namespace);
      if (!lease) {
        await this.client.create(
          LEASES,
          {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: this.o.name, namespace: this.o.namespace },
            spec: { holderIdentity: this.o.identity, leaseDurationSeconds: this.duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
          },
          this.o.namespace,
        );
        this.lastRenew = Date.now();
        this.setLeading(true);
        return;
      }
      const spec = lease.spec ?? {};
      const holder = typeof spec.holderIdentity === "string" ? spec.holderIdentity : "";
      const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? "") || 0;
      const duration = (Number(spec.leaseDurationSeconds) || this.duration) * 1000;
      if (holder === this.o.identity) {
        lease.spec = { ...spec, renewTime: microTime(now), leaseDurationSeconds: this.duration };
        await this.client.replace(LEASES, lease);
        this.lastRenew = Date.now();
        this.setLeading(true);
        return;
      }
      if (holder !== "" && renewed + duration > now.getTime()) {
        this.setLeading(false);
        return;
      }
      // Free or expired: take it over.
      lease.spec = {
        ...spec,
        holderIdentity: this.o.identity,
        leaseDurationSeconds: this.duration,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (Number(spec.leaseTransitions) || 0) + (holder !== this.o.identity ? 1 : 0),
      };
      await this.client.replace(LEASES, lease);
      this.lastRenew = Date.now();
      this.setLeading(true);
    } catch (e) {
      if (!isConflict(e) && !isNotFound(e)) this.o.onError?.(e);
      // Could not renew in time: stop leading before the Lease expires for the others.
      if (this.leading && Date.now() - this.lastRenew > this.renewDeadline) this.setLeading(false);
      else if (!this.leading) this.setLeading(false);
    }
  }
}
