import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import { packEvents } from './packed-events.js';
import { readEvents } from './reader.js';

const { sources, stopWords, startWords } = workerData as { sources: string[]; stopWords: string[]; startWords: string[] };
/** Batches the main thread may still take before this thread waits: two ahead. */
let credit = 2;
let more: (() => void) | undefined;
parentPort!.on('message', () => {
  credit++;
  more?.();
});

try {
  for await (const batch of readEvents(sources, { stopWords: new Set(stopWords), startWords: new Set(startWords) })) {
    while (credit === 0) await new Promise<void>((resolve) => { more = resolve; });
    credit--;
    const { events, ...rest } = batch;
    parentPort!.postMessage({ batch: rest, events: packEvents(events) });
  }
  parentPort!.postMessage({ done: true });
} catch (err) {
  parentPort!.postMessage({ error: { message: (err as Error).message, usage: err instanceof UsageError } });
}
