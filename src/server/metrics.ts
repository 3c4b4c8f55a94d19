// Prometheus metrics in the text exposition format (version 0.0.4). The policy server's are
// under OPA's names: `http_request_duration_seconds` (a histogram with OPA's buckets and its
// `code`, `handler`, `method` labels; method lower-cased as OPA's instrumentation writes it),
// plus Portcullis's own gauges and counters for the evaluation pool. Hosts with their own names
// (the Gatekeeper webhook) add labelled families: `counter`, `histogram` (with their buckets)
// and `gaugeSet` (values read at scrape time).
//
// Why not prom-client: the answer must be OPA's (and Gatekeeper's) exposition, and the one
// place where a client library would write it differently is the part dashboards key on. A
// bucket's `le` label is written as Go's client writes floats, `1e-06`, `5e-05`, `0.0001`;
// prom-client writes the JavaScript number, `0.000001`, `0.00005`. For Prometheus these are
// different label values, so a recording rule or a panel written against OPA
// (`le="1e-06"`) would silently match nothing. prom-client would also bring its own default
// registry and Node process collectors (which OPA's names do not include), and would have to be
// loaded at start-up (metrics exist from the first request), against the lazy-loading rule of
// src/lazy.ts. What the servers need is small — counters, gauges read at scrape time and
// fixed-bucket histograms, each an array increment on the request path — so it is written here,
// with the `le` texts as Go writes them (BUCKET_LABELS below, OPA's); the differential test
// (test/server/harness.ts) requires OPA's family in both servers' answers.

/** OPA's default buckets for http_request_duration_seconds. */
export const DURATION_BUCKETS = [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 1e-2, 1e-1, 1];
/** The buckets' `le` labels as Go writes the floats. */
const BUCKET_LABELS = ["1e-06", "5e-06", "1e-05", "5e-05", "0.0001", "0.0005", "0.001", "0.01", "0.1", "1"];

interface Histogram {
  labels: string;
  counts: number[];
  sum: number;
  count: number;
}

/** A sample value (Prometheus reads any float text). */
function num(x: number): string {
  return String(x);
}

function labelValue(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** Labels as Prometheus writes them: name="value" pairs in the given order. */
export type Labels = Record<string, string>;

function labelText(l: Labels): string {
  return Object.entries(l)
    .map(([k, v]) => `${k}="${labelValue(v)}"`)
    .join(",");
}

/** A float as a bucket's `le` (Prometheus's Go client: shortest form, 1e-06 style exponents). */
function leText(x: number): string {
  if (x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e21)) return x.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  return String(x);
}

/** One series of a LabelledCounter, bound to its labels (counting without building the label text each time). */
export interface LabelledCounterSeries {
  inc(by?: number): void;
}

/** One series of a LabelledHistogram, bound to its labels. */
export interface LabelledHistogramSeries {
  observe(value: number): void;
}

export class LabelledCounter {
  readonly values = new Map<string, { labels: Labels; value: number }>();
  inc(labels: Labels, by = 1): void {
    const key = labelText(labels);
    const v = this.values.get(key);
    if (v) v.value += by;
    else this.values.set(key, { labels, value: by });
  }
  /** The series of these labels, for a hot path; it appears in the text once counted. */
  series(labels: Labels): LabelledCounterSeries {
    const key = labelText(labels);
    return {
      inc: (by = 1) => {
        const v = this.values.get(key);
        if (v) v.value += by;
        else this.values.set(key, { labels, value: by });
      },
    };
  }
}

export class LabelledHistogram {
  readonly series = new Map<string, Histogram>();
  constructor(readonly buckets: number[]) {}
  observe(labels: Labels, value: number): void {
    this.add(labelText(labels), value);
  }
  /** The series of these labels, for a hot path; it appears in the text once observed. */
  bound(labels: Labels): LabelledHistogramSeries {
    const key = labelText(labels);
    return { observe: (value: number) => this.add(key, value) };
  }
  private add(key: string, value: number): void {
    let h = this.series.get(key);
    if (!h) this.series.set(key, (h = { labels: key, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    const b = this.buckets;
    // buckets ascend: count from the first that holds the value (none for NaN)
    let i = 0;
    while (i < b.length && !(value <= b[i])) i++;
    for (; i < b.length; i++) h.counts[i]++;
    h.sum += value;
    h.count++;
  }
}

type Family =
  | { kind: "counter"; help: string; c: LabelledCounter }
  | { kind: "histogram"; help: string; h: LabelledHistogram }
  | { kind: "gaugeSet"; help: string; read: () => [Labels, number][] };

export class Metrics {
  private readonly durations = new Map<string, Histogram>();
  private readonly gauges = new Map<string, { help: string; type: "gauge" | "counter"; value: () => number }>();
  private readonly families = new Map<string, Family>();
  /** Without OPA's http_request_duration_seconds (hosts that are not OPA's server). */
  constructor(private readonly opaHTTP = true) {}

  /** A counter with labels (names as given: no suffix is added). */
  counter(name: string, help: string): LabelledCounter {
    const c = new LabelledCounter();
    this.families.set(name, { kind: "counter", help, c });
    return c;
  }

  /** A histogram with labels and these buckets. */
  histogram(name: string, help: string, buckets: number[]): LabelledHistogram {
    const h = new LabelledHistogram(buckets);
    this.families.set(name, { kind: "histogram", help, h });
    return h;
  }

  /** Gauges with labels, read when /metrics is scraped. */
  gaugeSet(name: string, help: string, read: () => [Labels, number][]): void {
    this.families.set(name, { kind: "gaugeSet", help, read });
  }

  private familyText(): string {
    let out = "";
    for (const [name, f] of [...this.families].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (f.kind === "counter") {
        out += `# HELP ${name} ${f.help}\n# TYPE ${name} counter\n`;
        for (const v of [...f.c.values.values()].sort((a, b) => (labelText(a.labels) < labelText(b.labels) ? -1 : 1))) out += `${name}{${labelText(v.labels)}} ${num(v.value)}\n`;
      } else if (f.kind === "gaugeSet") {
        out += `# HELP ${name} ${f.help}\n# TYPE ${name} gauge\n`;
        for (const [l, v] of f.read()) out += Object.keys(l).length ? `${name}{${labelText(l)}} ${num(v)}\n` : `${name} ${num(v)}\n`;
      } else {
        out += `# HELP ${name} ${f.help}\n# TYPE ${name} histogram\n`;
        for (const h of [...f.h.series.values()].sort((a, b) => (a.labels < b.labels ? -1 : 1))) {
          const sep = h.labels ? "," : "";
          f.h.buckets.forEach((b, i) => (out += `${name}_bucket{${h.labels}${sep}le="${leText(b)}"} ${h.counts[i]}\n`));
          out += `${name}_bucket{${h.labels}${sep}le="+Inf"} ${h.count}\n`;
          out += h.labels ? `${name}_sum{${h.labels}} ${num(h.sum)}\n${name}_count{${h.labels}} ${h.count}\n` : `${name}_sum ${num(h.sum)}\n${name}_count ${h.count}\n`;
        }
      }
    }
    return out;
  }

  /** Record one request (handler: OPA's label, e.g. v1/data). */
  observe(code: number, handler: string, method: string, seconds: number): void {
    const labels = `code="${code}",handler="${labelValue(handler)}",method="${labelValue(method.toLowerCase())}"`;
    let h = this.durations.get(labels);
    if (!h) {
      h = { labels, counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(labels, h);
    }
    for (let i = 0; i < DURATION_BUCKETS.length; i++) if (seconds <= DURATION_BUCKETS[i]) h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  /** A value read when /metrics is scraped. */
  gauge(name: string, help: string, type: "gauge" | "counter", value: () => number): void {
    this.gauges.set(name, { help, type, value });
  }

  text(): string {
    let out = "";
    for (const [name, g] of [...this.gauges].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      out += `# HELP ${name} ${g.help}\n# TYPE ${name} ${g.type}\n${name} ${num(g.value())}\n`;
    }
    out += this.familyText();
    if (!this.opaHTTP) return out;
    out += "# HELP http_request_duration_seconds A histogram of duration for requests.\n# TYPE http_request_duration_seconds histogram\n";
    for (const h of [...this.durations.values()].sort((a, b) => (a.labels < b.labels ? -1 : 1))) {
      for (let i = 0; i < DURATION_BUCKETS.length; i++) out += `http_request_duration_seconds_bucket{${h.labels},le="${BUCKET_LABELS[i]}"} ${h.counts[i]}\n`;
      out += `http_request_duration_seconds_bucket{${h.labels},le="+Inf"} ${h.count}\n`;
      out += `http_request_duration_seconds_sum{${h.labels}} ${num(h.sum)}\n`;
      out += `http_request_duration_seconds_count{${h.labels}} ${h.count}\n`;
    }
    return out;
  }
}
