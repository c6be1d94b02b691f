import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CliError, UsageError, describeFsError } from '../errors.js';
import { bodiesOf, prepend, type Body } from './bodies.js';

/** The files `spec` names (a file, or a directory's webhook logs in name order), or [undefined] for stdin ("-"). */
export async function listSources(spec: string, cwd: string): Promise<(string | undefined)[]> {
  if (spec === '-') return [undefined];
  const path = resolve(cwd, spec);
  try {
    if ((await stat(path)).isDirectory()) {
      const names = (await readdir(path)).filter((n) => /\.(jsonl?|ndjson)(\.\d+)?(\.gz)?$/i.test(n)).sort();
      if (names.length === 0) throw new UsageError(`${spec}: no .json, .jsonl or .ndjson files (rotated .1, .2.gz… too) in this directory`);
      return names.map((n) => join(path, n));
    }
    return [path];
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new UsageError(describeFsError(err, 'cannot read', spec));
  }
}

/** The bodies of one source's bytes, gzip'd or not (see bodiesOf). */
export async function* readBodies(stream: AsyncIterable<Buffer>, name: string): AsyncGenerator<Body[]> {
  try {
    yield* bodiesOf(await gunzipped(stream), name);
  } catch (err) {
    // A gzip file cut short or damaged: what came before counts, the rest cannot be read.
    if (!String((err as NodeJS.ErrnoException).code).startsWith('Z_')) throw err;
    yield [{ line: 0, why: `not a whole gzip file (${(err as Error).message}): read up to there` }];
  }
}

/** The source's bytes, unpacked when they are gzip (rotated webhook logs often are), read once all the same. */
async function gunzipped(stream: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
  const blocks = stream[Symbol.asyncIterator]();
  const first = await blocks.next();
  const all = prepend(first.done ? [] : [first.value], blocks);
  const gzip = !first.done && first.value[0] === 0x1f && first.value[1] === 0x8b;
  return gzip ? pipeline(Readable.from(all), createGunzip(), () => undefined) : all;
}
