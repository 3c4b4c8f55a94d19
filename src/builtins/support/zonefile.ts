// The one place the time builtins touch the file system: reading a compiled tz database file
// (TZif) such as /usr/share/zoneinfo/Europe/Berlin (src/builtins/tz.ts). Hosts without files
// (the browser playground) substitute a reader that finds none, so tz.ts falls back to the
// zone data of Intl.DateTimeFormat.

import { readFileSync } from "node:fs";

/** The file's bytes; throws Node's errno errors (ENOENT when there is no such file). */
export function readZoneFile(path: string): Buffer {
  return readFileSync(path);
}
