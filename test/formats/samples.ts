/** The committed sample inputs under examples/formats/<format>/. */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), '../../examples/formats');

export interface Sample {
  format: string;
  path: string;
  expected: string;
}

export function listSamples(): Sample[] {
  const out: Sample[] = [];
  for (const format of readdirSync(EXAMPLES).sort()) {
    const dir = join(EXAMPLES, format);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.expected.json') || name.endsWith('.md')) continue;
      const path = join(dir, name);
      if (!statSync(path).isFile()) continue;
      out.push({ format, path, expected: join(dir, name + '.expected.json') });
    }
  }
  return out;
}
