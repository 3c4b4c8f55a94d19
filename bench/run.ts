// Engine benchmarks: evaluations per second, in process, with the ratio to JSON.parse of the
// same input (how many JSON.parse calls of the input one evaluation costs).
//   (a) a Gatekeeper library template (required labels) on a Pod admission review
//   (b) a 200-rule RBAC-style policy whose rules test input.action (indexed)
//   (c) a comprehension-heavy policy over a 500-element input
// Usage: npm run bench   (set BENCH_SECONDS to change the time per case, default 2)

import { Engine } from "../src/index.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

function rate(fn: () => void): number {
  // Warm up, then count calls in a fixed time.
  const warm = Date.now() + 300;
  while (Date.now() < warm) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

function report(name: string, inputText: string, evalFn: () => void): void {
  const evals = rate(evalFn);
  const parses = rate(() => JSON.parse(inputText));
  console.log(
    `${name.padEnd(44)} ${evals.toFixed(0).padStart(9)} evals/s   JSON.parse of its input: ${parses.toFixed(0).padStart(9)}/s   ratio ${(parses / evals).toFixed(1)}x`,
  );
}

// (a) Gatekeeper required-labels template on a Pod review
{
  const e = new Engine({ regoVersion: "v0" });
  e.addModule(
    "k8srequiredlabels.rego",
    `package k8srequiredlabels

get_message(parameters, _default) = msg {
  not parameters.message
  msg := _default
}

get_message(parameters, _default) = msg {
  msg := parameters.message
}

violation[{"msg": msg, "details": {"missing_labels": missing}}] {
  provided := {label | input.review.object.metadata.labels[label]}
  required := {label | label := input.parameters.labels[_].key}
  missing := required - provided
  count(missing) > 0
  def_msg := sprintf("you must provide labels: %v", [missing])
  msg := get_message(input.parameters, def_msg)
}

violation[{"msg": msg}] {
  value := input.review.object.metadata.labels[key]
  expected := input.parameters.labels[_]
  expected.key == key
  expected.allowedRegex != ""
  not regex.match(expected.allowedRegex, value)
  def_msg := sprintf("Label <%v: %v> provided does not satisfy allowed regex: %v", [key, value, expected.allowedRegex])
  msg := get_message(input.parameters, def_msg)
}
`,
  );
  const input = {
    review: {
      kind: { group: "", version: "v1", kind: "Pod" },
      operation: "CREATE",
      name: "web",
      namespace: "prod",
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web", namespace: "prod", labels: { app: "web", owner: "team-a", tier: "frontend" } },
        spec: {
          containers: [
            { name: "web", image: "nginx:1.25", resources: { limits: { cpu: "500m", memory: "256Mi" } } },
            { name: "sidecar", image: "envoy:1.30" },
          ],
        },
      },
    },
    parameters: { labels: [{ key: "owner", allowedRegex: "^team-[a-z]+$" }, { key: "costcenter" }] },
  };
  const text = JSON.stringify(input);
  report("(a) gatekeeper k8srequiredlabels, Pod", text, () => {
    e.query("data.k8srequiredlabels.violation[v]", { input: JSON.parse(text) });
  });
}

// (b) 200-rule RBAC policy indexed on input.action
{
  const e = new Engine();
  const rules: string[] = ["package rbac", "default allow := false"];
  for (let i = 0; i < 200; i++) {
    rules.push(`allow if {
  input.action == "action${i}"
  input.user.roles[_] == "role${i % 20}"
  input.resource.owner == input.user.name
}`);
  }
  e.addModule("rbac.rego", rules.join("\n\n"));
  const input = { action: "action137", user: { name: "alice", roles: ["role17", "viewer"] }, resource: { owner: "alice", id: 42 } };
  const text = JSON.stringify(input);
  const rs = e.query("data.rbac.allow", { input });
  if (!Array.isArray(rs) || rs[0]?.expressions[0].value !== true) throw new Error("rbac bench: unexpected result");
  report("(b) 200-rule RBAC, indexed on input.action", text, () => {
    e.query("data.rbac.allow", { input: JSON.parse(text) });
  });
}

// (c) comprehension-heavy policy
{
  const e = new Engine();
  e.addModule(
    "comp.rego",
    `package comp

names := {n | some item in input.items; n := item.name}
by_team := {team: members | some t in input.items; team := t.team; members := [m.name | some m in input.items; m.team == team]}
expensive := [i.name | some i in input.items; i.cost > 500]
total := sum([i.cost | some i in input.items])
report := {"names": count(names), "teams": count(by_team), "expensive": count(expensive), "total": total}
`,
  );
  const items = Array.from({ length: 500 }, (_, i) => ({ name: `item${i}`, team: `team${i % 10}`, cost: (i * 37) % 1000 }));
  const text = JSON.stringify({ items });
  report("(c) comprehensions over 500 items", text, () => {
    e.query("data.comp.report", { input: JSON.parse(text) });
  });
}
