import type { Chunk } from '../input/split.js';
import type { ChunkProcessor, ChunkResult } from './chunk.js';
import type { ChunkPool } from './pool.js';

interface Job {
  result?: ChunkResult;
  settled: boolean;
  promise: Promise<ChunkResult>;
}

/** Chunks each worker may hold: one being processed, one waiting, so it never idles. */
const PER_WORKER = 2;

/**
 * Processes chunks on worker threads, and on this thread whenever every worker
 * is busy, so N cores need only N - 1 workers. Results are handed to `consume`
 * strictly in input order. The pool is started only once a second chunk shows
 * the input is worth it, and stopped before this returns.
 */
export async function processInOrder(
  chunks: AsyncIterable<Chunk>,
  processor: ChunkProcessor,
  startPool: (() => ChunkPool) | undefined,
  consume: (result: ChunkResult) => Promise<void>,
): Promise<void> {
  let pool: ChunkPool | undefined;
  const queue: Job[] = [];
  let seen = 0;
  const inline = (chunk: Chunk): Job => {
    const result = processor.process(chunk.bytes, chunk.startLine);
    return { result, settled: true, promise: Promise.resolve(result) };
  };
  const toWorker = (chunk: Chunk): Job => {
    const job: Job = { settled: false, promise: pool!.run(chunk.bytes, chunk.startLine) };
    job.promise.then((result) => { job.result = result; }, () => undefined).finally(() => { job.settled = true; });
    return job;
  };
  let held: Chunk | undefined; // the first chunk, kept until we know whether a second follows
  const drain = async (limit: number): Promise<void> => {
    while (queue.length > limit || (queue.length > 0 && queue[0]!.settled)) {
      const job = queue.shift()!;
      await consume(job.result ?? await job.promise);
    }
  };
  try {
    for await (const chunk of chunks) {
      seen++;
      if (seen === 1 && startPool) {
        held = chunk;
        continue;
      }
      if (seen === 2 && startPool) {
        pool = startPool();
        queue.push(toWorker(held!));
        held = undefined;
      }
      const busy = !pool || pool.inFlight >= pool.size * PER_WORKER;
      queue.push(busy ? inline(chunk) : toWorker(chunk));
      await drain(pool ? pool.size * PER_WORKER + 1 : 0);
    }
    if (held) queue.push(inline(held));
    await drain(0);
  } finally {
    for (const job of queue) job.promise.catch(() => undefined);
    await pool?.close();
  }
}
