// How much of the JavaScript stack is left.
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
