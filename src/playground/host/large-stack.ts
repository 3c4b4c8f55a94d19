// The browser bundle's src/builtins/support/large-stack.ts (see ./substitutes.ts). In Node, a
// parser that runs out of stack on a deeply nested document is run again in a worker thread
// with a larger stack; a browser has no synchronous worker to do that, so such a document is
// an error that says so (the page's worker stops, nothing is silently cut). The rest of the
// module's API is the same: registered functions, stack-overflow detection, the document codec.

export { encodeDocument, decodeDocument } from "../../builtins/support/document.ts";

export const LARGE_STACK_MB = 0;

export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack size|too much recursion/i.test(e.message);
}

export interface LargeStackCall {
  fn: string;
  arg: string;
}

export function registerLargeStackFn(_name: string, _fn: (arg: string) => string): void {}

export class LargeStackFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LargeStackFault";
  }
}

export function callWithLargeStack(call: LargeStackCall): string {
  throw new LargeStackFault(`${call.fn}: the document is nested too deeply for the browser's stack (the portcullis command reads it)`);
}
