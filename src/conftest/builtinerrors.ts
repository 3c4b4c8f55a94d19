// `--show-builtin-errors` as conftest does it: the policy is evaluated as usual (a builtin that
// fails makes its expression undefined and evaluation goes on), every builtin error of the query
// is collected (OPA's BuiltinErrorList), and a query with errors fails with all of them, printed
// as Go prints conftest's []topdown.Error with `%+v`:
//   built-in error: [{Code:eval_builtin_error Message:json.unmarshal: unexpected EOF Location:p.rego:4 StackTrace: err:0xc000…} …]
// The `err` field is the wrapped Go error: for type errors (OPA's builtins.ErrOperand, a string)
// Go prints its text; for the others Go prints a pointer, different on every run, which is left
// out here (`StackTrace:}`).

import { BuiltinError, BuiltinTypeError, type Builtin, type BuiltinContext, type BuiltinTable } from "../rego/builtin.ts";
import { ValueDepthError } from "../rego/value.ts";
import type { Location } from "../rego/ast.ts";

export interface CollectedError {
  code: "eval_builtin_error" | "eval_type_error";
  message: string;
  location: Location | undefined;
  /** The text Go prints for the wrapped error (type errors only). */
  err?: string;
}

/**
 * The errors of one query. An evaluation that waits for I/O (http.send) runs again from the
 * start (a new builtin context, or the same one's next `attempt`); only the last run's errors count.
 */
export class BuiltinErrorCollector {
  errors: CollectedError[] = [];
  private run: BuiltinContext | undefined;
  private attempt: number | undefined;

  record(ctx: BuiltinContext, e: CollectedError): void {
    this.seen(ctx);
    this.errors.push(e);
  }

  /** Called by every builtin of the table: a new run (another context, or the same context's next attempt) starts with no errors. */
  seen(ctx: BuiltinContext): void {
    if (ctx !== this.run || ctx.attempt !== this.attempt) {
      this.run = ctx;
      this.attempt = ctx.attempt;
      this.errors = [];
    }
  }

  /** conftest's text: `built-in error: [{Code:… Message:… Location:… StackTrace: err:…} …]`. */
  text(): string {
    const one = (e: CollectedError) =>
      `{Code:${e.code} Message:${e.message} Location:${e.location ? `${e.location.file}:${e.location.row}` : "<nil>"} StackTrace:${e.err !== undefined ? ` err:${e.err}` : ""}}`;
    return `built-in error: [${this.errors.map(one).join(" ")}]`;
  }
}

/** The key under which a query's collector travels in the evaluation's `host` state. */
export const COLLECTOR_KEY = "conftestBuiltinErrors";

/**
 * A table whose builtins record their deliberate errors (in the collector the evaluation carries
 * in `host`) before failing as usual; without a collector they behave exactly as the originals.
 */
export function collectingTable(base: BuiltinTable): BuiltinTable {
  const out = new Map<string, Builtin>();
  for (const [name, b] of base) out.set(name, collecting(b));
  return out;
}

function collecting(b: Builtin): Builtin {
  const impl = b.impl;
  const wrapped: Builtin = {
    ...b,
    impl: (args, ctx) => {
      const collector = ctx.host?.[COLLECTOR_KEY] as BuiltinErrorCollector | undefined;
      collector?.seen(ctx);
      try {
        return impl(args, ctx);
      } catch (e) {
        if (collector) {
          if (e instanceof BuiltinTypeError) {
            const prefix = `${b.name}: `;
            const err = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
            collector.record(ctx, { code: "eval_type_error", message: e.message, location: ctx.location, err });
          } else if (e instanceof BuiltinError) {
            collector.record(ctx, { code: "eval_builtin_error", message: e.message, location: ctx.location });
          } else if (e instanceof ValueDepthError) {
            collector.record(ctx, { code: "eval_builtin_error", message: `${b.name}: ${e.message}`, location: ctx.location });
          }
        }
        throw e;
      }
    },
  };
  return wrapped;
}
