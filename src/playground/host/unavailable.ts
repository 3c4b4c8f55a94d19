// What a host capability the browser does not have reports: a HaltError, so evaluation stops
// with a clear message instead of the call being silently undefined (a `deny` rule that does
// not fire because `crypto.sha256` is missing would be a wrong answer).

import { HaltError } from "../../rego/builtin.ts";

export function notInBrowser(what: string): never {
  throw new HaltError(`${what}: not available in the browser (run it with the portcullis command)`);
}
