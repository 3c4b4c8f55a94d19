/**
 * Walking parsed values without recursion, so that documents nested up to
 * MAX_DEPTH (limits.ts) never exhaust the JavaScript stack.
 */

type Container = unknown[] | Record<string, unknown>;

/** Arrays and plain objects (prototype Object.prototype or null); class instances such as dates are leaves. */
export function isContainer(v: unknown): v is Container {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Rebuild a value bottom-up: every array and plain object is replaced by
 * `build(source, children)`, where `children` are its already rebuilt
 * elements (arrays) or values in Object.keys order (objects); every other
 * value by `leaf(value)`. A container reached twice (shared, as YAML
 * aliases leave them) is rebuilt once and shared in the result. A value
 * that contains itself is an Error.
 */
export function mapTree(
  root: unknown,
  build: (source: Container, children: unknown[]) => unknown,
  leaf: (v: unknown) => unknown = (v) => v,
): unknown {
  if (!isContainer(root)) return leaf(root);
  const done = new Map<object, unknown>();
  const open = new Set<object>();
  const stack: { src: Container; values: unknown[]; out: unknown[]; i: number }[] = [];
  const push = (src: Container) => {
    open.add(src);
    stack.push({ src, values: Array.isArray(src) ? src : Object.values(src), out: [], i: 0 });
  };
  push(root);
  let result: unknown;
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top.i < top.values.length) {
      const c = top.values[top.i++];
      if (!isContainer(c)) {
        top.out.push(leaf(c));
        continue;
      }
      if (done.has(c)) {
        top.out.push(done.get(c));
        continue;
      }
      if (open.has(c)) throw new Error('value contains itself');
      push(c);
      continue;
    }
    stack.pop();
    open.delete(top.src);
    const built = build(top.src, top.out);
    done.set(top.src, built);
    if (stack.length) stack[stack.length - 1]!.out.push(built);
    else result = built;
  }
  return result;
}

/**
 * Visit every value once, parents before children (containers reached
 * again through sharing are not entered again). `visit` returning false
 * skips the container's children.
 */
export function walkTree(root: unknown, visit: (v: unknown, key: string | number | undefined) => boolean | void): void {
  const seen = new Set<object>();
  const stack: [unknown, string | number | undefined][] = [[root, undefined]];
  while (stack.length) {
    const [v, k] = stack.pop()!;
    if (visit(v, k) === false || !isContainer(v) || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], i]);
    else {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) stack.push([v[keys[i]!], keys[i]!]);
    }
  }
}
