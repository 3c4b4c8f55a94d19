// JSON text without recursion: documents may nest 10,000 levels (MAX_VALUE_DEPTH), deeper than
// a recursive writer's stack allows. The callers describe each node (value.ts's toJSONText for
// Rego values, gotext/plainjson.ts's goJSON for plain JS values); this walks them with an
// explicit stack.

/** A container as the writer sees it: its members, each with its key already written as JSON text (null in arrays). */
export interface JSONContainer {
  array: boolean;
  items: [key: string | null, value: unknown][];
}

/** A node's JSON text (a scalar) or its members (a container). */
export type Describe = (x: unknown) => string | JSONContainer;

/** JSON text of `root`, indented with `indent` per level (compact when empty), starting at `level`. */
export function writeJSON(root: unknown, describe: Describe, indent = "", level = ""): string {
  const out: string[] = [];
  const nl = indent ? "\n" : "";
  const sep = indent ? ": " : ":";
  const stack: { c: JSONContainer; i: number; level: string }[] = [];
  const emit = (x: unknown, at: string) => {
    const d = describe(x);
    if (typeof d === "string") out.push(d);
    else if (d.items.length === 0) out.push(d.array ? "[]" : "{}");
    else {
      out.push(d.array ? "[" : "{");
      stack.push({ c: d, i: 0, level: at });
    }
  };
  emit(root, level);
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.i === f.c.items.length) {
      stack.pop();
      out.push(nl + f.level + (f.c.array ? "]" : "}"));
      continue;
    }
    const [k, v] = f.c.items[f.i];
    const inner = f.level + indent;
    out.push((f.i > 0 ? "," : "") + nl + inner + (k === null ? "" : k + sep));
    f.i++;
    emit(v, inner);
  }
  return out.join("");
}
