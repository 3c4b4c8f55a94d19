// ?explain=notes|fails|full|debug on the data and query APIs: the engine's trace in OPA's JSON
// shape (op, query_id, parent_id, type, node, locals, message) or, with ?pretty, as OPA's text
// lines. Recorded from `opa run --server` (test/server/recorded/opa-explain.json; re-record with
// PORTCULLIS_RECORD=1). The policy avoids what OPA's compiler rewrites (refs pulled out of calls,
// `:=` locals renamed), so the text lines are equal; the JSON events are compared on everything
// but the nodes and the values of generated variables (see docs/server.md, "?explain").
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { HAVE_OPA, OPA, send, startOPA, startPortcullis } from "./harness.ts";
import type { DiffRequest } from "./diff-requests.ts";
import { MAX_TRACE_EVENTS } from "../../src/server/replica.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/explain/", import.meta.url));
const POLICY = FIXTURES + "app.rego";
const RECORDED = fileURLToPath(new URL("./recorded/opa-explain.json", import.meta.url));

const J = JSON.stringify;
const REQUESTS: DiffRequest[] = [
  { method: "POST", path: "/v1/data/app/deny?explain=full&pretty", body: J({ input: { user: "guest1" } }) },
  { method: "POST", path: "/v1/data/app/deny?explain=full", body: J({ input: { user: "guest1" } }) },
  { method: "POST", path: "/v1/data/app/deny?explain=notes&pretty", body: J({ input: { user: "guest1", admin: true } }) },
  { method: "POST", path: "/v1/data/app/deny?explain=notes", body: J({ input: { user: "guest1", admin: true } }) },
  { method: "POST", path: "/v1/data/app/deny?explain=fails&pretty", body: J({ input: { user: "alice", admin: true } }) },
  { method: "POST", path: "/v1/data/app/deny?explain=fails", body: J({ input: { user: "alice", admin: true } }) },
  { method: "GET", path: "/v1/data/app/names?explain=full&pretty&input=" + encodeURIComponent(J({ names: ["a", "b"] })) },
  { method: "GET", path: "/v1/data/app/names?explain=full&input=" + encodeURIComponent(J({ names: ["a", "b"] })) },
  { method: "GET", path: "/v1/data/app/missing?explain=full&pretty" },
  { method: "GET", path: "/v1/data/app/deny?explain=off" },
  { method: "GET", path: "/v1/data/app/deny?explain=bogus&pretty" },
  { method: "POST", path: "/v1/query?explain=full&pretty", body: J({ query: "x = 1; y = x" }) },
  { method: "POST", path: "/v1/query?explain=full", body: J({ query: "x = 1; y = x" }) },
  { method: "GET", path: "/v1/query?explain=fails&pretty&q=" + encodeURIComponent("x = 1; y = 2; x = y") },
  { method: "GET", path: "/v1/query?explain=debug&q=" + encodeURIComponent("x = 1; y = x") },
];

interface Rec {
  status: number;
  body: Record<string, unknown>;
}

/**
 * An event without its node and locals: the engine's nodes are the source expressions where
 * OPA's are its compiler's rewritten ones, and its locals the variables the expression names
 * where OPA's are all bindings of the query (docs/server.md). The node's and the locals' shapes
 * are checked separately below.
 */
function shape(e: Record<string, unknown>): unknown {
  assert.ok(Array.isArray(e.locals), "locals is an array");
  for (const l of e.locals as { key: { type: string }; value: { type: string } }[]) assert.ok(l.key.type === "var" && typeof l.value.type === "string", "a local is {key: var term, value: term}");
  if (e.node !== null) assert.ok(["body", "expr", "rule"].includes(String(e.type)), `node type ${String(e.type)}`);
  return { op: e.op, query_id: e.query_id, parent_id: e.parent_id, type: e.type, message: e.message };
}

/**
 * A text line with the fixtures' directory taken out and the padding after the location made one
 * space: OPA's locations keep the leading `/` of an absolute file name, the server's module names
 * do not (docs/server.md), which changes the column the text is padded to.
 */
function line(s: string): string {
  return s.split(FIXTURES).join("<fixtures>/").split(FIXTURES.slice(1)).join("<fixtures>/").replace(/^(\S+)\s+/, "$1 ");
}

function comparable(r: Rec): unknown {
  const ex = r.body.explanation;
  if (!Array.isArray(ex)) return r;
  return { ...r, body: { ...r.body, explanation: ex.map((e) => (typeof e === "string" ? line(e) : shape(e as Record<string, unknown>))) } };
}

async function answers(base: string): Promise<Rec[]> {
  const out: Rec[] = [];
  for (const r of REQUESTS) {
    const a = await send(base, r);
    out.push({ status: a.status, body: JSON.parse(a.body) });
  }
  return out;
}

test("?explain: portcullis answers as OPA does (recorded)", { timeout: 120000 }, async () => {
  if (process.env.PORTCULLIS_RECORD === "1") {
    if (!HAVE_OPA) throw new Error(`PORTCULLIS_RECORD=1 needs OPA at ${OPA}`);
    const opa = await startOPA([POLICY]);
    try {
      // the fixtures' directory is taken out, so the recording does not depend on the checkout's path
      const text = J({ requests: REQUESTS.map((r) => ({ method: r.method, path: r.path })), answers: await answers(opa.base) }, null, 2) + "\n";
      writeFileSync(RECORDED, text.split(FIXTURES).join("<fixtures>/").split(FIXTURES.slice(1)).join("<fixtures>/"));
    } finally {
      await opa.stop();
    }
  }
  const rec = JSON.parse(readFileSync(RECORDED, "utf8")) as { requests: unknown[]; answers: Rec[] };
  assert.deepEqual(rec.requests, REQUESTS.map((r) => ({ method: r.method, path: r.path })), "stale recording: re-record with PORTCULLIS_RECORD=1");
  const s = await startPortcullis([POLICY], { workers: 1 });
  let got: Rec[];
  try {
    got = await answers(s.base);
  } finally {
    await s.stop();
  }
  const diffs: string[] = [];
  REQUESTS.forEach((r, i) => {
    try {
      assert.deepEqual(comparable(got[i]), comparable(rec.answers[i]));
    } catch (e) {
      diffs.push(`${r.method} ${r.path}: ${(e as Error).message}`);
    }
  });
  assert.deepEqual(diffs, []);
});

test("?explain: a trace beyond MAX_TRACE_EVENTS is refused with a 500 and a message, not kept growing", { timeout: 60000 }, async () => {
  const s = await startPortcullis([fileURLToPath(new URL("./fixtures/explain-limit/", import.meta.url))], { workers: 1 });
  try {
    const r = await fetch(`${s.base}/v1/data/big/n?explain=full`);
    assert.equal(r.status, 500);
    const body = await r.json();
    assert.equal(body.errors[0].code, "eval_internal_error");
    assert.match(body.errors[0].message, new RegExp(`exceeds ${MAX_TRACE_EVENTS} trace events`));
    // without ?explain the same document is answered
    assert.deepEqual(await (await fetch(`${s.base}/v1/data/big/n`)).json(), { result: 100000 });
  } finally {
    await s.stop();
  }
});
