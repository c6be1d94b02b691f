import type { Readable, Writable } from 'node:stream';

/** Everything a command touches outside its own code, so tests can run it in-process. */
export interface IO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM; `reason` names the signal. */
  signal?: AbortSignal;
}

export function processIO(signal?: AbortSignal): IO {
  return {
    // process.stdin builds a stream (a TTY, pipe or file reader) when first read: only for a command that reads it.
    get stdin() { return process.stdin; },
    stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal,
  };
}
