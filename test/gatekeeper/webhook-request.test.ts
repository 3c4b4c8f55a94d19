// The webhook's request path without URL's parser (requestTarget: what `new URL` reads, for every
// shape of request line) and its request metrics counted through series bound once
// (src/server/metrics.ts: LabelledCounter.series, LabelledHistogram.bound) read as the per-call
// API writes them, with Prometheus's bucket semantics (Go client: a value counts in every bucket
// whose `le` is ≥ it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Metrics } from "../../src/server/metrics.ts";
import { VALIDATION_BUCKETS, requestTarget } from "../../src/server/admission/server.ts";

test("the request line's path and timeout: the plain form read directly, the same as URL's parser reads every form", () => {
  const cases = [
    "/v1/admit?timeout=3s",
    "/v1/admit?timeout=300ms",
    "/v1/admit",
    "/v1/admitlabel?timeout=10s",
    "/v1/mutate?timeout=1m30s",
    "/healthz",
    "/v1/admit?timeout=3s&x=1",
    "/v1/admit?x=1&timeout=2s",
    "/v1/admit?timeout=%33s",
    "/v1/admit?timeout=",
    "/v1/admit?timeout=3s#frag",
    "/v1/../v1/admit?timeout=3s",
    "/v1/admit/?timeout=3s",
    "//v1/admit?timeout=3s",
    "/v1/%61dmit?timeout=3s",
    "/other?timeout=3s",
    "/",
  ];
  for (const raw of cases) {
    const url = new URL(raw, "https://localhost");
    assert.deepEqual(requestTarget(raw), { path: url.pathname, timeout: url.searchParams.get("timeout") }, raw);
  }
  assert.deepEqual(requestTarget("/v1/admit?timeout=3s"), { path: "/v1/admit", timeout: "3s" });
  assert.deepEqual(requestTarget("/v1/admit?timeout=%33s"), { path: "/v1/admit", timeout: "3s" });
});

function twoWays(values: number[]): [string, string] {
  const texts: string[] = [];
  for (const bound of [false, true]) {
    const m = new Metrics(false);
    const c = m.counter("gatekeeper_validation_request_count_total", "The number of requests that are routed to validation webhook");
    const h = m.histogram("gatekeeper_validation_request_duration_seconds", "The response time in seconds", VALIDATION_BUCKETS);
    const labels = { admission_dryrun: "false", admission_status: "deny" };
    const cs = c.series(labels);
    const hs = h.bound({ admission_status: "deny" });
    c.series({ admission_dryrun: "true", admission_status: "allow" }); // bound, never counted: not written
    for (const v of values) {
      if (bound) {
        cs.inc();
        hs.observe(v);
      } else {
        c.inc(labels);
        h.observe({ admission_status: "deny" }, v);
      }
    }
    texts.push(m.text());
  }
  return texts as [string, string];
}

test("bound series write what per-call counting writes; a value on a bucket's bound counts in it, past the last only in +Inf", () => {
  const [perCall, bound] = twoWays([0.0005, 0.001, 0.0042, 3, 12]);
  assert.equal(bound, perCall);
  assert.match(bound, /^gatekeeper_validation_request_count_total\{admission_dryrun="false",admission_status="deny"\} 5$/m);
  assert.doesNotMatch(bound, /admission_dryrun="true"/);
  assert.match(bound, /^gatekeeper_validation_request_duration_seconds_bucket\{admission_status="deny",le="0\.001"\} 2$/m);
  assert.match(bound, /^gatekeeper_validation_request_duration_seconds_bucket\{admission_status="deny",le="0\.004"\} 2$/m);
  assert.match(bound, /^gatekeeper_validation_request_duration_seconds_bucket\{admission_status="deny",le="0\.005"\} 3$/m);
  assert.match(bound, /^gatekeeper_validation_request_duration_seconds_bucket\{admission_status="deny",le="3"\} 4$/m);
  assert.match(bound, /^gatekeeper_validation_request_duration_seconds_bucket\{admission_status="deny",le="10"\} 4$/m);
  assert.match(bound, /^gatekeeper_validation_request_duration_seconds_bucket\{admission_status="deny",le="\+Inf"\} 5$/m);
  assert.match(bound, /^gatekeeper_validation_request_duration_seconds_count\{admission_status="deny"\} 5$/m);
});

test("a NaN duration counts in no bucket (as `value <= le` is false), only in the count", () => {
  const [perCall, bound] = twoWays([NaN, 0.002]);
  assert.equal(bound, perCall);
  assert.match(bound, /^gatekeeper_validation_request_duration_seconds_bucket\{admission_status="deny",le="10"\} 1$/m);
  assert.match(bound, /^gatekeeper_validation_request_duration_seconds_count\{admission_status="deny"\} 2$/m);
});
