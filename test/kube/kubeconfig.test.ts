// Our kubeconfig reader (src/kube/config.ts): an HTTPS API server stand-in on loopback with a CA
// from openssl checks what each kubeconfig shape sends (CA, client certificate, token,
// tokenFile re-read, exec plugin, basic auth); $KUBECONFIG lists merge as kubectl merges them;
// unsupported authentication is refused by name; @kubernetes/client-node is never loaded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createServer, type Server } from "node:https";
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TLSSocket } from "node:tls";
import { KubeClient, loadKubeConfig } from "../../src/kube/index.ts";
import { which } from "../support/kube.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const noOpenssl = which("openssl") ? "" : "openssl is not installed";

interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function pki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "kubecfg-pki-"));
  const o = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  o("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=test-ca", "-days", "2");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  o("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=apiserver");
  o("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext");
  o("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=alice/O=team");
  o("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "2");
  return { dir, ca: join(dir, "ca.crt"), serverCert: join(dir, "server.crt"), serverKey: join(dir, "server.key"), clientCert: join(dir, "client.crt"), clientKey: join(dir, "client.key") };
}

/** An HTTPS server answering every request with what it saw: the Authorization header and the client certificate's CN. */
async function apiServer(p: Pki): Promise<{ url: string; srv: Server }> {
  const srv = createServer({ cert: readFileSync(p.serverCert), key: readFileSync(p.serverKey), ca: readFileSync(p.ca), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ auth: req.headers.authorization ?? null, cn: peer && peer.subject ? peer.subject.CN : null }));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `https://127.0.0.1:${(srv.address() as { port: number }).port}`, srv };
}

const b64 = (f: string) => readFileSync(f).toString("base64");

test("kubeconfig shapes against an HTTPS server: CA file and data, client certificates, tokens, tokenFile, basic, exec", { skip: noOpenssl || undefined }, async () => {
  const p = pki();
  const { url, srv } = await apiServer(p);
  const dir = p.dir;
  try {
    const ask = async (user: string, cluster = `{server: "${url}", certificate-authority: ca.crt}`, extra = "") => {
      const kc = join(dir, `kc-${Math.random().toString(36).slice(2)}`);
      writeFileSync(kc, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: ${cluster}}]\nusers: [{name: u, user: ${user}}]\ncontexts: [{name: x, context: {cluster: c, user: u${extra}}}]\ncurrent-context: x\n`);
      const client = await KubeClient.connect({ kubeconfig: kc });
      try {
        return { ...(await client.request("GET", "/version")), namespace: client.namespace };
      } finally {
        client.close();
      }
    };
    // certificate-authority as a path relative to the kubeconfig's directory; a static token; the context's namespace.
    assert.deepEqual(await ask(`{token: "t0k"}`, undefined, ", namespace: team"), { auth: "Bearer t0k", cn: null, namespace: "team" });
    // certificate-authority-data and client certificate files (relative paths).
    assert.deepEqual(await ask(`{client-certificate: client.crt, client-key: client.key}`, `{server: "${url}", certificate-authority-data: ${b64(p.ca)}}`), { auth: null, cn: "alice", namespace: "default" });
    // client certificate data.
    assert.equal((await ask(`{client-certificate-data: ${b64(p.clientCert)}, client-key-data: ${b64(p.clientKey)}}`)).cn, "alice");
    // Without the CA the server's certificate is refused; insecure-skip-tls-verify accepts it.
    await assert.rejects(ask(`{token: "t"}`, `{server: "${url}"}`), /self[- ]signed|unable to verify|certificate/i);
    assert.equal((await ask(`{token: "t"}`, `{server: "${url}", insecure-skip-tls-verify: true}`)).auth, "Bearer t");
    // username/password → Basic.
    assert.equal((await ask(`{username: "bob", password: "pw"}`)).auth, `Basic ${Buffer.from("bob:pw").toString("base64")}`);
    // tokenFile, re-read when it rotates (after the cache's 10 s: the test swaps the file and reconnects instead).
    writeFileSync(join(dir, "tok"), "from-file\n");
    assert.equal((await ask(`{tokenFile: tok}`)).auth, "Bearer from-file");
    // An exec credential plugin (client.authentication.k8s.io/v1): the token it prints, KUBERNETES_EXEC_INFO and env passed.
    const plugin = join(dir, "plugin.cjs");
    writeFileSync(plugin, `const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);\nprocess.stdout.write(JSON.stringify({apiVersion: info.apiVersion, kind: "ExecCredential", status: {token: process.env.GREETING + "-" + info.spec.cluster.server.startsWith("https://"), expirationTimestamp: "2999-01-01T00:00:00Z"}}));\n`);
    assert.equal((await ask(`{exec: {apiVersion: client.authentication.k8s.io/v1, command: "${process.execPath}", args: ["${plugin}"], env: [{name: GREETING, value: hi}], provideClusterInfo: true, interactiveMode: Never}}`)).auth, "Bearer hi-true");
    // A plugin that fails: one line naming the plugin.
    writeFileSync(join(dir, "bad.cjs"), `process.stderr.write("please log in\\n"); process.exit(3);\n`);
    await assert.rejects(ask(`{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: "${process.execPath}", args: ["${join(dir, "bad.cjs")}"]}}`), (e: Error) => /^kubeconfig .*: authentication: exec plugin .*node.*please log in$/.test(e.message) && !e.message.includes("\n"));
  } finally {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
});

test("$KUBECONFIG lists merge as kubectl: the first file naming an entry or a current-context wins", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kubecfg-merge-"));
  writeFileSync(join(dir, "a"), `clusters: [{name: c, cluster: {server: "https://a.example:6443"}}]\ncontexts: [{name: x, context: {cluster: c, namespace: from-a}}]\ncurrent-context: x\n`);
  writeFileSync(join(dir, "b"), `clusters: [{name: c, cluster: {server: "https://b.example:6443"}}, {name: d, cluster: {server: "https://d.example"}}]\ncontexts: [{name: y, context: {cluster: d}}]\ncurrent-context: y\n`);
  const old = process.env.KUBECONFIG;
  process.env.KUBECONFIG = `${join(dir, "a")}:${join(dir, "missing")}:${join(dir, "b")}`;
  try {
    const c = await loadKubeConfig();
    assert.equal(c.server, "https://a.example:6443");
    assert.equal(c.namespace, "from-a");
    const d = await loadKubeConfig({ context: "y" });
    assert.equal(d.server, "https://d.example");
    assert.equal(d.namespace, "default");
  } finally {
    if (old === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = old;
  }
});

test("unsupported or broken kubeconfigs are refused with one line", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kubecfg-bad-"));
  const bad = async (body: string, re: RegExp) => {
    const f = join(dir, `c${Math.random().toString(36).slice(2)}`);
    writeFileSync(f, body);
    await assert.rejects(loadKubeConfig({ kubeconfig: f }), (e: Error) => re.test(e.message) && !e.message.includes("\n"));
  };
  const ctx = `contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`;
  const cl = `clusters: [{name: c, cluster: {server: "https://k:6443"}}]\n`;
  await bad(cl + `users: [{name: u, user: {auth-provider: {name: gcp}}}]\n` + ctx, /user "u": auth-provider "gcp" \(use an exec credential plugin.*\) is not supported$/);
  await bad(cl + `users: [{name: u, user: {as: admin, token: t}}]\n` + ctx, /user "u": as \(impersonation\) is not supported$/);
  await bad(`clusters: [{name: c, cluster: {server: "https://k", proxy-url: "http://p:3128"}}]\nusers: [{name: u, user: {}}]\n` + ctx, /cluster "c": proxy-url is not supported$/);
  await bad(cl + `users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}}}]\n` + ctx, /exec apiVersion "client.authentication.k8s.io\/v1alpha1" is not supported/);
  await bad(cl + `users: [{name: u, user: {client-certificate-data: QUJD}}]\n` + ctx, /needs both the certificate and the key$/);
  await bad(cl + `users: [{name: u, user: {client-certificate: nope.crt, client-key: nope.key}}]\n` + ctx, /ENOENT|no such file/);
  await bad(cl + ctx, /context "x": no user "u"$/);
  await bad(`clusters: [{name: c, cluster: {server: "ftp://k"}}]\n` + `contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n`, /cluster server "ftp:\/\/k": unsupported scheme ftp:$/);
  await bad(`clusters: {c: 1}\n`, /clusters must be a list$/);
  await bad(`clusters: [\n`, /not valid YAML/);
});

test("the controller's Kubernetes client never loads @kubernetes/client-node", () => {
  // A resolve hook in a child process records every bare specifier resolved while the
  // controller command's module graph loads and a connection is configured.
  const dir = mkdtempSync(join(tmpdir(), "kubecfg-mods-"));
  writeFileSync(join(dir, "kc"), `clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
  const hooks = `export async function resolve(s, c, next) { if (s.includes("client-node")) process.stderr.write("LOADED " + s + "\\n"); return next(s, c); }`;
  const main = [
    `import { register } from "node:module";`,
    `register("data:text/javascript,${encodeURIComponent(hooks)}");`,
    `const kube = await import(${JSON.stringify(join(ROOT, "src/kube/index.ts"))});`,
    `await import(${JSON.stringify(join(ROOT, "src/gatekeeper/audit/index.ts"))});`,
    `const c = await kube.KubeClient.connect({ kubeconfig: ${JSON.stringify(join(dir, "kc"))} });`,
    `await c.request("GET", "/version", { timeoutMs: 500 }).catch(() => {});`,
    `c.close();`,
    `process.stdout.write("done\\n");`,
  ].join("\n");
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", main], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.stdout.trim(), "done", r.stderr);
  assert.doesNotMatch(r.stderr, /LOADED/);
  // And nothing in src/ imports it.
  const grep = spawnSync("git", ["grep", "-l", "@kubernetes/client-node", "--", "src/*.ts"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(grep.stdout.trim(), "");
  assert.ok(existsSync(join(ROOT, "package.json")));
  assert.ok(!JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies["@kubernetes/client-node"], "package.json still depends on @kubernetes/client-node");
});
