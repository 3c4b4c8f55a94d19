// The directories searched for .proto files by the textproto parser (./textproto.ts), like
// conftest's --proto-file-dirs. Kept apart from the parser, which reads files, so that the
// format registry (./content.ts) can pass them to the large-stack worker without file access.

let protoDirs: string[] | undefined;
let generation = 0;

/** Directories searched (recursively) for .proto files, like --proto-file-dirs (the .proto files are read again). */
export function setProtoFileDirs(dirs: string[]): void {
  protoDirs = [...dirs];
  generation++;
}

/** Changes with every setProtoFileDirs: the parser's cache of .proto files is valid for one generation. */
export function protoDirsGeneration(): number {
  return generation;
}

/** The directories in effect (set by setProtoFileDirs, else PORTCULLIS_PROTO_FILE_DIRS, split at the platform's delimiter). */
export function currentDirs(): string[] {
  if (protoDirs) return protoDirs;
  const env = typeof process === 'undefined' ? undefined : process.env.PORTCULLIS_PROTO_FILE_DIRS;
  return env ? env.split(process.platform === 'win32' ? ';' : ':').filter(Boolean) : [];
}
