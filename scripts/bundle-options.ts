// The esbuild options of the package's ES module build (`npm run build`, scripts/build.ts), shared
// by the fuzz runs (scripts/fuzz/runtime.ts), which bundle their worker the same way so that
// their CPU budget describes the shipped code: ES modules with code splitting, npm packages left
// external, syntax minified (names and whitespace kept, for readable stack traces).
import type { BuildOptions } from "esbuild";

export const PACKAGE_BUNDLE = {
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  minifySyntax: true,
} as const satisfies BuildOptions;
