import { mkdir, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError, describeFsError } from '../errors.js';
import { AtomicFile, trackCreatedDir } from './atomic.js';

/**
 * A run's output files in --out-dir: all written under temporary names and
 * renamed together by commit(); abort() removes them, and the --out-dir too
 * when this run created it, so a failed run leaves nothing behind.
 */
export class Outputs {
  private readonly files: AtomicFile[] = [];
  private created: string | undefined;
  private committed = false;

  private constructor(readonly dir: string) {}

  static async create(outDir: string, cwd: string): Promise<Outputs> {
    const outputs = new Outputs(resolve(cwd, outDir));
    try {
      outputs.created = await mkdir(outputs.dir, { recursive: true });
      if (outputs.created) trackCreatedDir(outputs.created, true);
    } catch (err) {
      throw new UsageError(describeFsError(err, 'cannot create --out-dir', outDir));
    }
    return outputs;
  }

  async file(name: string): Promise<AtomicFile> {
    const file = await AtomicFile.create(join(this.dir, name));
    this.files.push(file);
    return file;
  }

  async commit(): Promise<void> {
    for (const file of this.files) await file.commit();
    this.committed = true;
    if (this.created) trackCreatedDir(this.created, false);
  }

  /** Safe to call after commit (then it does nothing). */
  async abort(): Promise<void> {
    if (this.committed) return;
    await Promise.all(this.files.map((f) => f.abort()));
    if (this.created) {
      await rmdir(this.dir).catch(() => undefined);
      trackCreatedDir(this.created, false);
    }
  }
}
