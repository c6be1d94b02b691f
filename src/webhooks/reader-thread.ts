import { Worker } from 'node:worker_threads';
import { CliError, UsageError } from '../errors.js';
import { workerScript } from '../worker-script.js';
import { unpackEvents, type PackedEvents } from './packed-events.js';
import type { Words } from './payload.js';
import type { ReadBatch } from './reader.js';

/**
 * readEvents on a worker thread, so that parsing JSON overlaps the store work
 * on the main thread. The worker stays at most two batches ahead.
 */
export async function* readEventsInWorker(sources: readonly string[], words: Words): AsyncGenerator<ReadBatch> {
  const worker = new Worker(workerScript('./reader-worker.js', import.meta.url), {
    workerData: { sources, stopWords: [...words.stopWords], startWords: [...words.startWords] },
  });
  const queue: (ReadBatch | null | Error)[] = [];
  let wake: (() => void) | undefined;
  const push = (item: ReadBatch | null | Error): void => {
    queue.push(item);
    wake?.();
  };
  worker.on('message', (m: { batch?: Omit<ReadBatch, 'events'>; events?: PackedEvents; done?: true; error?: { message: string; usage: boolean } }) => {
    if (m.batch) push({ ...m.batch, events: unpackEvents(m.events!) });
    else if (m.done) push(null);
    else if (m.error) push(m.error.usage ? new UsageError(m.error.message) : new CliError(m.error.message));
  });
  worker.on('error', (err) => push(new CliError(`the webhook reader thread failed: ${err.message}`, 1, { cause: err })));
  worker.on('exit', (code) => push(code === 0 ? null : new CliError(`the webhook reader thread exited with code ${code}`)));
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => { wake = resolve; });
      const item = queue.shift()!;
      if (item === null) return;
      if (item instanceof Error) throw item;
      worker.postMessage('more');
      yield item;
    }
  } finally {
    await worker.terminate();
  }
}
