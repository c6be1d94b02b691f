import { close, createWriteStream, fsync, open, rmdirSync, unlinkSync, type WriteStream } from 'node:fs';
import { readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CliError, EXIT, describeFsError } from '../errors.js';

const openFd = promisify(open);
const fsyncFd = promisify(fsync);
const closeFd = promisify(close);

/** Temporary files and created directories not yet committed or removed: what a forced exit must not leave. */
const pending = new Set<string>();
const createdDirs = new Set<string>();

export function trackCreatedDir(dir: string, created: boolean): void {
  if (created) createdDirs.add(dir);
  else createdDirs.delete(dir);
}

/** Removes what unfinished outputs left, synchronously: for an exit that cannot wait for the command to clean up. */
export function removeLeftovers(): void {
  for (const path of pending) {
    try { unlinkSync(path); } catch { /* already gone */ }
  }
  pending.clear();
  for (const dir of createdDirs) {
    try { rmdirSync(dir); } catch { /* not empty or gone */ }
  }
  createdDirs.clear();
}

/**
 * A file written under a temporary name beside its final path and renamed into
 * place only by commit(), so an interrupted run never leaves a partial file
 * that looks complete.
 */
export class AtomicFile {
  readonly tmpPath: string;
  private fd = -1;
  private stream!: WriteStream;
  private failure: Error | undefined;

  /**
   * `direct`: the path is a device, a FIFO or a socket (--output /dev/null,
   * /dev/stdout, a named pipe): written as it is, never replaced by a renamed
   * file (as root that would turn /dev/null into a regular file).
   */
  private constructor(readonly path: string, private readonly target: string, private readonly direct: boolean) {
    this.tmpPath = direct ? target : join(dirname(target), `.${basename(target)}.${hostname()}.${process.pid}.tmp`);
  }

  static async create(path: string): Promise<AtomicFile> {
    // Through a symlink (latest.csv -> 2026-11/cleaned.csv) the file it points to is replaced, the link kept.
    const target = await realpath(path).catch(() => path);
    const direct = await stat(target).then((s) => !s.isFile() && !s.isDirectory(), () => false);
    const file = new AtomicFile(path, target, direct);
    if (!direct) await removeStale(target);
    try {
      // Opening now turns an unwritable directory into an error before any work is done.
      if (!direct) pending.add(file.tmpPath);
      file.fd = await openFd(file.tmpPath, 'w');
    } catch (err) {
      throw new CliError(describeFsError(err, 'cannot write to', dirname(path)), EXIT.USAGE);
    }
    // A numeric fd and autoClose off: we fsync and close it ourselves before the rename.
    file.stream = createWriteStream('', { fd: file.fd, autoClose: false, highWaterMark: 1 << 20 });
    file.stream.on('error', (err) => { file.failure = err; });
    return file;
  }

  private check(): void {
    if (this.failure) throw new CliError(describeFsError(this.failure, 'cannot write', this.path));
  }

  /** Writes text, waiting while the OS is slower than we are. */
  async write(text: string): Promise<void> {
    this.check();
    await writePaced(this.stream, text);
    this.check();
  }

  /** Flushes to disk and renames into place. */
  async commit(): Promise<void> {
    try {
      await new Promise<void>((done, fail) => {
        this.stream.once('error', fail);
        this.stream.end(() => done());
      });
      const fd = this.fd;
      this.fd = -1;
      if (!this.direct) await fsyncFd(fd);
      await closeFd(fd);
      if (this.direct) return;
      await rename(this.tmpPath, this.target);
      pending.delete(this.tmpPath);
    } catch (err) {
      await this.abort();
      throw new CliError(describeFsError(err, 'cannot write', this.path));
    }
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      await closeFd(fd).catch(() => undefined);
    }
    if (this.direct) return;
    await unlink(this.tmpPath).catch(() => undefined);
    pending.delete(this.tmpPath);
  }
}

/**
 * Writes text and, when the stream's buffer is full, waits until it drains or
 * fails (a 'drain' that never comes would hang; the caller reports the error).
 */
export async function writePaced(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (text === '' || stream.write(text)) return;
  const done = new AbortController(); // removes whichever listener did not fire
  await Promise.race([once(stream, 'drain', { signal: done.signal }), once(stream, 'error', { signal: done.signal })])
    .catch(() => undefined).finally(() => done.abort());
}

/**
 * Removes the temporary files of `path` that runs on this machine left when
 * they were killed (kill -9, the OOM killer, a power cut): a cron job killed
 * night after night would otherwise fill the disk with hidden partial outputs.
 * A file whose process still runs (another run writing the same output) is
 * left alone, and so is another machine's (a shared directory).
 */
async function removeStale(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.${hostname()}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return; // no directory yet: creating the file says what is wrong
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length, -'.tmp'.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isRunning(pid)) await unlink(join(dir, name)).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // it runs, as another user
  }
}
