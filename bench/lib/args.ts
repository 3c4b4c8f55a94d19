// Command-line flags of the bench scripts: `--name VALUE`, or a default.

/** The value after `--name` in args (the process's arguments by default), or def when it is absent or empty. */
export function flag(name: string, def: string, args: readonly string[] = process.argv.slice(2)): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
}
