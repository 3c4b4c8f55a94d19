// ACI-style container policy workloads (bench/workloads/aci.rego): a layer device mount, an
// overlay mount, a container creation and an exec, on a policy of a few containers; the scaling
// generator grows the created container's environment.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import type { Workload } from "../lib/workload.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = fs.readFileSync(path.join(here, "aci.rego"), "utf8");

const hash = (s: string) => createHash("sha256").update(s).digest("hex");

const UNPRIVILEGED = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"];

function container(i: number, extraRules: number) {
  const layers = Array.from({ length: 6 }, (_, k) => hash(`image${i % 3}-layer${k}`));
  const env_rules = [
    { pattern: "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", strategy: "string", required: true },
    { pattern: `APP_VERSION=1.${i}.0`, strategy: "string", required: true },
    { pattern: "TERM=xterm", strategy: "string", required: false },
    { pattern: "HOSTNAME=.+", strategy: "re2", required: false },
    { pattern: "FEATURE_[A-Z0-9_]+=(on|off)", strategy: "re2", required: false },
    ...Array.from({ length: extraRules }, (_, k) => ({ pattern: `OPTION_${k}=value${k}`, strategy: "string", required: false })),
  ];
  return {
    id: `container${i}`,
    command: ["/app/server", "--port", String(8000 + i)],
    working_dir: "/app",
    layers,
    env_rules,
    mounts: [
      { destination: "/etc/config", type: "bind", options: ["rbind", "rshared", "ro"], source: "sandbox:///config" },
      { destination: "/data", type: "bind", options: ["rbind", "rshared", "rw"], source: "sandbox:///data" },
    ],
    exec_processes: [{ command: ["/bin/sh", "-c", "healthcheck"] }, { command: ["cat", "/proc/self/status"] }],
    allow_elevated: false,
    allow_stdio_access: i % 2 === 0,
    capabilities: null,
  };
}

function policyData(started: boolean, extraRules = 8) {
  const containers = Array.from({ length: 6 }, (_, i) => container(i, extraRules));
  const devices: Record<string, string> = {};
  containers[0].layers.forEach((h, k) => (devices[`/run/layers/p0-layer${k}`] = h));
  // Containers 0 and 3 share image0's layers: both match the overlay; the command picks container0.
  return {
    sandboxPrefix: "sandbox://",
    defaultUnprivilegedCapabilities: UNPRIVILEGED,
    policy: { containers },
    metadata: {
      devices,
      overlayTargets: {},
      matches: { container0: [containers[0], containers[3]] },
      started: started ? { container0: { privileged: false } } : {},
    },
  };
}

function createInput(envExtra: number) {
  const envList = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "APP_VERSION=1.0.0",
    "TERM=xterm",
    "HOSTNAME=sandbox0",
    ...Array.from({ length: envExtra }, (_, k) => `FEATURE_FLAG_${k}=${k % 2 ? "on" : "off"}`),
  ];
  const caps = UNPRIVILEGED.slice(0, 10);
  return {
    containerID: "container0",
    argList: ["/app/server", "--port", "8000"],
    workingDir: "/app",
    envList,
    privileged: false,
    capabilities: { bounding: caps, effective: caps, inheritable: [], permitted: caps, ambient: [] },
    sandboxDir: "/run/gcs/c/sandbox0/sandboxMounts",
    mounts: [
      { destination: "/etc/config", type: "bind", options: ["rbind", "rshared", "ro"], source: "/run/gcs/c/sandbox0/sandboxMounts/config" },
      { destination: "/data", type: "bind", options: ["rbind", "rshared", "rw"], source: "/run/gcs/c/sandbox0/sandboxMounts/data" },
    ],
  };
}

const modules = [{ file: "aci.rego", source: SOURCE }];

export function aciWorkloads(): Workload[] {
  const data = policyData(false);
  const layers = data.policy.containers[0].layers;
  return [
    { id: "aci:mount_device", family: "aci", name: "mount_device", modules, regoVersion: "v1", data, input: { target: "/run/layers/p1-layer2", deviceHash: layers[2] }, query: "data.aci.mount_device" },
    {
      id: "aci:mount_overlay",
      family: "aci",
      name: "mount_overlay",
      modules,
      regoVersion: "v1",
      data,
      input: { containerID: "container0", target: "/run/gcs/c/container0/rootfs", layerPaths: [5, 4, 3, 2, 1, 0].map((k) => `/run/layers/p0-layer${k}`) },
      query: "data.aci.mount_overlay",
    },
    { id: "aci:create_container", family: "aci", name: "create_container", modules, regoVersion: "v1", data, input: createInput(6), query: "data.aci.create_container" },
    {
      id: "aci:exec_in_container",
      family: "aci",
      name: "exec_in_container",
      modules,
      regoVersion: "v1",
      data: policyData(true),
      input: { containerID: "container0", argList: ["/bin/sh", "-c", "healthcheck"], envList: createInput(2).envList },
      query: "data.aci.exec_in_container",
    },
  ];
}

/** create_container with n environment variables (each checked against the container's rules). */
export function aciScaled(n: number): Workload {
  return { id: `aci-scale:${n}`, family: "aci", name: `create_container, ${n} env vars`, modules, regoVersion: "v1", data: policyData(false), input: createInput(Math.max(n - 4, 0)), query: "data.aci.create_container", size: n };
}
