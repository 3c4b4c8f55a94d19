// Documents as text between threads: JSON that keeps -0, decoded without recursion (the
// large-stack worker's results, src/builtins/support/large-stack.ts).

/** A document as JSON text that keeps -0 (as a marker string): what registered functions return. */
export function encodeDocument(value: unknown): string {
  const negZero = `\u0000-0:${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  return JSON.stringify({ negZero, json: JSON.stringify(value === undefined ? null : value, (_k, v) => (Object.is(v, -0) ? negZero : v)) });
}

/** The document of encodeDocument's text. */
export function decodeDocument(text: string): unknown {
  const { negZero, json } = JSON.parse(text) as { negZero: string; json: string };
  return decode(json, negZero);
}

/** JSON.parse, then the -0 markers back to -0 (without recursion). */
function decode(json: string, negZero: string): unknown {
  const v: unknown = JSON.parse(json);
  if (!json.includes(JSON.stringify(negZero).slice(1, -1))) return v;
  if (v === negZero) return -0;
  const todo: object[] = [];
  if (v !== null && typeof v === 'object') todo.push(v);
  while (todo.length) {
    const o = todo.pop() as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (x === negZero) o[k] = -0;
      else if (x !== null && typeof x === 'object') todo.push(x);
    }
  }
  return v;
}
