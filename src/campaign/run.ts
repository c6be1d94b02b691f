import { InterruptedError, UsageError } from '../errors.js';
import type { Input } from '../input/reader.js';
import type { ChunkConfig, ChunkResult } from '../pipeline/chunk-types.js';
import { processInOrder } from '../pipeline/ordered.js';
import type { Progress } from '../progress.js';
import type { Delivery } from './deliver.js';
import { gateChunk, type ChunkGateContext } from './gate-chunk.js';
import { gateValues, type ResultsFile } from './results.js';

export interface CampaignRun {
  input: Input;
  chunkConfig: ChunkConfig;
  workers: number;
  signal: AbortSignal | undefined;
  gate: ChunkGateContext;
  results: ResultsFile;
  progress: Progress;
  /** A live send's deliveries; undefined for a dry run, whose decisions are the output. */
  delivery: Delivery | undefined;
}

/**
 * Every row of the input through the gate, then (live) the sender, written
 * in order. An interrupted live send still finishes what is in flight and
 * writes what it has: resolves with the interrupt, for the summary and the exit.
 */
export async function runCampaign(run: CampaignRun): Promise<InterruptedError | undefined> {
  const { input, results, progress, delivery, signal } = run;
  const consume = async (result: ChunkResult): Promise<void> => {
    const g = await gateChunk(result, run.gate);
    if (delivery) return delivery.add(g);
    await results.write(result, g.decisions.map((d, i) => gateValues(g.messages[i]!, d, g.at[i], g.journal[i] ?? '')));
    progress.update(input.bytesRead(), results.written);
  };
  let interrupted: InterruptedError | undefined;
  try {
    await processInOrder(input.chunks, run.chunkConfig, run.workers, signal, consume);
  } catch (err) {
    if (!(delivery && err instanceof InterruptedError)) throw err;
    interrupted = err;
  }
  if (delivery) {
    await delivery.drain();
    // A signal after the last row was read still stopped what had not been sent.
    if (!interrupted && signal?.aborted) interrupted = new InterruptedError(String(signal.reason ?? 'SIGINT'));
  }
  const rows = delivery ? delivery.rowsRead : results.written;
  if (rows === 0 && !interrupted) throw new UsageError(`${input.source}: no data rows`);
  await results.end();
  progress.stop();
  return interrupted;
}
