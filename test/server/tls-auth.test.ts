// --authentication=tls with --tls-ca-cert-file and --min-tls-version: a client without a
// certificate the CA verifies is refused in the handshake; the authorization policy sees
// input.identity (the subject as Go prints it) and input.client_certificates (Go's
// x509.Certificate JSON); the CA file is reloaded when it changes. OPA's answers are recorded in
// test/server/recorded/opa-tls-auth.json (PORTCULLIS_RECORD=1 with OPA installed re-records).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SecureVersion } from "node:tls";
import { fileURLToPath } from "node:url";
import { startServer } from "../../src/server/index.ts";
import { HAVE_OPA, OPA, freePort, testServerOptions } from "./harness.ts";

const DIR = fileURLToPath(new URL("./fixtures/tls-auth/", import.meta.url));
const POLICY = join(DIR, "policy");
const RECORDED = fileURLToPath(new URL("./recorded/opa-tls-auth.json", import.meta.url));
const RECORD = process.env.PORTCULLIS_RECORD === "1";
const f = (name: string) => readFileSync(join(DIR, name));

interface Call {
  name: string;
  path: string;
  /** The client certificate (sent with its CA when `chain`). */
  client?: "alice" | "bob" | "carol";
  chain?: boolean;
  maxVersion?: SecureVersion;
}

/**
 * What both servers must answer: the status and JSON body, or that the connection was refused.
 * The echo policy's reason is JSON text (Go's json.marshal: sorted keys, big integers exact),
 * so the certificates are compared byte for byte.
 */
type Outcome = { status: number; body: unknown } | { refused: true };

function call(port: number, c: Call): Promise<Outcome> {
  const cert = c.client ? (c.chain ? Buffer.concat([f(`${c.client}.crt`), f(c.client === "bob" ? "ca2.crt" : "ca.crt")]) : f(`${c.client}.crt`)) : undefined;
  const key = c.client ? f(`${c.client}.key`) : undefined;
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: c.path, ca: f("ca.crt"), cert, key, agent: false, maxVersion: c.maxVersion, timeout: 10000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body: body === "" ? "" : JSON.parse(body) }));
      res.on("error", () => resolve({ refused: true }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ refused: true }));
    req.end();
  });
}

const MAIN: Call[] = [
  { name: "alice with her chain: identity and certificates", client: "alice", chain: true, path: "/v1/data/echo" },
  { name: "alice: allowed path", client: "alice", chain: true, path: "/v1/data/open" },
  { name: "alice: path for carol only", client: "alice", chain: true, path: "/v1/data/carol" },
  { name: "carol with her chain: the path for carol", client: "carol", chain: true, path: "/v1/data/carol" },
  { name: "carol: names of the certificates", client: "carol", chain: true, path: "/v1/data/names" },
  { name: "no client certificate", path: "/v1/data/open" },
  { name: "a certificate of another CA", client: "bob", chain: true, path: "/v1/data/open" },
];
const TLS13: Call[] = [
  { name: "min 1.3: a TLS 1.2 client", client: "alice", chain: true, path: "/v1/data/open", maxVersion: "TLSv1.2" },
  { name: "min 1.3: a TLS 1.3 client", client: "alice", chain: true, path: "/v1/data/open", maxVersion: "TLSv1.3" },
];
const RELOAD_BEFORE: Call[] = [
  { name: "before the CA change: alice", client: "alice", chain: true, path: "/v1/data/open" },
  { name: "before the CA change: bob", client: "bob", chain: true, path: "/v1/data/open" },
];
const RELOAD_AFTER: Call[] = [
  { name: "after the CA change: alice", client: "alice", chain: true, path: "/v1/data/open" },
  { name: "after the CA change: bob", client: "bob", chain: true, path: "/v1/data/open" },
];

interface Server {
  port: number;
  stop(): Promise<void>;
}

async function startOpaTLS(caFile: string, minVersion: string): Promise<Server> {
  const port = await freePort();
  const args = ["run", "--server", "--addr", `127.0.0.1:${port}`, "--log-level", "error", "--tls-cert-file", join(DIR, "server.crt"), "--tls-private-key-file", join(DIR, "server.key")];
  args.push("--tls-ca-cert-file", caFile, "--min-tls-version", minVersion, "--authentication=tls", "--authorization=basic", POLICY);
  const child = spawn(OPA, args, { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const o = await call(port, { name: "probe", client: "alice", chain: true, path: "/v1/data/open" });
    if (!("refused" in o)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, stop: () => new Promise<void>((r) => (child.kill("SIGTERM"), child.once("exit", () => r()))) };
}

async function startPortcullisTLS(caFile: string, minVersion: "1.2" | "1.3"): Promise<Server> {
  const s = await startServer(
    testServerOptions([POLICY], { workers: 0, authentication: "tls", authorization: "basic", tls: { certFile: join(DIR, "server.crt"), keyFile: join(DIR, "server.key"), caFile, minVersion } }),
  );
  return { port: Number(s.addresses[0].split(":").pop()), stop: () => s.close() };
}

async function runAll(start: (ca: string, min: "1.2" | "1.3") => Promise<Server>): Promise<Record<string, Outcome>> {
  const out: Record<string, Outcome> = {};
  const each = async (s: Server, calls: Call[]) => {
    for (const c of calls) out[c.name] = await call(s.port, c);
  };
  let s = await start(join(DIR, "ca.crt"), "1.2");
  await each(s, MAIN).finally(() => s.stop());
  s = await start(join(DIR, "ca.crt"), "1.3");
  await each(s, TLS13).finally(() => s.stop());
  const tmp = mkdtempSync(join(tmpdir(), "portcullis-tls-ca-"));
  const ca = join(tmp, "ca.crt");
  copyFileSync(join(DIR, "ca.crt"), ca);
  s = await start(ca, "1.2");
  try {
    await each(s, RELOAD_BEFORE);
    writeFileSync(ca, f("ca2.crt"));
    // the reload is asynchronous in both servers: wait until bob gets through (at most 10 s)
    for (let i = 0; i < 100 && "refused" in (await call(s.port, RELOAD_AFTER[1])); i++) await new Promise((r) => setTimeout(r, 100));
    await each(s, RELOAD_AFTER);
  } finally {
    await s.stop();
  }
  return out;
}

test("--authentication=tls: portcullis answers as OPA does (recorded)", { timeout: 120000 }, async () => {
  if (RECORD) {
    if (!HAVE_OPA) throw new Error(`PORTCULLIS_RECORD=1 needs OPA at ${OPA}`);
    writeFileSync(RECORDED, JSON.stringify(await runAll(startOpaTLS), null, 2) + "\n");
  }
  const want = JSON.parse(readFileSync(RECORDED, "utf8")) as Record<string, Outcome>;
  assert.deepEqual(Object.keys(want), [...MAIN, ...TLS13, ...RELOAD_BEFORE, ...RELOAD_AFTER].map((c) => c.name), "stale recording: re-record with PORTCULLIS_RECORD=1");
  const got = await runAll(startPortcullisTLS);
  for (const name of Object.keys(want)) assert.deepEqual(got[name], want[name], name);
});
