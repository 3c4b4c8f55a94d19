// `parameters.assign.externalData`: placeholders resolved by the providers after the mutators
// converged, Gatekeeper's failure policies and error texts (pkg/mutation/system_external_data.go),
// the Username data source, a placeholder as a schema leaf, and a real provider over HTTP.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { MutationSystem, MutationFailure } from "../../../src/gatekeeper/mutation/index.ts";
import { providerCaller, type ProviderAnswer, type ProviderCaller } from "../../../src/gatekeeper/mutation/externaldata.ts";
import { parseProvider } from "../../../src/gatekeeper/externaldata.ts";
import { mutateOffline } from "../../../src/gatekeeper/mutation/offline.ts";
import type { Obj } from "../../../src/gatekeeper/yaml.ts";

const applyTo = [{ groups: [""], kinds: ["Pod"], versions: ["v1"] }];
const imageFrom = (name: string, externalData: Obj): Obj => ({
  apiVersion: "mutations.gatekeeper.sh/v1",
  kind: "Assign",
  metadata: { name },
  spec: { applyTo, location: "spec.containers[name: *].image", parameters: { assign: { externalData } } },
});
const pod = (...images: string[]): Obj => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns" }, spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } });

function fake(answers: Record<string, ProviderAnswer | Error>, calls: { provider: string; keys: string[] }[] = []): ProviderCaller {
  return async (provider, keys) => {
    calls.push({ provider, keys: [...keys].sort() });
    const a = answers[provider];
    if (a instanceof Error) throw a;
    if (!a) throw new Error(`no fake answer for ${provider}`);
    return a;
  };
}
const ok = (items: [string, unknown, string?][]): ProviderAnswer => ({ items: items.map(([key, value, error]) => ({ key, value, error: error ?? "" })), systemError: "", idempotent: true });

async function run(mutators: Obj[], object: Obj, call: ProviderCaller, username = "") {
  const sys = MutationSystem.build(mutators);
  assert.deepEqual(sys.statuses.flatMap((s) => s.errors), []);
  return sys.mutateResolved({ object, namespace: null, source: "Original", operation: "CREATE", username }, { callProvider: call });
}

test("externalData: one request per provider with the values at the location as keys", async () => {
  const calls: { provider: string; keys: string[] }[] = [];
  const o = pod("nginx:1", "redis:7", "nginx:1");
  const r = await run([imageFrom("digest", { provider: "resolver" })], o, fake({ resolver: ok([["nginx:1", "nginx@sha256:aa"], ["redis:7", "redis@sha256:bb"]]) }, calls));
  assert.equal(r.mutated, true);
  assert.deepEqual(o.spec.containers.map((c: Obj) => c.image), ["nginx@sha256:aa", "redis@sha256:bb", "nginx@sha256:aa"]);
  assert.deepEqual(calls, [{ provider: "resolver", keys: ["nginx:1", "redis:7"] }]);
});

test("externalData failure policies: Fail with Gatekeeper's texts, Ignore keeps the value, UseDefault", async () => {
  const cases: [ProviderAnswer | Error, string][] = [
    [new Error("connection refused"), "failed to send external data request to provider resolver: connection refused"],
    [{ ...ok([]), systemError: "down" }, "failed to validate external data response from provider resolver: non-empty system error: down"],
    [{ ...ok([["nginx:1", "x"]]), idempotent: false }, "failed to validate external data response from provider resolver: non-idempotent response"],
    [ok([]), "failed to find external data item in response for provider resolver"],
    [ok([["nginx:1", "", "not allowed"]]), "failed to retrieve external data item from provider resolver: not allowed"],
    [ok([["nginx:1", 5]]), "failed to convert external data item value from provider resolver to string, got type float64"],
  ];
  for (const [answer, text] of cases) {
    await assert.rejects(run([imageFrom("digest", { provider: "resolver" })], pod("nginx:1"), fake({ resolver: answer })), (e: unknown) => {
      assert.ok(e instanceof MutationFailure);
      assert.equal(e.message, `failed to resolve external data placeholders: ${text}`);
      return true;
    });
    const ignored = pod("nginx:1");
    await run([imageFrom("digest", { provider: "resolver", failurePolicy: "Ignore" })], ignored, fake({ resolver: answer }));
    assert.equal(ignored.spec.containers[0].image, "nginx:1");
    const defaulted = pod("nginx:1");
    await run([imageFrom("digest", { provider: "resolver", failurePolicy: "UseDefault", default: "blocked:0" })], defaulted, fake({ resolver: answer }));
    assert.equal(defaulted.spec.containers[0].image, "blocked:0");
  }
  // Several failing placeholders: Kubernetes' aggregate text (a repeated message once, brackets around two or more).
  await assert.rejects(run([imageFrom("digest", { provider: "resolver" })], pod("a", "b"), fake({ resolver: ok([]) })), {
    message: "failed to resolve external data placeholders: failed to find external data item in response for provider resolver",
  });
  await assert.rejects(run([imageFrom("digest", { provider: "resolver" })], pod("a", "b"), fake({ resolver: ok([["a", "", "denied"]]) })), {
    message: "failed to resolve external data placeholders: [failed to retrieve external data item from provider resolver: denied, failed to find external data item in response for provider resolver]",
  });
  // An unknown provider (none configured): not found in the responses.
  const sys = MutationSystem.build([imageFrom("digest", { provider: "nowhere" })]);
  await assert.rejects(sys.mutateResolved({ object: pod("a"), namespace: null, source: "Original", operation: "" }), { message: "failed to resolve external data placeholders: failed to find external data provider nowhere in responses" });
});

test("externalData Username on AssignMetadata: the requesting user is the key", async () => {
  const owner: Obj = {
    apiVersion: "mutations.gatekeeper.sh/v1",
    kind: "AssignMetadata",
    metadata: { name: "owner" },
    spec: { location: "metadata.annotations.owner", parameters: { assign: { externalData: { provider: "users", dataSource: "Username" } } } },
  };
  const calls: { provider: string; keys: string[] }[] = [];
  const o = pod("nginx");
  await run([owner], o, fake({ users: ok([["alice@example.com", "team-a"]]) }, calls), "alice@example.com");
  assert.equal(o.metadata.annotations.owner, "team-a");
  assert.deepEqual(calls, [{ provider: "users", keys: ["alice@example.com"] }]);
});

test("a placeholder ends a path: a mutator going deeper through it is in conflict", () => {
  const deeper: Obj = { apiVersion: "mutations.gatekeeper.sh/v1", kind: "Assign", metadata: { name: "deeper" }, spec: { applyTo, location: "spec.containers[name: *].image.x", parameters: { assign: { value: "y" } } } };
  const sys = MutationSystem.build([imageFrom("digest", { provider: "resolver" }), deeper]);
  assert.deepEqual(sys.conflicts(), ["Assign.mutations.gatekeeper.sh /deeper", "Assign.mutations.gatekeeper.sh /digest"]);
});

test("providerCaller: a real provider over HTTP, and portcullis mutate's providers from the input", async () => {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const keys: string[] = JSON.parse(body).request.keys;
      res.writeHead(200, { "Content-Type": "application/json" }).end(
        JSON.stringify({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "ProviderResponse", response: { idempotent: true, items: keys.map((k) => ({ key: k, value: `mirror.example.com/${k}` })) } }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  try {
    const port = (server.address() as { port: number }).port;
    const provider = { apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "mirror" }, spec: { url: `http://127.0.0.1:${port}/`, timeout: 2 } };
    const call = providerCaller(new Map([["mirror", parseProvider(provider, true)]]));
    const o = pod("nginx:1");
    await run([imageFrom("mirror", { provider: "mirror" })], o, call);
    assert.equal(o.spec.containers[0].image, "mirror.example.com/nginx:1");
    // Offline, Providers in the input must use https (as Gatekeeper requires): an http one is reported.
    const r = await mutateOffline([imageFrom("mirror", { provider: "mirror" }), provider, pod("nginx:1")]);
    assert.match(r.errors[0], /^invalid Provider: Provider "mirror": spec.url must use https/);
    assert.match(r.errors[1], /failed to find external data provider mirror in responses$/);
  } finally {
    server.close();
  }
});
