// The request sequence of the server differential (test/server/differential.test.ts): sent in
// order to `opa run --server` and to `portcullis run --server`, both started on
// test/server/fixtures/diff/policies. Writes change what later reads see, so the order matters.

export interface DiffRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** Send the body gzip-compressed (Content-Encoding: gzip). */
  gzip?: boolean;
}

const J = JSON.stringify;
const get = (path: string): DiffRequest => ({ method: "GET", path });
const post = (path: string, body?: unknown, headers?: Record<string, string>): DiffRequest => ({ method: "POST", path, body: typeof body === "string" || body === undefined ? body : J(body), headers });
const put = (path: string, body: string, headers?: Record<string, string>): DiffRequest => ({ method: "PUT", path, body, headers });
const patch = (path: string, body: unknown): DiffRequest => ({ method: "PATCH", path, body: typeof body === "string" ? body : J(body) });
const del = (path: string): DiffRequest => ({ method: "DELETE", path });
const q = (s: string) => encodeURIComponent(s);

export function diffRequests(): DiffRequest[] {
  const rs: DiffRequest[] = [];
  const add = (...r: DiffRequest[]) => rs.push(...r);

  // ---- health, config, status, metrics, routing
  add(get("/health"), get("/health?bundles"), get("/health?plugins"), get("/health?bundles=true&plugins=true"), get("/health?exclude-plugin=x"));
  add(get("/health/live"), get("/health/ready"), get("/health/odd"), get("/health/missing"), get("/health/"));
  add(get("/v1/status"), get("/v1/config?pretty"), get("/metrics"));
  add(get("/nope"), get("/v1"), get("/v1/nope"), get("/v2/data/x"));
  add(post("/health"), post("/metrics"), post("/v1/config"), post("/v1/status"), { method: "DELETE", path: "/" });
  add({ method: "DELETE", path: "/v1/data" }, { method: "POST", path: "/v1/policies" }, { method: "PATCH", path: "/v1/policies/x" }, { method: "PUT", path: "/v1/query" }, { method: "GET", path: "/v1/query/x" });
  add({ method: "PUT", path: "/v0/data/x" }, { method: "GET", path: "/v0/data" });

  // ---- GET /v1/data
  for (const p of ["", "/", "/example", "/example/allow", "/example/greeting", "/example/deny", "/example/counts", "/example/big", "/example/ratio", "/example/html", "/example/nested", "/example/nested/a/b", "/example/tags", "/example/double"]) {
    add(get(`/v1/data${p}`));
  }
  for (const p of ["/roles", "/roles/alice", "/roles/alice/1", "/roles/alice/7", "/roles/alice/x", "/roles/alice/-1", "/config", "/config/limits/ratio", "/config/list/0", "/nope", "/nope/deeper", "/lib/helpers", "/lib/helpers/names", "/example/helper_value", "/system", "/system/health"]) {
    add(get(`/v1/data${p}`));
  }
  add(get("/v1/data/example?pretty"), get("/v1/data/example?pretty=true"), get("/v1/data/example?pretty=false"), get("/v1/data/example?pretty=TRUE"), get("/v1/data/roles?pretty=1"));
  add(get(`/v1/data/example/greeting?input=${q(J({ name: "ann" }))}`), get(`/v1/data/example/allow?input=${q(J({ user: "admin" }))}`));
  add(get(`/v1/data/example/allow?input=${q("{bad")}`), get(`/v1/data/example/allow?input=`), get(`/v1/data/example/allow?input=${q("[1,2")}`), get(`/v1/data/example/allow?input=${q("1 2")}`));
  add(get(`/v1/data/example/allow?input=${q(J({ user: "x" }))}&input=${q(J({ user: "admin" }))}`));
  add(get("/v1/data/example/allow?provenance"), get("/v1/data/example/allow?metrics"), get("/v1/data/example/allow?instrument"), get("/v1/data/example/allow?metrics=false"));
  add(get(`/v1/data/example/doubled?input=${q(J({ n: 21 }))}`), get(`/v1/data/example/doubled?input=${q(J({ n: "x" }))}`));
  add(get(`/v1/data/example/strict_number?input=${q(J({ text: "abc" }))}`), get(`/v1/data/example/strict_number?strict-builtin-errors&input=${q(J({ text: "abc" }))}`), get(`/v1/data/example/strict_number?strict-builtin-errors&input=${q(J({ text: "12.5" }))}`));
  add(get(`/v1/data/example/conflict?input=${q(J({ conflict: true }))}`), get(`/v1/data/example/division?input=${q(J({ n: 1 }))}`));
  add(get("/v1/data/a%2Fb"), get("/v1/data/example/%61llow"), get('/v1/data/x"y'), get("/v1/data/example//allow"));

  // ---- POST /v1/data
  add(post("/v1/data/example/allow", { input: { user: "admin" } }), post("/v1/data/example/allow", { input: { user: "bob" } }), post("/v1/data/example/allow", { input: { user: "alice", method: "PUT" } }));
  add(post("/v1/data/example/deny", { input: { user: "x", containers: [{ name: "a", image: "nginx:latest" }, { name: "b", image: "nginx:1.25" }] } }));
  add(post("/v1/data/example/deny", { input: {} }), post("/v1/data/example/tags", { input: { tags: ["b", "a", "b"] } }), post("/v1/data/example/counts", { input: { user: "u" } }));
  add(post("/v1/data/example/allow", {}), post("/v1/data/example/allow"), post("/v1/data/example/allow", { input: null }), post("/v1/data/example/allow", { other: 1 }));
  add(post("/v1/data/example/allow", "{bad json"), post("/v1/data/example/allow", "[1,2]"), post("/v1/data/example/allow", '"str"'), post("/v1/data/example/allow", "null"), post("/v1/data/example/allow", "12"));
  add(post("/v1/data/example/allow", '{"input":{"user":"admin"}} trailing'), post("/v1/data/example/allow", '{"input":{"user":"adm'));
  add(post("/v1/data/example/allow", "input:\n  user: admin\n", { "Content-Type": "application/x-yaml" }), post("/v1/data/example/allow", "input: [unclosed\n", { "Content-Type": "application/yaml" }));
  add({ ...post("/v1/data/example/allow", { input: { user: "admin" } }), gzip: true });
  add(post("/v1/data/example/greeting?pretty", { input: { name: "<script>" } }), post("/v1/data/example/allow?provenance", { input: {} }), post("/v1/data/example/allow?metrics", { input: {} }));
  add(post("/v1/data/nope", { input: {} }), post("/v1/data", { input: { user: "admin" } }), post("/v1/data/example/doubled", { input: { n: 2.5 } }));
  add(post("/v1/data/example/strict_number?strict-builtin-errors", { input: { text: "nan" } }), post("/v1/data/example/conflict", { input: { conflict: true } }));
  add(post("/v1/data/example/big", { input: {} }), post("/v1/data/example/doubled", { input: { n: 123456789012345678 } }));

  // ---- POST /v0/data and POST /
  add(post("/v0/data/example/greeting", { name: "zed" }), post("/v0/data/example/allow", { user: "admin" }), post("/v0/data/example/allow", {}));
  add(post("/v0/data/example/greeting", {}), post("/v0/data/nope", {}), post("/v0/data/example/nope", {}), post("/v0/data/example/nested/a/nope", {}), post("/v0/data/roles/alice/9", {}));
  add(post("/v0/data/example/greeting"), post("/v0/data/example/greeting", "{bad"), post("/v0/data/example/greeting", "name: yam\n", { "Content-Type": "application/yaml" }));
  add(post("/v0/data/example/deny?pretty", { containers: [{ name: "c", image: "x:latest" }] }), post("/v0/data/example/conflict", { conflict: true }), post("/v0/data", { user: "admin" }));
  add(post("/", { user: "admin" }), post("/?pretty", {}), post("/", "{bad"));

  // ---- GET/POST /v1/query
  add(get(`/v1/query?q=${q("x := 1")}`), get(`/v1/query?q=${q("data.roles[name]")}`), get(`/v1/query?q=${q("data.roles[name][_] == \"reader\"")}`), get(`/v1/query?q=${q("1 == 2")}`));
  add(get(`/v1/query?q=${q("1 == 1")}`), get(`/v1/query?q=${q("x := {1, 2, 3}")}`), get(`/v1/query?q=${q("x = y")}`), get(`/v1/query?q=${q("x := ")}`), get("/v1/query"), get("/v1/query?q="));
  add(get(`/v1/query?q=${q("data.example.allow")}`), get(`/v1/query?q=${q("input.x == 1")}`), get(`/v1/query?q=${q("count(1)")}`), get(`/v1/query?q=${q("x := 1; y := x + 1")}&pretty`));
  add(get(`/v1/query?q=${q("nope(1)")}`), get(`/v1/query?q=${q("x := data.example.big")}`), get(`/v1/query?q=${q("x := 1 / 0")}`), get(`/v1/query?q=${q("_ = data.roles[_]")}`));
  add(post("/v1/query", { query: "x := input.a + 1", input: { a: 1 } }), post("/v1/query", { query: "data.example.allow", input: { user: "admin" } }), post("/v1/query", { query: "x := input.a" }));
  add(post("/v1/query", { query: "" }), post("/v1/query", {}), post("/v1/query", "{bad"), post("/v1/query", "[1]"), post("/v1/query", { query: 7 }), post("/v1/query"), post("/v1/query", { query: "x := [1, 2][_]" }));
  add(post("/v1/query?metrics", { query: "x := 1" }));

  // ---- policies
  add(get("/v1/policies/nope"), del("/v1/policies/nope"));
  add(put("/v1/policies/extra", 'package extra\n\nv := "one"\n'), get("/v1/data/extra/v"), get("/v1/policies/extra"));
  add(put("/v1/policies/extra", 'package extra\n\nv := "one"\n'), put("/v1/policies/extra", 'package extra\n\nv := "two"\n'), get("/v1/data/extra/v"));
  add(put("/v1/policies/broken", "package broken\n\np := 1 +\n"), put("/v1/policies/unsafe", "package unsafe\n\np if x > 1\n"), put("/v1/policies/typeerr", 'package typeerr\n\np := count(1)\n'));
  add(put("/v1/policies/empty", ""), put("/v1/policies/comment", "# only a comment\n"), put("/v1/policies/v0style", "package v0style\n\np[x] { x := 1 }\n"));
  add(put("/v1/policies/conflicts", "package roles\n\nalice := 1\n"), put("/v1/policies/!dup", "package example\n\nallow := 7\n"));
  add(put("/v1/policies/system/main", 'package system\n\nmain := {"decision": input.user}\n'), post("/", { user: "carol" }), post("/?pretty", {}), post("/v0/data/system/main", { user: "dan" }));
  add(put("/v1/policies/dep/base", "package dep.base\n\nx := 1\n"), put("/v1/policies/dep/user", "package dep.user\n\nimport data.dep.base\n\ny := base.x + 1\n"), get("/v1/data/dep"));
  add(del("/v1/policies/dep/base"), get("/v1/data/dep/user/y"), del("/v1/policies/dep/user"), get("/v1/data/dep"));
  add(put("/v1/policies/withdata", "package withdata\n\nv := data.config.limits.max * 2\n"), get("/v1/data/withdata/v"));
  add(put("/v1/policies/a%2Fb", "package slashid\n\nv := 1\n"), get("/v1/policies/a%2Fb"), get("/v1/data/slashid"));
  add(put("/v1/policies/extra?metrics", 'package extra\n\nv := "three"\n'), put("/v1/policies/extra?pretty", 'package extra\n\nv := "four"\n'));
  add(del("/v1/policies/extra"), get("/v1/data/extra"), get("/v1/policies/extra"), del("/v1/policies/extra"));

  // ---- PUT /v1/data
  add(put("/v1/data/users/u1", J({ name: "Una", roles: ["a"] })), get("/v1/data/users"), put("/v1/data/deep/er/path", J([1, 2])), get("/v1/data/deep"));
  add(put("/v1/data/users/u1", J({ name: "Una2" }), { "If-None-Match": "*" }), get("/v1/data/users/u1"), put("/v1/data/users/u2", J(1), { "If-None-Match": "*" }), get("/v1/data/users"));
  add(put("/v1/data/users/u1", J({ name: "Una3" })), get("/v1/data/users/u1/name"));
  add(put("/v1/data/users/u1/name/first", J("x")), put("/v1/data/deep/er/path/0", J(9)), get("/v1/data/deep/er/path"), put("/v1/data/deep/er/path/5", J(9)), put("/v1/data/deep/er/path/-", J(10)));
  add(put("/v1/data/deep/er/path/x", J(9)), put("/v1/data/example/allow", J(true)), put("/v1/data/example", J({})), put("/v1/data/lib", J({ helpers: 1 })));
  add(put("/v1/data/bad", "{nope"), put("/v1/data/bad", ""), put("/v1/data/bad", "  "), put("/v1/data/big", "123456789012345678901234567890"), get("/v1/data/big"));
  add(put("/v1/data/float", "1.50"), get("/v1/data/float"), put("/v1/data/esc", J({ t: "<&>" })), get("/v1/data/esc"), put("/v1/data/nullv", "null"), get("/v1/data/nullv"));
  add(put("/v1/data/users?metrics", J({ u9: 1 })), get("/v1/data/users"), put("/v1/data/tr/ailing/", J(1)), get("/v1/data/tr"));
  add(put("/v1/data/pct%2Fkey", J(1)), get("/v1/data/pct%2Fkey"), get("/v1/data"));

  // ---- PATCH /v1/data
  add(patch("/v1/data/users", [{ op: "add", path: "/u3", value: { name: "Ugo" } }]), get("/v1/data/users"));
  add(patch("/v1/data/users", [{ op: "replace", path: "/u3/name", value: "Ugo2" }, { op: "add", path: "/u3/tags", value: [] }, { op: "add", path: "/u3/tags/-", value: "t1" }]), get("/v1/data/users/u3"));
  add(patch("/v1/data/users", [{ op: "remove", path: "/u3/tags/0" }]), get("/v1/data/users/u3"), patch("/v1/data/users", [{ op: "remove", path: "/nope" }]), patch("/v1/data/users", [{ op: "replace", path: "/nope", value: 1 }]));
  add(patch("/v1/data/users", [{ op: "move", path: "/u3", from: "/u4" }]), patch("/v1/data/users", [{ op: "test", path: "/u3" }]), patch("/v1/data/users", {}), patch("/v1/data/users", "{bad"), patch("/v1/data/users", ""));
  add(patch("/v1/data/users", [{ op: "add", path: "/a/b", value: 1 }]), patch("/v1/data", [{ op: "add", path: "/newtop", value: { k: 1 } }]), get("/v1/data/newtop"));
  add(patch("/v1/data/users", [{ op: "add", path: "/", value: { replaced: true } }]), get("/v1/data/users"), patch("/v1/data/deep/er/path", [{ op: "add", path: "/1", value: "ins" }]), get("/v1/data/deep/er/path"));
  add(patch("/v1/data/deep/er/path", [{ op: "replace", path: "/-", value: 1 }]), patch("/v1/data/deep/er/path", [{ op: "remove", path: "/99" }]), patch("/v1/data", [{ op: "add", path: "/example/allow", value: 1 }]));
  add(patch("/v1/data/users", [{ op: "add", path: "/ok", value: 1 }, { op: "remove", path: "/missing" }]), get("/v1/data/users"), patch("/v1/data/users", []), patch("/v1/data/users", [null]));
  add(patch("/v1/data/users", [{ op: "add", path: "/t~1s", value: 1 }]), get("/v1/data/users"), patch("/v1/data/users?metrics", [{ op: "add", path: "/m", value: 1 }]));

  // ---- DELETE /v1/data
  add(del("/v1/data/users/ok"), get("/v1/data/users"), del("/v1/data/users/ok"), del("/v1/data/nope/deeper"), del("/v1/data/deep/er/path/0"), get("/v1/data/deep/er/path"));
  add(del("/v1/data/deep/er/path/9"), del("/v1/data/deep/er/path/x"), del("/v1/data/"), del("/v1/data/example/allow"), del("/v1/data/newtop?metrics"), get("/v1/data/newtop"));
  add(del("/v1/data/roles/bob"), get(`/v1/data/example/allow?input=${q(J({ user: "bob", method: "PUT" }))}`), get("/v1/data/lib/helpers/names"));

  // ---- data and policies together
  add(put("/v1/data/example2/rule", J(1)), put("/v1/policies/ex2", "package example2\n\nrule := 2\n"), del("/v1/data/example2"), put("/v1/policies/ex2", "package example2\n\nrule := 2\n"), get("/v1/data/example2"), put("/v1/data/example2/rule/x", J(1)));
  add(put("/v1/data/roles", J({ zed: ["writer"] })), post("/v1/data/example/allow", { input: { user: "zed", method: "PUT" } }), get("/v1/data/example/counts?input=%7B%7D"));
  add(put("/v1/data", J({ only: "this" })), get("/v1/data"), get("/v1/data/roles"), put("/v1/data", J([1])), put("/v1/data", J(null)));
  add(get("/health"), get("/health/ready"), get("/v1/policies"));

  // ---- hostile bodies: nesting beyond Go's JSON limit (10,000 levels), and just within it
  const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
  add(post("/v1/data/example/allow", `{"input":${nest(20000)}}`), post("/v0/data/example/allow", nest(20000)), put("/v1/data/deep", nest(20000)));
  add(post("/v1/query", `{"query":"x := 1","input":${nest(10001)}}`), get(`/v1/data/example/allow?input=${q(nest(10001))}`));
  add(put("/v1/data/deep", nest(1500)), get("/v1/data/deep/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0"));

  // ---- POST /v1/compile (partial evaluation; docs/partial.md)
  const compile = (body: unknown, query = "") => post(`/v1/compile${query}`, body);
  add(compile({ query: "data.example.allow == true" }), compile({ query: "data.example.allow" }), compile({ query: "data.example.greeting" }), compile({ query: 'data.example.greeting == "hello bob"' }));
  add(compile({ query: "data.example.deny[x]" }), compile({ query: "data.example.tags" }), compile({ query: "data.example.doubled > 4" }), compile({ query: "input.x == data.only" }));
  add(compile({ query: "data.example.helper_value == input.x" }), compile({ query: "data.example.allow == true", options: { disableInlining: ["data.example.allow"] } }));
  add(compile({ query: "input.x == 1", unknowns: ["input.x"] }), compile({ query: "input.x == 1; input.y == 2", input: { x: 1 }, unknowns: ["input.y"] }), compile({ query: "data.example.counts" }));
  add(compile({ query: "not data.example.allow" }), compile({ query: "data.example.conflict == 1" }), compile({ query: 'some c in input.containers; endswith(c.image, ":latest")' }));
  add(compile({ query: "data.lib.helpers.answer == input.n" }), compile({ query: "data.example.nested.a.b == input.v" }), compile({ query: "x := data.example.html; input.h == x" }));
  add(compile({ query: "every c in input.containers { c.privileged == false }" }), compile({ query: "data.example.division" }), compile({ query: "input.x == [y | y := input.ys[_]]" }));
  add(compile({ query: "input.x == 1" }, "?pretty"), compile({ query: "input.x == 1" }, "?metrics"), compile({ query: "1 == 2" }), compile({ query: "input.x == 1", unknowns: [] }));
  add(compile({}), compile({ query: "" }), compile({ query: "# only a comment" }), compile("nope"), compile("[]"), compile("null"), compile({ query: 1 }));
  add(compile({ query: "x == input.a; y" }), compile({ query: "foo(input.x)" }), compile({ query: "input.x == 1", unknowns: "input" }), compile({ query: "input.x == 1", unknowns: [1] }));
  add(compile({ query: "input.x == 1", options: 5 }), compile({ query: "input.x == 1", options: { disableInlining: "x" } }), compile({ query: "input.x == 1", options: { nondeterministicBuiltins: 1 } }));
  add(compile({ query: "input.x == 1", unknowns: ["input["] }), compile({ query: "input.x == 1", input: 5 }), { method: "PUT", path: "/v1/compile", body: "{}" });

  return rs;
}
