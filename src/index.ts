// Portcullis's library entry point.
export { Engine, PreparedQuery, withBuiltins, withoutBuiltins, OPA_BUILTINS, NETWORK_BUILTINS } from "./engine/index.ts";
export type { EngineOptions, QueryOptions, EvalOptions, Capabilities, PrintHook, Result, ResultExpression, RawResult } from "./engine/index.ts";
export type { Builtin, BuiltinContext, BuiltinTable, BuiltinImpl, EvalLimits, FunctionDecl, TypeDecl } from "./rego/builtin.ts";
export { BuiltinError, BuiltinTypeError, HaltError, DEFAULT_LIMITS } from "./rego/builtin.ts";
export type { EvalHooks } from "./rego/eval.ts";
export { BufferTracer, explainEvents, filterTrace, prettyTrace, prettyLines, eventText } from "./rego/trace.ts";
export type { Tracer, TraceEvent, TraceNode, TraceOp, ExplainMode, PrettyLine } from "./rego/trace.ts";
export { RegoError, formatError, formatErrors } from "./rego/errors.ts";
export type { ErrorDetail, ErrorCode } from "./rego/errors.ts";
export { parseModule, parseQuery, parseTerm } from "./rego/parser.ts";
export { MAX_VALUE_DEPTH } from "./rego/value.ts";
export { BUILTINS } from "./builtins/index.ts";
