// The error of `portcullis test` runs: a conftest-worded message, printed as it is, exit code 1.

export class ConftestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConftestError";
  }
}
