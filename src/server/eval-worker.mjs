// Entry of the evaluation worker (src/server/pool.ts) when running from the sources (tests):
// registers tsx, then loads the TypeScript worker. The build bundles eval-worker.ts into
// dist/server/eval-worker.js instead.
const { register } = await import("tsx/esm/api");
register();
await import("./eval-worker.ts");
