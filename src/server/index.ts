// The policy server layer (above the faces, below the CLI): `portcullis run --server`.
export { startServer, splitHostPort, type ServerOptions, type RunningServer } from "./server.ts";
export { loadConfig, ConfigError, UNSUPPORTED_KEYS, type ServerConfig } from "./config.ts";
export { Logger, type LogLevel, type LogFormat } from "./log.ts";
export { LoadError } from "./files.ts";
export { readCAFile, CAFileError } from "./clientcert.ts";
