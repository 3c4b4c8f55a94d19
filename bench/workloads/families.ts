// The synthetic workload families: a 200-rule indexed RBAC policy, per-team comprehensions,
// and equivalents of regorus's own evaluation benches (its repository's benches/evaluation: nine
// small `data.bench.allow` policies on API access, Azure resources, data handling and time; the
// policies below are written for this bench in the same spirit, not copied). Each family also
// has a generator by input size for the scaling table.
import type { Workload } from "../lib/workload.ts";

// ---- RBAC: 200 rules, each selected by input.action (an indexable equality) ------------------

function rbacModule(): string {
  const rules = ["package rbac", "", "default allow := false"];
  for (let i = 0; i < 200; i++) {
    rules.push(`allow if {
  input.action == "action${i}"
  some role in input.user.roles
  role == "role${i % 20}"
  input.resource.owner == input.user.name
}`);
  }
  return rules.join("\n\n") + "\n";
}

function rbacInput(action: string, roles: number): unknown {
  const rs = Array.from({ length: Math.max(roles - 1, 0) }, (_, i) => `viewer${i}`);
  rs.push("role17");
  return { action, user: { name: "alice", roles: rs }, resource: { owner: "alice", id: 42 } };
}

export function rbacWorkloads(): Workload[] {
  const m = [{ file: "rbac.rego", source: rbacModule() }];
  return [
    { id: "rbac:allow", family: "rbac", name: "200 rules, action137 allowed", modules: m, regoVersion: "v1", input: rbacInput("action137", 2), query: "data.rbac.allow" },
    { id: "rbac:deny", family: "rbac", name: "200 rules, action138 denied", modules: m, regoVersion: "v1", input: rbacInput("action138", 2), query: "data.rbac.allow" },
    { id: "rbac:none", family: "rbac", name: "200 rules, no rule's action", modules: m, regoVersion: "v1", input: rbacInput("other", 2), query: "data.rbac.allow" },
  ];
}

/** The user holds n roles (the matching one last). */
export function rbacScaled(n: number): Workload {
  return { id: `rbac-scale:${n}`, family: "rbac", name: `200 rules, ${n} roles`, modules: [{ file: "rbac.rego", source: rbacModule() }], regoVersion: "v1", input: rbacInput("action137", n), query: "data.rbac.allow", size: n };
}

// ---- comprehensions: members per team, for every item's team ---------------------------------

const COMP = `package comp

by_team := {team: members |
  some t in input.items
  team := t.team
  members := [m.name | some m in input.items; m.team == team]
}

names := {n | some item in input.items; n := item.name}

expensive := [i.name | some i in input.items; i.cost > 500]

report := {"teams": count(by_team), "names": count(names), "expensive": count(expensive), "total": sum([i.cost | some i in input.items])}
`;

export function compWorkload(n: number, what: "by_team" | "report" = "by_team"): Workload {
  const items = Array.from({ length: n }, (_, i) => ({ name: `item${i}`, team: `team${i % 10}`, cost: (i * 37) % 1000 }));
  return {
    id: `comp:${what}:${n}`,
    family: "comprehensions",
    name: what === "by_team" ? `members per team, ${n} items` : `report (sets, filters, sum), ${n} items`,
    modules: [{ file: "comp.rego", source: COMP }],
    regoVersion: "v1",
    input: { items },
    query: `data.comp.${what}`,
    size: n,
  };
}

export function compWorkloads(sizes: number[]): Workload[] {
  return [...sizes.map((n) => compWorkload(n, "by_team")), compWorkload(sizes.includes(1000) ? 1000 : sizes[0], "report")];
}

// ---- regorus's evaluation benches, recreated ----------------------------------------------------

const NOW = 1_767_225_600_000_000_000; // 2026-01-01T00:00:00Z in ns, passed in the input (never time.now_ns: answers must not depend on the clock)

const REGORUS: { name: string; source: string; inputs: unknown[] }[] = [
  {
    name: "api access",
    source: `package bench

default allow := false

api_prefixes := ["/api/v1/", "/api/v2/", "/api/v3/"]

allow if {
  input.request.method in {"GET", "HEAD"}
  some p in api_prefixes
  startswith(input.request.path, p)
  input.user.authenticated
  input.now_ns - input.user.login_ns < 86400000000000
}
`,
    inputs: [{ request: { method: "GET", path: "/api/v2/orders/17" }, user: { authenticated: true, login_ns: NOW - 3600e9 }, now_ns: NOW }],
  },
  {
    name: "key vault",
    source: `package bench

default allow := false

read_ops := {"Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/secrets/read", "Microsoft.KeyVault/vaults/certificates/read"}

admins := {"admin@example.com", "secops@example.com"}

allow if {
  read_ops[input.operation]
  input.principal.type == "ServicePrincipal"
  input.principal.appId != ""
  input.resource.properties.enableSoftDelete
  input.resource.properties.enablePurgeProtection
  input.now_ns - input.principal.createdNs < 31536000000000000
}

allow if {
  read_ops[input.operation]
  input.principal.type == "User"
  admins[input.principal.upn]
  input.context.conditionalAccess.compliant
}
`,
    inputs: [
      {
        operation: "Microsoft.KeyVault/vaults/secrets/read",
        principal: { type: "User", upn: "secops@example.com", appId: "" },
        resource: { properties: { enableSoftDelete: true, enablePurgeProtection: false } },
        context: { conditionalAccess: { compliant: true } },
        now_ns: NOW,
      },
    ],
  },
  {
    name: "network security group",
    source: `package bench

default allow := false

risky_ports := {"22", "3389", "1433", "3306", "5432", "6379", "27017"}

private_ranges := ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]

from_private if {
  some r in private_ranges
  net.cidr_contains(r, input.rule.sourceAddressPrefix)
}

inbound_allow if {
  input.operation == "Microsoft.Network/networkSecurityGroups/securityRules/write"
  input.rule.direction == "Inbound"
  input.rule.access == "Allow"
}

allow if {
  inbound_allow
  input.rule.destinationPortRange != "*"
  not risky_ports[input.rule.destinationPortRange]
  not input.rule.sourceAddressPrefix in {"*", "Internet"}
}

allow if {
  inbound_allow
  risky_ports[input.rule.destinationPortRange]
  from_private
  input.rule.priority >= 1000
}
`,
    inputs: [
      {
        operation: "Microsoft.Network/networkSecurityGroups/securityRules/write",
        rule: { direction: "Inbound", access: "Allow", protocol: "TCP", sourceAddressPrefix: "172.16.4.0/24", destinationPortRange: "5432", priority: 1200 },
      },
    ],
  },
  {
    name: "storage account",
    source: `package bench

default allow := false

allow if {
  input.resource.type == "Microsoft.Storage/storageAccounts"
  props := input.resource.properties
  props.supportsHttpsTrafficOnly
  props.minimumTlsVersion in {"TLS1_2", "TLS1_3"}
  props.allowBlobPublicAccess == false
  every rule in object.get(props, ["networkAcls", "ipRules"], []) {
    rule.action == "Allow"
    not endswith(rule.value, "/0")
  }
}
`,
    inputs: [
      {
        resource: {
          type: "Microsoft.Storage/storageAccounts",
          properties: { supportsHttpsTrafficOnly: true, minimumTlsVersion: "TLS1_2", allowBlobPublicAccess: false, networkAcls: { ipRules: [{ value: "203.0.113.0/24", action: "Allow" }, { value: "198.51.100.7", action: "Allow" }] } },
        },
      },
    ],
  },
  {
    name: "virtual machine",
    source: `package bench

default allow := false

sizes := {"Standard_B2s", "Standard_D2s_v5", "Standard_D4s_v5"}

regions := {"eastus", "westeurope", "northeurope"}

allow if {
  input.resource.type == "Microsoft.Compute/virtualMachines"
  sizes[input.resource.properties.hardwareProfile.vmSize]
  regions[input.resource.location]
  input.resource.tags.costCenter != ""
  input.resource.properties.storageProfile.osDisk.managedDisk.storageAccountType != "Standard_LRS"
  not password_login
}

password_login if input.resource.properties.osProfile.linuxConfiguration.disablePasswordAuthentication == false
`,
    inputs: [
      {
        resource: {
          type: "Microsoft.Compute/virtualMachines",
          location: "westeurope",
          tags: { costCenter: "cc-17", owner: "team-a" },
          properties: {
            hardwareProfile: { vmSize: "Standard_D2s_v5" },
            storageProfile: { osDisk: { managedDisk: { storageAccountType: "Premium_LRS" } } },
            osProfile: { linuxConfiguration: { disablePasswordAuthentication: true } },
          },
        },
      },
    ],
  },
  {
    name: "data processing",
    source: `package bench

default allow := false

sensitive := ["ssn", "credit_card", "password"]

has_sensitive if {
  some f in sensitive
  object.get(input.data, f, null) != null
}

clearance := object.get(input.user.attributes, "clearance", 0)

needed := 3 if has_sensitive
else := 1

allow if {
  clearance >= needed
  input.operation in {"read", "export"}
  count(input.data) > 0
  count(input.data) <= 1000
}

allow if {
  input.user.role == "data_processor"
  input.operation == "transform"
  not has_sensitive
}
`,
    inputs: [{ user: { role: "analyst", attributes: { clearance: 3, team: "risk" } }, operation: "export", data: { name: "x", ssn: "000-00-0000", amount: 12 } }],
  },
  {
    name: "data sensitivity",
    source: `package bench

default allow := false

grants := {
  "admin": ["read", "write", "delete", "admin"],
  "manager": ["read", "write"],
  "user": ["read"],
}

perms contains p if {
  some role in input.user.roles
  some p in grants[role]
}

allow if {
  perms[input.action]
  input.resource.owner == input.user.id
}

allow if {
  input.action == "read"
  perms.read
  input.resource.public
}
`,
    inputs: [{ user: { id: "u7", roles: ["user", "manager"] }, action: "write", resource: { owner: "u7", public: false } }],
  },
  {
    name: "rbac",
    source: `package bench

default allow := false

allow if {
  some binding in input.bindings
  binding.subject == input.user
  some rule in input.roles[binding.role]
  glob.match(rule.resource, ["/"], input.resource)
  input.verb in rule.verbs
}
`,
    inputs: [
      {
        user: "carol",
        verb: "update",
        resource: "projects/alpha/deployments",
        bindings: [
          { subject: "bob", role: "viewer" },
          { subject: "carol", role: "developer" },
        ],
        roles: {
          viewer: [{ resource: "projects/*/*", verbs: ["get", "list"] }],
          developer: [
            { resource: "projects/*/pods", verbs: ["get", "list", "create"] },
            { resource: "projects/alpha/*", verbs: ["get", "update"] },
          ],
        },
      },
    ],
  },
  {
    name: "time based",
    source: `package bench

default allow := false

working_hours if {
  [hour, _, _] := time.clock([input.now_ns, "UTC"])
  hour >= 9
  hour < 17
}

approvals := count([a | some a in input.approvals; a.status == "approved"])

allow if {
  input.user.department in {"engineering", "product"}
  input.action == "deploy"
  working_hours
  approvals >= 2
}

allow if {
  input.user.emergency_access
  input.action in {"read", "diagnose"}
  input.justification != ""
}
`,
    inputs: [
      {
        user: { department: "engineering", emergency_access: false },
        action: "deploy",
        now_ns: NOW + 10 * 3600e9,
        approvals: [
          { by: "a", status: "approved" },
          { by: "b", status: "rejected" },
          { by: "c", status: "approved" },
        ],
        justification: "",
      },
    ],
  },
];

export function regorusWorkloads(): Workload[] {
  return REGORUS.flatMap((p) =>
    p.inputs.map((input, i) => ({
      id: `regorus:${p.name}:${i}`,
      family: "regorus",
      name: p.name,
      modules: [{ file: `${p.name.replace(/ /g, "_")}.rego`, source: p.source }],
      regoVersion: "v1" as const,
      input,
      query: "data.bench.allow",
    })),
  );
}

/** The recreated rbac bench with n role bindings (the user's binding last). */
export function regorusScaled(n: number): Workload {
  const p = REGORUS.find((x) => x.name === "rbac")!;
  const base = p.inputs[0] as { bindings: unknown[] };
  const bindings = Array.from({ length: Math.max(n - 1, 0) }, (_, i) => ({ subject: `user${i}`, role: "viewer" }));
  bindings.push({ subject: "carol", role: "developer" });
  return { id: `regorus-scale:${n}`, family: "regorus", name: `rbac, ${n} bindings`, modules: [{ file: "rbac.rego", source: p.source }], regoVersion: "v1", input: { ...base, bindings }, query: "data.bench.allow", size: n };
}
