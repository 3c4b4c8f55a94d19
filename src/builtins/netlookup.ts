// net.lookup_ip_addr: the one net.* builtin that reaches the network (DNS through Node's
// resolver, the nameserver named in errors from /etc/resolv.conf). Kept apart from net.ts's
// CIDR builtins so that hosts without a network stack (the browser playground) can leave it out.

import { nodeDns } from "../lazy.ts";
import { readFileSync } from "node:fs";
import type { Builtin, BuiltinContext } from "./registry.ts";
import { BuiltinError, T, operandError } from "./registry.ts";
import type { PlainObject, Value } from "../rego/value.ts";
import { RSet } from "../rego/value.ts";
import { parseIP, formatIP } from "./net.ts";

// ---- DNS ---------------------------------------------------------------------------------------

let nameserver: string | null | undefined;
function firstNameserver(): string | null {
  if (nameserver === undefined) {
    nameserver = null;
    try {
      const m = /^\s*nameserver\s+(\S+)/m.exec(readFileSync("/etc/resolv.conf", "utf8"));
      if (m) nameserver = m[1].includes(":") ? `[${m[1]}]:53` : `${m[1]}:53`;
    } catch {
      nameserver = null;
    }
  }
  return nameserver;
}

async function resolve(name: string): Promise<Value> {
  const where = (msg: string) => `lookup ${name}${firstNameserver() ? ` on ${firstNameserver()}` : ""}: ${msg}`;
  try {
    const addrs = await nodeDns.promises.lookup(name, { all: true, verbatim: true });
    const out: string[] = [];
    for (const a of addrs) {
      const [addr, zone] = a.address.split("%");
      const ip = parseIP(addr);
      out.push(ip === undefined ? a.address : formatIP(ip) + (zone ? `%${zone}` : ""));
    }
    if (out.length === 0) return { error: `lookup ${name}: no such host` };
    return { ok: out };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTFOUND" || code === "ENODATA") return { error: where("no such host") };
    if (code === "ETIMEOUT" || code === "EAI_AGAIN") return { error: where("i/o timeout") };
    return { error: where((e as Error).message) };
  }
}

function lookupIPAddr(args: Value[], ctx: BuiltinContext): Value {
  const [a] = args;
  if (typeof a !== "string") throw operandError("net.lookup_ip_addr", 1, "string", a);
  if (a === "") throw new BuiltinError("net.lookup_ip_addr: lookup : no such host");
  const literal = parseIP(a);
  if (literal !== undefined) return new RSet([formatIP(literal)]);
  if (ctx.allowNet !== undefined && !ctx.allowNet.includes(a)) throw new BuiltinError(`net.lookup_ip_addr: unallowed host: ${a}`);
  const res = ctx.awaitValue("net.lookup_ip_addr\u0000" + a, () => resolve(a)) as PlainObject;
  if (typeof res.error === "string") throw new BuiltinError(`net.lookup_ip_addr: ${res.error}`);
  return new RSet(res.ok as string[]);
}

export const builtins: Builtin[] = [
  {
    name: "net.lookup_ip_addr",
    decl: T.fn([T.string], T.setOf(T.string)),
    nondeterministic: true,
    impl: lookupIPAddr,
  },
];
