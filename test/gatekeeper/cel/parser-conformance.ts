// The expressions of the cel-spec conformance tests as @bufbuild/cel-spec bundles them (every
// file, not only the subset Kubernetes uses), without repeats; null when the bundle is absent.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export function conformanceExpressions(): string[] | null {
  let bundled: { tests: { suites: { suites?: { tests?: { original: { expr: string } }[] }[] }[] } };
  try {
    bundled = require(require.resolve("@bufbuild/cel-spec/testdata/conformance.js", { paths: [require.resolve("@bufbuild/cel")] }));
  } catch {
    return null;
  }
  const out = new Set<string>();
  for (const file of bundled.tests.suites) for (const s of file.suites ?? []) for (const t of s.tests ?? []) out.add(t.original.expr);
  return [...out];
}
