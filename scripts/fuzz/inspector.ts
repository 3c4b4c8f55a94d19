// Where is a stuck worker? SIGUSR1 makes Node start its inspector even while JavaScript is busy
// (the signal is handled on a separate thread); Debugger.pause then interrupts the running code
// and reports its call frames. A tiny WebSocket client (text frames only) is enough for the
// inspector protocol, so this needs no package and no --experimental-websocket.

import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";

class MiniWebSocket {
  private sock: Socket;
  private buf = Buffer.alloc(0);
  private open = false;
  private parts: Buffer[] = [];
  onmessage: (text: string) => void = () => {};
  onclose: () => void = () => {};

  constructor(url: string, onopen: () => void) {
    const u = new URL(url);
    this.sock = connect(Number(u.port), u.hostname);
    this.sock.on("connect", () => {
      const key = randomBytes(16).toString("base64");
      this.sock.write(
        `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      if (!this.open) {
        const end = this.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = this.buf.subarray(0, end).toString("latin1");
        this.buf = this.buf.subarray(end + 4);
        if (!/^HTTP\/1\.1 101/.test(head)) {
          this.close();
          return;
        }
        this.open = true;
        onopen();
      }
      this.frames();
    });
    this.sock.on("error", () => this.onclose());
    this.sock.on("close", () => this.onclose());
  }

  private frames(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      const op = this.buf[0] & 0x0f;
      const fin = (this.buf[0] & 0x80) !== 0;
      let len = this.buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      if (op === 8) {
        this.close();
        return;
      }
      if (op === 1 || op === 0) {
        this.parts.push(Buffer.from(payload));
        if (fin) {
          const text = Buffer.concat(this.parts).toString("utf8");
          this.parts = [];
          this.onmessage(text);
        }
      }
    }
  }

  send(text: string): void {
    const data = Buffer.from(text, "utf8");
    const mask = randomBytes(4);
    let head: Buffer;
    if (data.length < 126) head = Buffer.from([0x81, 0x80 | data.length]);
    else if (data.length < 65536) {
      head = Buffer.alloc(4);
      head[0] = 0x81;
      head[1] = 0x80 | 126;
      head.writeUInt16BE(data.length, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x81;
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(data.length), 2);
    }
    for (let i = 0; i < data.length; i++) data[i] ^= mask[i & 3];
    this.sock.write(Buffer.concat([head, mask, data]));
  }

  close(): void {
    this.sock.destroy();
  }
}

/**
 * Start the inspector of process `pid` (whose stderr is read by `stderr()`), pause it, and
 * return its JavaScript stack, innermost first, as "fn@path:line" (paths relative to `root`).
 * Returns [] when that fails in time.
 */
export async function captureStack(pid: number, stderr: () => string, root: string, timeoutMs = 6000, mapFrame?: (file: string, line: number, column: number) => { file: string; line: number }): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const before = /ws:\/\/[^\s]+/.exec(stderr())?.[0];
  try {
    process.kill(pid, "SIGUSR1");
  } catch {
    return [];
  }
  let url = before;
  while (!url && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    url = /ws:\/\/[^\s]+/.exec(stderr())?.[0];
  }
  if (!url) return [];
  return new Promise<string[]>((resolve) => {
    let done = false;
    const scripts = new Map<string, string>();
    const finish = (frames: string[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.close();
      resolve(frames);
    };
    const timer = setTimeout(() => finish([]), Math.max(100, deadline - Date.now()));
    const ws = new MiniWebSocket(url, () => {
      ws.send(JSON.stringify({ id: 1, method: "Debugger.enable" }));
      ws.send(JSON.stringify({ id: 2, method: "Debugger.pause" }));
    });
    ws.onclose = () => finish([]);
    ws.onmessage = (text) => {
      const msg = JSON.parse(text) as { method?: string; params?: Record<string, unknown> };
      if (msg.method === "Debugger.scriptParsed") scripts.set(String(msg.params!.scriptId), String(msg.params!.url));
      else if (msg.method === "Debugger.paused") {
        const frames = (msg.params!.callFrames as { functionName: string; location: { scriptId: string; lineNumber: number; columnNumber?: number } }[]).map((f) => {
          const where = (scripts.get(f.location.scriptId) ?? "?").replace(/^file:\/\//, "").replace(root + "/", "");
          // (a bundled worker's frames are mapped back to the sources: runtime.ts)
          const at = mapFrame ? mapFrame(where, f.location.lineNumber + 1, f.location.columnNumber ?? 0) : { file: where, line: f.location.lineNumber + 1 };
          return `${f.functionName || "<anonymous>"}@${at.file}:${at.line}`;
        });
        finish(frames);
      }
    };
  });
}
