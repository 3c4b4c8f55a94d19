// The layering rules of docs/ARCHITECTURE.md, checked by test/architecture/layers.test.ts:
//
//   core (src/rego, src/gotext) ← builtins (src/builtins, src/engine)
//     ← formats / load / output / bundle / oci / sign / kube ← faces (src/conftest, src/verify, src/check,
//       src/gatekeeper with its audit/, controller/, cel/, expansion/ and mutation/ folders, src/playground)
//     ← server ← cli (src/cli: nothing imports it)
//
// An import may only point down (or sideways inside its own layer). The core imports no Node
// module, so it can run in a browser; so does the browser playground (src/playground), whose whole
// bundle is checked to import no Node module by test/architecture/layers.test.ts.
const LAYERS = [
  ["core", "^src/(rego|gotext)/"],
  ["builtins", "^src/(builtins|engine)/"],
  ["loaders", "^src/(formats|load|output|bundle|oci|sign|kube)/"],
  ["faces", "^src/(conftest|verify|check|gatekeeper|playground)/"],
  ["server", "^src/server/"],
  ["cli", "^src/cli/"],
];

const forbidden = [];
for (let i = 0; i < LAYERS.length; i++) {
  const above = LAYERS.slice(i + 1).map(([, re]) => re.slice(1));
  if (above.length === 0) continue;
  forbidden.push({
    name: `${LAYERS[i][0]}-imports-upward`,
    comment: `${LAYERS[i][0]} may not import from a higher layer (docs/ARCHITECTURE.md)`,
    severity: "error",
    from: { path: LAYERS[i][1] },
    to: { path: `^(${above.join("|")})` },
  });
}
forbidden.push(
  {
    name: "nothing-imports-cli",
    comment: "the CLI is the top: only the CLI itself imports from src/cli",
    severity: "error",
    from: { path: "^src/", pathNot: "^src/cli/" },
    to: { path: "^src/cli/" },
  },
  {
    name: "core-without-node",
    comment: "the core (language, evaluator, Go text helpers) uses no Node module",
    severity: "error",
    from: { path: "^src/(rego|gotext)/" },
    to: { dependencyTypes: ["core"] },
  },
  {
    name: "gatekeeper-cel-is-a-driver",
    comment: "src/gatekeeper/cel/ (the K8sNativeValidation driver and the Kubernetes CEL libraries) uses nothing of Gatekeeper but yaml.ts: template.ts and client.ts call it, not the other way",
    severity: "error",
    from: { path: "^src/gatekeeper/cel/" },
    to: { path: "^src/gatekeeper/", pathNot: "^src/gatekeeper/(cel/|yaml\\.ts$)" },
  },
  {
    name: "playground-without-node",
    comment: "the browser playground (page, worker, browser substitutes) uses no Node module",
    severity: "error",
    from: { path: "^src/playground/" },
    to: { dependencyTypes: ["core"] },
  },
  {
    name: "no-circular-between-folders",
    comment: "no import cycles that cross folders",
    severity: "error",
    from: { path: "^src/([^/]+)/" },
    to: { circular: true, path: "^src/", pathNot: "^src/$1/" },
  },
);

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    // TypeScript 7 has no JS compiler API for dependency-cruiser to use: swc parses the sources.
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
