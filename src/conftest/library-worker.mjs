// Entry of the library's worker thread (./parallel.ts) when running from the sources (tests):
// registers tsx, then loads the TypeScript worker. The build bundles library-worker.ts into
// dist/conftest/library-worker.js instead.
const { register } = await import("tsx/esm/api");
register();
await import("./library-worker.ts");
