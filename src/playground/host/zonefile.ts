// The browser bundle's src/builtins/support/zonefile.ts (see ./substitutes.ts): a browser has no
// tz database files, so every lookup finds none (ENOENT) and src/builtins/tz.ts uses the zone
// data of Intl.DateTimeFormat, as it does in Node for a zone without a file.

export function readZoneFile(path: string): Buffer {
  const e = new Error(`open ${path}: no such file or directory`) as Error & { code: string };
  e.code = "ENOENT";
  throw e;
}
