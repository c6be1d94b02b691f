import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import { ChunkProcessor } from './chunk.js';
import type { ChunkConfig } from './chunk-types.js';

const processor = new ChunkProcessor(workerData as ChunkConfig);

parentPort!.on('message', (task: { id: number; bytes: Uint8Array; startLine: number }) => {
  try {
    const result = processor.process(task.bytes, task.startLine);
    const buffers = [result.outcome, result.waIds, result.lines, result.optedOut, result.phoneColumn, result.ends, result.baseEnds].map((a) => a.buffer as ArrayBuffer);
    parentPort!.postMessage({ id: task.id, result }, buffers);
  } catch (err) {
    parentPort!.postMessage({
      id: task.id,
      error: { message: (err as Error).message, stack: (err as Error).stack, usage: err instanceof UsageError },
    });
  }
});
