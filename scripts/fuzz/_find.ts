import { generate } from "./cases.ts";
import { runCase, reproText } from "./targets.ts";
const [target, seed, from, to, name] = process.argv.slice(2);
for (let i = Number(from); i < Number(to); i++) {
  const c = generate(target as any, Number(seed), i);
  if (name && (c as any).name !== name && !(c as any).how?.includes(name)) continue;
  const o = runCase(c, { evalTimeoutMs: 250 });
  if (o.kind === "crash") { console.log(i, JSON.stringify(o.error).slice(0, 600)); console.log(reproText(c).slice(0, 600)); }
}
