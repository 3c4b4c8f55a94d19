// How much of the JavaScript stack is left, and a fold that needs none of it.
//
// The parser, the compiler and the evaluator recurse over programs and values that may nest
// far deeper than the JavaScript stack (about 1 MB with Node's defaults) allows. Each counts its
// own nesting and, every few levels, asks stackLow whether the stack is nearly used up, so that
// it can continue on a fresh stretch of stack or stop with a coded error, before V8 throws a
// RangeError from somewhere that cannot recover.

function probe(n: number): number {
  return n <= 0 ? 0 : probe(n - 1) + 1;
}

/**
 * Is the JavaScript stack nearly exhausted? Checked by descending some thousand frames (a
 * few hundred KB) and seeing whether that overflows: the RangeError is caught right here, with
 * nothing else on the stack in between.
 */
export function stackLow(): boolean {
  try {
    probe(1500);
    return false;
  } catch {
    return true;
  }
}

/**
 * A post-order fold over a tree without native recursion (terms and values may nest deeper than
 * the stack allows): `leaf` gives the result of a node that needs no expansion (or undefined),
 * `kids` the children of one that does, `combine` its result from theirs and its depth.
 */
export function foldTree<N, R>(root: N, leaf: (n: N) => R | undefined, kids: (n: N) => N[], combine: (n: N, rs: R[], depth: number) => R): R {
  const r0 = leaf(root);
  if (r0 !== undefined) return r0;
  const stack: { n: N; ks: N[]; rs: R[] }[] = [{ n: root, ks: kids(root), rs: [] }];
  for (;;) {
    const top = stack[stack.length - 1];
    if (top.rs.length < top.ks.length) {
      const child = top.ks[top.rs.length];
      const r = leaf(child);
      if (r !== undefined) top.rs.push(r);
      else stack.push({ n: child, ks: kids(child), rs: [] });
      continue;
    }
    const res = combine(top.n, top.rs, stack.length - 1);
    stack.pop();
    if (stack.length === 0) return res;
    stack[stack.length - 1].rs.push(res);
  }
}
