// A lean HTTPS/1.1 client for the webhook load runs (bench/gatekeeper-webhook.ts --client raw).
//
// The load generator shares the 2-CPU machine with the webhook it measures. Node's https client
// (http.Agent, IncomingMessage streams, header objects) costs ~0.55 ms of CPU per request here,
// a quarter of what the webhook spends on a review, so at 500 req/s the generator alone takes
// about a quarter of a CPU away from the process under test. The API server, the real client,
// runs on other machines. This client does only what a load run needs: persistent TLS
// connections (one request at a time on each, as keep-alive does, no pipelining), the request's
// bytes prepared once per body, and a response parser for a status line, Content-Length or
// chunked bodies, and Connection: close. It is a bench helper, not part of the package.
import tls from "node:tls";

export interface RawResponse {
  status: number;
  body: string;
}

interface Conn {
  socket: tls.TLSSocket;
  busy: boolean;
  /** Bytes of the response being read. */
  buf: Buffer | null;
  done: ((r: RawResponse | Error) => void) | null;
}

interface Parsed {
  status: number;
  body: Buffer;
  close: boolean;
  /** Bytes used from the buffer. */
  used: number;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");

/** One complete response at the start of buf, or null when more bytes are needed. */
export function parseResponse(buf: Buffer): Parsed | null {
  const end = buf.indexOf(CRLFCRLF);
  if (end < 0) return null;
  const head = buf.toString("latin1", 0, end);
  const lines = head.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0].slice(0, 80))}`);
  let length = -1;
  let chunked = false;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i].indexOf(":");
    if (c < 0) continue;
    const name = lines[i].slice(0, c).trim().toLowerCase();
    const value = lines[i].slice(c + 1).trim();
    if (name === "content-length") length = Number(value);
    else if (name === "transfer-encoding") chunked = /chunked/i.test(value);
    else if (name === "connection") close = /close/i.test(value);
  }
  const start = end + 4;
  if (chunked) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const eol = buf.indexOf("\r\n", at, "latin1");
      if (eol < 0) return null;
      const size = parseInt(buf.toString("latin1", at, eol), 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size");
      if (buf.length < eol + 2 + size + 2) return null;
      if (size === 0) {
        // no trailers are sent by the servers measured here: the chunk's CRLF ends the body
        return { status: Number(m[1]), body: Buffer.concat(parts), close, used: eol + 4 };
      }
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  if (length < 0) throw new Error("response without Content-Length or chunked encoding");
  if (buf.length < start + length) return null;
  return { status: Number(m[1]), body: buf.subarray(start, start + length), close, used: start + length };
}

export class RawClient {
  private conns: Conn[] = [];
  private waiting: { req: Buffer; done: (r: RawResponse | Error) => void }[] = [];

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly ca: Buffer,
    private readonly maxConnections = 128,
  ) {}

  /** The request's bytes (prepare once per body, send many times). */
  static request(host: string, port: number, path: string, body: string): Buffer {
    const b = Buffer.from(body, "utf8");
    const head = `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, "latin1"), b]);
  }

  send(req: Buffer): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const done = (r: RawResponse | Error) => (r instanceof Error ? reject(r) : resolve(r));
      const free = this.conns.find((c) => !c.busy);
      if (free) return this.start(free, req, done);
      if (this.conns.length < this.maxConnections) return this.start(this.open(), req, done);
      this.waiting.push({ req, done });
    });
  }

  /**
   * Open connections until there are `n` (each through its TLS handshake), as a client that keeps
   * connections alive holds them before the load starts (wrk's -c; the API server keeps idle
   * connections to a webhook), so that no handshake falls in the measured seconds.
   */
  async preconnect(n: number): Promise<void> {
    const opening: Promise<void>[] = [];
    while (this.conns.length < Math.min(n, this.maxConnections)) {
      const conn = this.open();
      opening.push(
        new Promise<void>((resolve, reject) => {
          conn.socket.once("secureConnect", () => resolve());
          conn.socket.once("error", reject);
        }),
      );
    }
    await Promise.all(opening);
  }

  close(): void {
    for (const c of this.conns) c.socket.destroy();
    this.conns = [];
  }

  private open(): Conn {
    const socket = tls.connect({ host: this.host, port: this.port, ca: this.ca, servername: undefined });
    socket.setNoDelay(true);
    const conn: Conn = { socket, busy: false, buf: null, done: null };
    socket.on("data", (d: Buffer) => this.onData(conn, d));
    const fail = (e: Error) => {
      this.drop(conn);
      const done = conn.done;
      conn.done = null;
      done?.(e);
      // requests waiting for a connection get a new one (all of them may have failed)
      const next = this.waiting.shift();
      if (next) this.start(this.open(), next.req, next.done);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
    this.conns.push(conn);
    return conn;
  }

  private drop(conn: Conn): void {
    const i = this.conns.indexOf(conn);
    if (i >= 0) this.conns.splice(i, 1);
    conn.socket.destroy();
  }

  private start(conn: Conn, req: Buffer, done: (r: RawResponse | Error) => void): void {
    conn.busy = true;
    conn.buf = null;
    conn.done = done;
    conn.socket.write(req);
  }

  private onData(conn: Conn, d: Buffer): void {
    conn.buf = conn.buf ? Buffer.concat([conn.buf, d]) : d;
    let parsed: Parsed | null;
    try {
      parsed = parseResponse(conn.buf);
    } catch (e) {
      const done = conn.done;
      conn.done = null;
      this.drop(conn);
      done?.(e as Error);
      return;
    }
    if (!parsed) return;
    const done = conn.done;
    conn.done = null;
    conn.buf = null;
    conn.busy = false;
    if (parsed.close) this.drop(conn);
    done?.({ status: parsed.status, body: parsed.body.toString("utf8") });
    const next = this.waiting.shift();
    if (next) this.start(parsed.close ? this.open() : conn, next.req, next.done);
  }
}
