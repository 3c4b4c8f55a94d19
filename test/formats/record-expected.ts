/**
 * Regenerate examples/formats/<format>/<name>.expected.json from the real
 * conftest (the oracle):
 *   node --import tsx test/formats/record-expected.ts [format...]
 * For each sample it runs `conftest parse --parser <format> <sample>` and
 * stores the printed JSON (re-indented; values unchanged). textproto samples
 * go through `conftest test --proto-file-dirs <dir>/protos` with a policy
 * reporting json.marshal(input), since `conftest parse` cannot load .proto files. Needs conftest (~/go/bin/conftest or on
 * PATH; install with `go install github.com/open-policy-agent/conftest@latest`).
 */
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { findConftest, conftestInput } from './conftest.ts';
import { listSamples } from './samples.ts';

const bin = findConftest();
if (!bin) {
  console.error('conftest not found');
  process.exit(2);
}
const only = process.argv.slice(2);
for (const s of listSamples()) {
  if (only.length && !only.includes(s.format)) continue;
  const r = conftestInput(bin, s.format, s.path, join(dirname(s.path), 'protos'));
  if (!r.ok) {
    console.error(`FAIL ${s.path}: ${r.error}`);
    continue;
  }
  writeFileSync(s.expected, r.text);
  console.log(`recorded ${s.expected}`);
}
