/**
 * Developer tool: compare Portcullis's parse of files with `conftest parse`.
 *   node --import tsx test/formats/compare.ts [--parser NAME] FILE...
 * Prints OK/DIFF per file (values compared after JSON round-trip; key order ignored).
 */
import { spawnSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { parseFile } from '../../src/formats/index.ts';
import { findConftest } from './conftest.ts';

const args = process.argv.slice(2);
let parser: string | undefined;
if (args[0] === '--parser') {
  parser = args[1];
  args.splice(0, 2);
}
const bin = findConftest();
if (!bin) {
  console.error('conftest not found');
  process.exit(2);
}
let bad = 0;
for (const f of args) {
  const r = spawnSync(bin, ['parse', ...(parser ? ['--parser', parser] : []), f], { encoding: 'utf8' });
  let ours: string;
  let value: unknown;
  try {
    value = parseFile(f, { parser });
    ours = JSON.stringify(value);
  } catch (e) {
    ours = 'ERROR ' + (e as Error).message;
  }
  if (r.status !== 0) {
    const theirs = (r.stderr || r.stdout).trim().split('\n')[0];
    const ok = ours.startsWith('ERROR');
    if (!ok) bad++;
    console.log(`${ok ? 'OK-ERR' : 'DIFF'} ${f}\n  conftest: ${theirs}\n  ours:     ${ours.slice(0, 300)}`);
    continue;
  }
  const theirs = JSON.parse(r.stdout);
  const same = !ours.startsWith('ERROR') && isDeepStrictEqual(value, theirs);
  if (!same) bad++;
  console.log(`${same ? 'OK' : 'DIFF'} ${f}`);
  if (!same) {
    console.log('  conftest: ' + JSON.stringify(theirs).slice(0, 1500));
    console.log('  ours:     ' + ours.slice(0, 1500));
  }
}
process.exit(bad ? 1 : 0);
