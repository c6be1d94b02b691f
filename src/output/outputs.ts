import { rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliError, UsageError, describeFsError } from '../errors.js';
import { FORMATS } from '../input/sniff.js';
import { makeDirs } from '../make-dirs.js';
import { AtomicFile, trackCreatedDir, writePaced } from './atomic.js';

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
    if (outDir === '-') throw new UsageError('--out-dir -: stdout is not a directory; give --output - to write the cleaned rows to stdout');
    const outputs = new Outputs(resolve(cwd, outDir));
    try {
      outputs.created = await makeDirs(outputs.dir);
      if (outputs.created) trackCreatedDir(outputs.created, true);
    } catch (err) {
      throw new UsageError(describeFsError(err, 'cannot create --out-dir', outDir));
    }
    return outputs;
  }

  async file(name: string): Promise<AtomicFile> {
    return this.at(join(this.dir, name));
  }

  /** An output outside --out-dir (--output FILE), committed and aborted with the others. */
  async at(path: string): Promise<AtomicFile> {
    const file = await AtomicFile.create(path);
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

/** Where a run writes rows: a file committed at the end, or stdout as they come (--output -). */
export interface Sink {
  readonly path: string;
  write(text: string): Promise<void>;
}

/**
 * Rows to stdout, at the pace of whoever reads them. A reader that stops
 * (`| head`) or a full disk behind `>` ends the run with one line: the error
 * unheard would crash with a stack trace.
 */
export function stdoutSink(stdout: NodeJS.WritableStream): Sink {
  let failure: NodeJS.ErrnoException | undefined;
  stdout.on('error', (err: NodeJS.ErrnoException) => { failure ??= err; });
  const check = (): void => {
    if (!failure) return;
    throw new CliError(failure.code === 'EPIPE'
      ? 'stdout was closed before all rows were written (the program reading it stopped): the run stopped there'
      : describeFsError(failure, 'cannot write to', 'stdout'));
  };
  return {
    path: '-',
    async write(text: string): Promise<void> {
      check();
      await writePaced(stdout, text);
      check();
    },
  };
}

/**
 * Refuses a run whose output would replace its input (the same path, or a
 * hard link to it), before anything is written: the rename at the end would
 * destroy the export the rows come from. `stems` are data outputs, in any
 * of the data formats (cleaned.csv, cleaned.json, …); `files` are named whole.
 */
export async function refuseInputAsOutput(
  inputSpec: string, cwd: string,
  outputs: { outDir: string; stems: readonly string[]; files: readonly string[]; output?: string },
): Promise<void> {
  if (inputSpec === '-') return;
  const inputPath = resolve(cwd, inputSpec);
  let input: { dev: number; ino: number };
  try {
    input = await stat(inputPath);
  } catch {
    return; // reading it reports the problem
  }
  const outDir = resolve(cwd, outputs.outDir);
  const paths = [
    ...outputs.stems.flatMap((stem) => FORMATS.map((format) => join(outDir, `${stem}.${format}`))),
    ...outputs.files.map((name) => join(outDir, name)),
  ].map((path) => ({ path, flag: '--out-dir' }));
  if (outputs.output !== undefined && outputs.output !== '-') paths.push({ path: resolve(cwd, outputs.output), flag: '--output' });
  for (const { path, flag } of paths) {
    const output = await stat(path).catch(() => undefined);
    if (path === inputPath || (output && output.dev === input.dev && output.ino === input.ino)) {
      throw new UsageError(`${path} is the input file${path === inputPath ? '' : ' (a link to it)'}: writing ${flag} there would replace the data being read; choose another ${flag}`);
    }
  }
}
