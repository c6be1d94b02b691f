/** Exit codes are part of the CLI's contract; the README lists them. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  FAIL_ON: 3,
  /** Meta stopped the campaign (account, token or template): fix it and run again to resume. */
  STOPPED: 4,
  INTERRUPTED: 130,
  TERMINATED: 143,
} as const;

/** An error whose message is meant for the user, with the exit code it maps to. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILURE,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Bad arguments or bad input data: exit 2. */
export class UsageError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.USAGE, options);
    this.name = 'UsageError';
  }
}

/** The run was stopped by a signal. */
export class InterruptedError extends CliError {
  constructor(signal: string = 'SIGINT') {
    super(`interrupted by ${signal}`, signal === 'SIGTERM' ? EXIT.TERMINATED : EXIT.INTERRUPTED);
    this.name = 'InterruptedError';
  }
}

/** Turns a Node file-system error into a sentence naming the path. */
export function describeFsError(err: unknown, what: string, path: string): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT': return `${what} ${path}: no such file or directory`;
    case 'EACCES': case 'EPERM': return `${what} ${path}: permission denied`;
    case 'EISDIR': return `${what} ${path}: is a directory`;
    case 'ENOTDIR': case 'EEXIST': return `${what} ${path}: a file is in the way (not a directory)`;
    case 'ENOSPC': return `${what} ${path}: no space left on device`;
    case 'EROFS': return `${what} ${path}: read-only file system`;
    default: return `${what} ${path}: ${(err as Error)?.message ?? String(err)}`;
  }
}
