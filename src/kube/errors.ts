// One error type for everything that talks to the API server: a one-line message naming the
// verb, the path and the server's answer (its Status message when it sent one), and the HTTP
// status code for callers that branch on it (404 not found, 409 conflict, 410 gone).

export class KubeError extends Error {
  constructor(
    message: string,
    /** HTTP status code of the answer; 0 when no answer arrived (connection, timeout, size). */
    public readonly code: number = 0,
    /** `reason` of the server's Status object (NotFound, AlreadyExists, Conflict, Expired, …). */
    public readonly reason: string = "",
  ) {
    super(message.replace(/\s*\n\s*/g, " "));
    this.name = "KubeError";
  }
}

export function isNotFound(e: unknown): boolean {
  return e instanceof KubeError && e.code === 404;
}

export function isConflict(e: unknown): boolean {
  return e instanceof KubeError && e.code === 409;
}

export function isGone(e: unknown): boolean {
  return e instanceof KubeError && e.code === 410;
}

/** A one-line message for any thrown value (never a stack trace). */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.replace(/\s*\n\s*/g, " ");
  return String(e);
}
