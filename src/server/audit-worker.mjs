// Entry of the audit worker (src/server/audit-worker.ts) when running from the sources (tests):
// registers tsx, then loads the TypeScript worker. The build bundles audit-worker.ts into
// dist/server/audit-worker.js instead.
const { register } = await import("tsx/esm/api");
register();
await import("./audit-worker.ts");
