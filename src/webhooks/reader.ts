import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { CliError, UsageError, describeFsError } from '../errors.js';
import { BATCH, emptyLearned, readPayload, type Event, type LearnSettings } from './learn.js';

/** What reading recorded webhook bodies yields, a batch at a time. */
export interface ReadBatch {
  events: Event[];
  bodies: number;
  /** Items inside bodies that could not be read (no number, no timestamp). */
  ignored: number;
  bad: { where: string; why: string }[];
}

type Words = Pick<LearnSettings, 'stopWords' | 'startWords'>;

/**
 * Reads webhook bodies (JSON lines, a JSON array or one object per file) from
 * files, or from `input` when a source is undefined (stdin), and yields their
 * events in batches. A line that is not JSON or not a webhook is reported with
 * its place and skipped.
 */
export async function* readEvents(sources: readonly (string | undefined)[], words: Words, input?: Readable): AsyncGenerator<ReadBatch> {
  let batch: ReadBatch = { events: [], bodies: 0, ignored: 0, bad: [] };
  const learned = emptyLearned();
  const take = (text: string, where: string): void => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      batch.bad.push({ where, why: 'not valid JSON' });
      return;
    }
    for (const one of Array.isArray(body) ? body : [body]) {
      try {
        for (const e of readPayload(one, words, learned)) batch.events.push(e);
        batch.bodies++;
      } catch (err) {
        batch.bad.push({ where, why: (err as Error).message });
      }
    }
  };
  const full = (): boolean => batch.events.length >= BATCH || batch.bad.length >= BATCH;
  const cut = (): ReadBatch => {
    const done = { ...batch, ignored: learned.ignored };
    learned.ignored = 0;
    batch = { events: [], bodies: 0, ignored: 0, bad: [] };
    return done;
  };
  for (const source of sources) {
    const name = source ?? 'stdin';
    const first = source ? await firstChar(source) : undefined;
    if (first === '[' || (first === '{' && source && !(await isJsonLines(source)))) {
      let text: string;
      try {
        text = await readFile(source!, 'utf8');
      } catch (err) {
        throw new UsageError(describeFsError(err, 'cannot read', source!));
      }
      take(text, name);
      yield cut();
      continue;
    }
    const lines = createInterface({ input: source ? createReadStream(source) : input!, crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      take(text, `${name}:${line}`);
      if (full()) yield cut();
    }
  }
  yield cut();
}

/**
 * A batch's events as a few arrays and one string, which cross to another
 * thread several times faster than the objects (whose structured clone was a
 * twentieth of an ingest's main thread). Each event: a form (kind and its
 * word, status or choice), a time, a code (NaN: none) and up to three strings
 * (length -1: none) cut from `text`.
 */
export interface PackedEvents {
  forms: Uint8Array;
  at: Float64Array;
  codes: Float64Array;
  lengths: Int32Array;
  text: string;
}

const STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;
const INBOUND = 0, INBOUND_STOP = 1, INBOUND_START = 2, STATUS_FORM = 3 /* + the status's index */, PREFERENCE_STOP = 7, PREFERENCE_RESUME = 8, TEMPLATE = 9;

export function packEvents(events: readonly Event[]): PackedEvents {
  const n = events.length;
  const packed = { forms: new Uint8Array(n), at: new Float64Array(n), codes: new Float64Array(n).fill(NaN), lengths: new Int32Array(3 * n).fill(-1), text: '' };
  const parts: string[] = [];
  const strings = (i: number, ...texts: (string | undefined)[]): void => {
    texts.forEach((t, j) => {
      if (t === undefined) return;
      packed.lengths[3 * i + j] = t.length;
      parts.push(t);
    });
  };
  events.forEach((e, i) => {
    packed.at[i] = e.at;
    switch (e.kind) {
      case 'inbound':
        packed.forms[i] = e.word === 'stop' ? INBOUND_STOP : e.word === 'start' ? INBOUND_START : INBOUND;
        strings(i, e.id, e.waId);
        break;
      case 'status':
        packed.forms[i] = STATUS_FORM + STATUSES.indexOf(e.status);
        if (e.code !== undefined) packed.codes[i] = e.code;
        strings(i, e.id, e.waId, e.callback);
        break;
      case 'preference':
        packed.forms[i] = e.stop ? PREFERENCE_STOP : PREFERENCE_RESUME;
        strings(i, e.waId);
        break;
      case 'template':
        packed.forms[i] = TEMPLATE;
        strings(i, e.name, e.language, e.event);
        break;
    }
  });
  packed.text = parts.join('');
  return packed;
}

export function unpackEvents(packed: PackedEvents): Event[] {
  const { forms, at, codes, lengths, text } = packed;
  const events = new Array<Event>(forms.length);
  let from = 0;
  const next = (k: number): string | undefined => {
    const length = lengths[k]!;
    if (length < 0) return undefined;
    from += length;
    return text.slice(from - length, from);
  };
  for (let i = 0; i < forms.length; i++) {
    const form = forms[i]!;
    const k = 3 * i;
    if (form <= INBOUND_START) {
      events[i] = { kind: 'inbound', id: next(k)!, waId: next(k + 1)!, at: at[i]!, word: form === INBOUND_STOP ? 'stop' : form === INBOUND_START ? 'start' : undefined };
    } else if (form < PREFERENCE_STOP) {
      const code = codes[i]!;
      events[i] = { kind: 'status', id: next(k)!, status: STATUSES[form - STATUS_FORM]!, waId: next(k + 1)!, at: at[i]!, callback: next(k + 2), code: Number.isNaN(code) ? undefined : code };
    } else if (form < TEMPLATE) {
      events[i] = { kind: 'preference', waId: next(k)!, at: at[i]!, stop: form === PREFERENCE_STOP };
    } else {
      events[i] = { kind: 'template', name: next(k)!, language: next(k + 1)!, event: next(k + 2)!, at: at[i]! };
    }
  }
  return events;
}

/**
 * readEvents on a worker thread, so that parsing JSON overlaps the store work
 * on the main thread. The worker stays at most two batches ahead.
 */
export async function* readEventsInWorker(sources: readonly string[], words: Words): AsyncGenerator<ReadBatch> {
  const worker = new Worker(new URL('./reader-worker.js', import.meta.url), {
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

async function firstChar(path: string): Promise<string | undefined> {
  try {
    for await (const part of createReadStream(path, { start: 0, end: 4095, encoding: 'utf8' })) {
      const c = (part as string).trimStart()[0];
      if (c) return c;
    }
  } catch (err) {
    throw new UsageError(describeFsError(err, 'cannot read', path));
  }
  return undefined;
}

/** A file that starts with '{' is JSON lines when its first line is a whole JSON value. */
async function isJsonLines(path: string): Promise<boolean> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    lines.close();
    try {
      JSON.parse(line);
      return true;
    } catch {
      return false;
    }
  }
  return true;
}
