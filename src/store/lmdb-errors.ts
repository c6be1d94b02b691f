import { statfsSync } from 'node:fs';
import { CliError, describeFsError } from '../errors.js';
import { DATA } from './lmdb-file.js';

/** An LMDB or file-system failure as one line naming the store. */
export function storeError(err: unknown, dir: string, what: string): CliError {
  // lmdb rejects a second promise with the cause of a failed commit: it is reported here, not left unhandled.
  const commitError = (err as { commitError?: Promise<unknown> })?.commitError;
  commitError?.catch?.(() => undefined);
  if (diskFull(dir)) return new CliError(`store ${dir}: no space left on device (${what} failed; the store keeps what was written before)`, 1, { cause: err });
  const text = String((err as Error)?.message ?? err);
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && /^E[A-Z]+$/.test(code)) return new CliError(describeFsError(err, 'store', dir), 1, { cause: err });
  if (/ENOSPC|No space left|MDB_MAP_FULL/i.test(text)) return new CliError(`store ${dir}: no space left on device (${what} failed; the store is unchanged)`, 1, { cause: err });
  if (/EACCES|EPERM|Permission denied/i.test(text)) return new CliError(`store ${dir}: permission denied`, 1, { cause: err });
  if (/EROFS|Read-only file system/i.test(text)) return new CliError(`store ${dir}: read-only file system`, 1, { cause: err });
  if (/MDB_INVALID|MDB_CORRUPTED|MDB_VERSION_MISMATCH|MDB_PAGE_NOTFOUND|MDB_BAD/i.test(text)) {
    return new CliError(`store ${dir}: the data file ${DATA} is damaged or not a wa-guard store (${text.split('\n')[0]}); move it aside to start afresh, or restore a backup`, 1, { cause: err });
  }
  return new CliError(`store ${dir}: ${what} failed: ${text.split('\n')[0]}`, 1, { cause: err });
}

/** Whether the filesystem of the store is (nearly) full: a failed commit there is a full disk, whatever LMDB calls it. */
function diskFull(dir: string): boolean {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize < 1 << 20;
  } catch {
    return false;
  }
}

/**
 * lmdb prints the cause of a failed commit with console.error (a stack trace)
 * before rejecting the write. The write's rejection is what wa-guard reports,
 * in one line (storeError); the printout is kept off the terminal.
 */
export function quietLmdbErrors(): void {
  const print = console.error.bind(console);
  console.error = (...args: unknown[]): void => {
    if (args.length === 1 && args[0] instanceof Error && /[\\/]lmdb[\\/]/.test(args[0].stack ?? '')) return;
    print(...args);
  };
}
