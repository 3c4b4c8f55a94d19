// Structured logs as OPA writes them (logrus): one JSON object per line with the fields sorted
// by name (`level`, `msg`, `time` among them), or logrus's text form (`time=… level=… msg=…`
// then the other fields). Levels: debug, info, error (OPA's --log-level), plus warning.

import { goJSON, goString } from "../gotext/plainjson.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "json-pretty" | "text";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export class Logger {
  readonly level: LogLevel;
  readonly format: LogFormat;
  private readonly write: (line: string) => void;

  constructor(level: LogLevel, format: LogFormat, write: (line: string) => void) {
    this.level = level;
    this.format = format;
    this.write = write;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.level];
  }

  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    if (!this.enabled(level)) return;
    const lv = level === "warn" ? "warning" : level;
    const time = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    if (this.format === "text") {
      let line = `time=${goString(time)} level=${lv} msg=${goString(msg)}`;
      for (const k of Object.keys(fields).sort()) {
        const v = fields[k];
        const text = typeof v === "string" ? (/^[A-Za-z0-9_.\-/:@]+$/.test(v) ? v : goString(v)) : typeof v === "object" && v !== null ? goJSON(v) : String(v);
        line += ` ${k}=${text}`;
      }
      this.write(line + "\n");
      return;
    }
    const rec: Record<string, unknown> = { ...fields, level: lv, msg, time };
    this.write(goJSON(rec, this.format === "json-pretty" ? "  " : "") + "\n");
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log("error", msg, fields);
  }
}
