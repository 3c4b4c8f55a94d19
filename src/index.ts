// Portcullis's library entry point.
export { Engine } from "./engine/index.ts";
export type { EngineOptions, QueryOptions, Result, ResultExpression, RawResult } from "./engine/index.ts";
export type { EvalHooks } from "./rego/eval.ts";
export { RegoError, formatError, formatErrors } from "./rego/errors.ts";
export type { ErrorDetail, ErrorCode } from "./rego/errors.ts";
export { parseModule, parseQuery, parseTerm } from "./rego/parser.ts";
export { BUILTINS } from "./builtins/index.ts";
