// Prometheus metrics under OPA's names, in the text exposition format (version 0.0.4):
// `http_request_duration_seconds` (a histogram with OPA's buckets and its `code`, `handler`,
// `method` labels; method lower-cased as OPA's instrumentation writes it), plus Portcullis's own
// gauges and counters for the evaluation pool. Written here rather than through a client
// library: a histogram and a few counters are all the server needs.

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

export class Metrics {
  private readonly durations = new Map<string, Histogram>();
  private readonly gauges = new Map<string, { help: string; type: "gauge" | "counter"; value: () => number }>();

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
