// JSON text for CLI output: see src/output/regojson.ts (shared with the browser playground).
export { RegoJSON, jsonText } from "../output/regojson.ts";
