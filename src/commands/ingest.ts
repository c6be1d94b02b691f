import { InterruptedError, UsageError } from '../errors.js';
import { checkFailOn, parseFailOn } from '../fail-on.js';
import type { IO } from '../io.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { learn, type LearnSettings } from '../webhooks/learn.js';
import { emptyLearned, summaryText, type Learned } from '../webhooks/learned.js';
import { readEvents, type ReadBatch } from '../webhooks/reader.js';
import { readEventsInWorker } from '../webhooks/reader-thread.js';
import { learnSettings, type LearnFlags } from '../webhooks/settings.js';
import { listSources } from '../webhooks/sources.js';

export interface IngestFlags extends LearnFlags {
  store?: string;
  json?: boolean;
  quiet?: boolean;
  failOn?: string;
}

/** What --fail-on can name: lines that were not webhooks, and items that could not be read. */
const FAIL_ON_REASONS = ['bad_lines', 'ignored'] as const;

/** Bad lines reported one by one, up to this many; the rest are counted. */
const MAX_REPORTED = 20;

/** What an ingest read besides the events it learned from. */
interface Read {
  bodies: number;
  badCount: number;
  /** The first MAX_REPORTED bad lines, placed. */
  bad: string[];
}

/** `wa-guard ingest FILE|DIR|-`: recorded webhook bodies, one per line (JSONL), JSON arrays of them, or a directory of such files. */
export async function ingest(spec: string | undefined, flags: IngestFlags, io: IO): Promise<number> {
  if (!spec) throw new UsageError('missing input: give a file, a directory, or - for stdin');
  const settings = learnSettings(flags);
  const failOn = parseFailOn(flags.failOn, FAIL_ON_REASONS);
  const sources = await listSources(spec, io.cwd);
  const store = await openStore(flags.store, io.env, io.cwd);
  const learned = emptyLearned();
  const read = await learnAll(eventBatches(sources, settings, io), store, settings, learned, io.signal);
  report(flags, io, learned, read);
  const check = checkFailOn(failOn, { bad_lines: read.badCount, ignored: learned.ignored }, FAIL_ON_REASONS, 'skipped');
  if (check.message && !flags.quiet) io.stderr.write(check.message);
  return check.exitCode;
}

/** Files are parsed on a worker thread while this one applies the batch before; stdin is read here. */
function eventBatches(sources: (string | undefined)[], settings: LearnSettings, io: IO): AsyncGenerator<ReadBatch> {
  const files = sources.filter((s): s is string => s !== undefined);
  return files.length === sources.length ? readEventsInWorker(files, settings) : readEvents(sources, settings, io.stdin);
}

/** Applies every batch, one while the next is read (reading overlaps the commit); closes the store. */
async function learnAll(batches: AsyncGenerator<ReadBatch>, store: Store, settings: LearnSettings, learned: Learned, signal: AbortSignal | undefined): Promise<Read> {
  const read: Read = { bodies: 0, badCount: 0, bad: [] };
  let applying: Promise<void> = Promise.resolve();
  try {
    for await (const batch of batches) {
      if (signal?.aborted) throw new InterruptedError(String(signal.reason ?? 'SIGINT'));
      read.bodies += batch.bodies;
      learned.ignored += batch.ignored;
      read.badCount += batch.bad.length;
      for (const { where, why } of batch.bad) if (read.bad.length < MAX_REPORTED) read.bad.push(`${where}: ${why}`);
      await applying;
      applying = learn(store, batch.events, settings, learned);
      applying.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
    }
    await applying;
    await store.sync();
  } finally {
    await applying.catch(() => undefined);
    await store.close();
  }
  return read;
}

function report(flags: IngestFlags, io: IO, learned: Learned, read: Read): void {
  const summary = { command: 'ingest', bodies: read.bodies, ...learned, bad_lines: read.badCount, bad_examples: read.bad };
  if (flags.json) io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else if (!flags.quiet) {
    io.stderr.write(summaryText('ingest', learned, [
      ...(read.badCount ? [`  ${read.badCount} bad line(s), skipped:`, ...read.bad.map((b) => `    ${b}`)] : []),
    ]));
  }
}
