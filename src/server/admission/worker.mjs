// Entry of the admission worker (src/server/admission/worker.ts) when running from the sources
// (tests): registers tsx, then loads the TypeScript worker. The build bundles worker.ts into
// dist/server/admission-worker.js instead.
const { register } = await import("tsx/esm/api");
register();
await import("./worker.ts");
