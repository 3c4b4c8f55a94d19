// Where a command writes and how it reports its exit code (tests pass their own).
export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  /** Set by the command that ran; main returns it. */
  exitCode: number;
  /** Standard input for commands that read `-` (default: the process's). */
  readStdin?(): string;
  /** Binary output (`save -f -`; default: the process's stdout). */
  outBytes?(b: Uint8Array): void;
}
