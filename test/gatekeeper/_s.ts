import { runSuites, formatText, countCases } from "../../src/gatekeeper/index.ts";
const t0 = performance.now();
const rs = await runSuites([process.argv[2] ?? "/work/shared/gatekeeper-library/library/..."], {});
console.log(formatText(rs, { verbose: false }));
console.log(countCases(rs), ((performance.now() - t0) / 1000).toFixed(2) + "s");
