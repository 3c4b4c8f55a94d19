// Go's text for the system errors a file operation reports (syscall.Errno's strings), as OPA,
// conftest and gator print them after `open <path>: `; other errors keep their own message.

const GO_ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
};

export function goErrnoText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && Object.hasOwn(GO_ERRNO_TEXT, code)) return GO_ERRNO_TEXT[code];
  return e instanceof Error ? e.message : String(e);
}
