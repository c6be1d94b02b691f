import { InterruptedError } from '../errors.js';
import type { Chunk } from '../input/split.js';
import { ChunkProcessor } from './chunk.js';
import type { ChunkConfig, ChunkResult } from './chunk-types.js';
import { ChunkPool } from './pool.js';

/** Chunks each worker may hold: one being processed, one waiting, so it never idles. */
const PER_WORKER = 2;

/**
 * Processes chunks on `workers` worker threads (or on this thread when there
 * are none, or when the input is a single chunk) and hands the results to
 * `consume` strictly in input order. The pool is started only once a second
 * chunk shows the input is worth it, and stopped before this returns. A signal
 * stops the reading at once, even while it waits for stdin.
 */
export async function processInOrder(
  source: AsyncGenerator<Chunk>,
  config: ChunkConfig,
  workers: number,
  signal: AbortSignal | undefined,
  consume: (result: ChunkResult) => Promise<void>,
): Promise<void> {
  const chunks = withAbort(source, signal);
  const processor = new ChunkProcessor(config);
  const startPool = workers > 0 ? (): ChunkPool => new ChunkPool(config, workers) : undefined;
  let pool: ChunkPool | undefined;
  let held: Chunk | undefined; // the first chunk, kept until we know whether a second follows
  const queue: Promise<ChunkResult>[] = [];
  const submit = (chunk: Chunk): void => {
    const job = pool ? pool.run(chunk.bytes, chunk.startLine) : Promise.resolve(processor.process(chunk.bytes, chunk.startLine));
    job.catch(() => undefined); // awaited in order below; this only keeps early failures from going unhandled
    queue.push(job);
  };
  try {
    for await (const chunk of chunks) {
      if (startPool && !pool && !held) {
        held = chunk;
        continue;
      }
      if (held) {
        pool = startPool!();
        submit(held);
        held = undefined;
      }
      submit(chunk);
      while (queue.length > (pool ? pool.size * PER_WORKER : 0)) await consume(await queue.shift()!);
    }
    if (held) submit(held);
    while (queue.length) await consume(await queue.shift()!);
  } finally {
    await pool?.close();
  }
}

/**
 * Stops reading as soon as a signal arrives, even while waiting for stdin.
 * Each read races its own abort promise: racing one long-lived promise would
 * leave a reaction on it per read, and with it every chunk ever read.
 */
async function* withAbort<T>(source: AsyncGenerator<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
  if (!signal) return yield* source;
  try {
    while (true) {
      let onAbort!: () => void;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = (): void => reject(new InterruptedError(String(signal.reason ?? 'SIGINT')));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      let step: IteratorResult<T>;
      try {
        step = await Promise.race([source.next(), aborted]);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      if (step.done) return;
      yield step.value;
    }
  } finally {
    // Not awaited: a generator blocked in a read only returns once that read ends.
    source.return(undefined).catch(() => undefined);
  }
}
