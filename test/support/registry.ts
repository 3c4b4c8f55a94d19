// A real OCI registry for tests: Debian's `docker-registry` (the CNCF distribution registry,
// /usr/bin/docker-registry) started on 127.0.0.1 with a generated configuration, over HTTP, or
// over HTTPS with a generated CA and htpasswd basic authentication. Tests skip when the binary
// (or, for HTTPS, openssl) is absent: `registryMissing()` / `tlsMissing()` give the reason.

import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

export const REGISTRY_BIN = process.env.DOCKER_REGISTRY_BIN ?? "/usr/bin/docker-registry";

/** The user and password of the HTTPS registry. */
export const TEST_USER = "portcullis";
export const TEST_PASSWORD = "throwaway-test-password";
/**
 * bcrypt of TEST_PASSWORD (cost 5), used when it cannot be computed here (python3's crypt
 * module, removed in Python 3.13): a throwaway password for a registry that lives for one test.
 */
const FIXTURE_HASH = "$2b$05$TWmj2siNZRcdU3xi98xOwepBHtf8od9L/jUJWwhVB8dCpC2G7VYvO";

function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? "").split(":")) if (d && existsSync(join(d, cmd))) return join(d, cmd);
  return undefined;
}

export function registryMissing(): string | false {
  return existsSync(REGISTRY_BIN) ? false : `${REGISTRY_BIN} is not installed (apt-get install docker-registry)`;
}

export function tlsMissing(): string | false {
  return registryMissing() || (which("openssl") ? false : "openssl is not installed");
}

/** An oracle binary in ~/go/bin or PATH, or undefined. */
export function goTool(name: string): string | undefined {
  const p = join(homedir(), "go", "bin", name);
  return existsSync(p) ? p : which(name);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  dir: string;
  /** PEM CA file (HTTPS registries). */
  caFile?: string;
  stop(): Promise<void>;
}

function bcryptHash(password: string): string {
  try {
    const out = execFileSync("python3", ["-W", "ignore", "-c", "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)))", password], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10000,
    }).trim();
    if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(out)) return out;
  } catch {
    // no python3 or no crypt module: the fixture below
  }
  return FIXTURE_HASH;
}

/** Starts a registry; `tls` adds a generated CA + server certificate and htpasswd authentication. */
export async function startRegistry(opts: { tls?: boolean } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let tlsBlock = "";
  let authBlock = "";
  let caFile: string | undefined;
  if (opts.tls) {
    caFile = join(dir, "ca.pem");
    const ossl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore", timeout: 30000 });
    ossl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=portcullis test CA"]);
    ossl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    ossl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"]);
    writeFileSync(join(dir, "htpasswd"), `${TEST_USER}:${bcryptHash(TEST_PASSWORD)}\n`);
    tlsBlock = `  tls:\n    certificate: ${join(dir, "server.pem")}\n    key: ${join(dir, "server.key")}\n`;
    authBlock = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${join(dir, "htpasswd")}\n`;
  }
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n${tlsBlock}${authBlock}`,
  );
  const child: ChildProcess = spawn(REGISTRY_BIN, ["serve", config], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, OTEL_TRACES_EXPORTER: "none" } });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => {
    if (stderr.length < 8192) stderr += b.toString();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          r(undefined);
        }, 5000);
        child.once("exit", () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // ready when it answers /v2/ (200, or 401 with authentication)
  const deadline = Date.now() + 20000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry exited: ${stderr}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, "127.0.0.1", () => {
        c.destroy();
        resolve(true);
      });
      c.on("error", () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not listen on ${host} within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, dir, caFile, stop };
}
