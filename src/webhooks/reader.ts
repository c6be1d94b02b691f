import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { UsageError, describeFsError } from '../errors.js';
import { BATCH } from './learn.js';
import { readPayload, type Event, type Words } from './payload.js';
import { readBodies } from './sources.js';

/** What reading recorded webhook bodies yields, a batch at a time. */
export interface ReadBatch {
  events: Event[];
  bodies: number;
  /** Items inside bodies that could not be read (no number, no timestamp). */
  ignored: number;
  bad: { where: string; why: string }[];
}

/**
 * Reads webhook bodies (JSON lines, a JSON array or one object per file) from
 * files, or from `input` when a source is undefined (stdin), and yields their
 * events in batches. A line that is not JSON or not a webhook is reported with
 * its place and skipped.
 */
export async function* readEvents(sources: readonly (string | undefined)[], words: Words, input?: Readable): AsyncGenerator<ReadBatch> {
  const batcher = new Batcher(words);
  for (const source of sources) {
    const name = source ?? 'stdin';
    try {
      for await (const bodies of readBodies(source ? createReadStream(source) : input!, name)) {
        for (const body of bodies) {
          if (body.text === undefined) batcher.bad(name, body.line, body.why);
          else batcher.take(body.text, name, body.line);
          if (batcher.full()) yield batcher.cut();
        }
      }
    } catch (err) {
      throw new UsageError(describeFsError(err, 'cannot read', name));
    }
  }
  yield batcher.cut();
}

/** The events, bodies and bad lines read since the last batch was cut. */
class Batcher {
  private batch = emptyBatch();
  /** Where readPayload counts the items it cannot read. */
  private readonly ignored = { ignored: 0 };

  constructor(private readonly words: Words) {}

  /** A body's text (one body, or an array of them) from line `line` of `name`. */
  take(text: string, name: string, line: number): void {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.bad(name, line, 'not valid JSON');
      return;
    }
    for (const one of Array.isArray(body) ? body : [body]) {
      try {
        for (const e of readPayload(one, this.words, this.ignored)) this.batch.events.push(e);
        this.batch.bodies++;
      } catch (err) {
        this.bad(name, line, (err as Error).message);
      }
    }
  }

  bad(name: string, line: number, why: string): void {
    this.batch.bad.push({ where: line ? `${name}:${line}` : name, why });
  }

  full(): boolean {
    return this.batch.events.length >= BATCH || this.batch.bad.length >= BATCH;
  }

  cut(): ReadBatch {
    const done = this.batch;
    done.ignored = this.ignored.ignored;
    this.ignored.ignored = 0;
    this.batch = emptyBatch();
    return done;
  }
}

const emptyBatch = (): ReadBatch => ({ events: [], bodies: 0, ignored: 0, bad: [] });
