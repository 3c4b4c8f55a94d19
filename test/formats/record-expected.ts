/**
 * Regenerate examples/formats/<format>/<name>.expected.json from the real
 * conftest (the oracle):
 *   node --import tsx test/formats/record-expected.ts [format...]
 * For each sample it runs `conftest parse --parser <format> <sample>` and
 * stores the printed JSON unchanged. Needs conftest (~/go/bin/conftest or on
 * PATH; install with `go install github.com/open-policy-agent/conftest@latest`).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { findConftest } from './conftest.ts';
import { listSamples } from './samples.ts';

const bin = findConftest();
if (!bin) {
  console.error('conftest not found');
  process.exit(2);
}
const only = process.argv.slice(2);
for (const s of listSamples()) {
  if (only.length && !only.includes(s.format)) continue;
  const r = spawnSync(bin, ['parse', '--parser', s.format, s.path], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`FAIL ${s.path}: ${(r.stderr || r.stdout).trim()}`);
    continue;
  }
  writeFileSync(s.expected, r.stdout);
  console.log(`recorded ${s.expected}`);
}
