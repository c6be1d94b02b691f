import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Worker } from 'node:worker_threads';
import { CliError, UsageError, describeFsError } from '../errors.js';
import { MAX_RECORD_BYTES, RecordSplitter, countLines, isSpace, type Chunk } from '../input/split.js';
import { BATCH, emptyLearned, readPayload, type Event, type LearnSettings } from './learn.js';
import { workerScript } from '../worker-script.js';

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
  const take = (text: string, where: string, line: number): void => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      batch.bad.push({ where: place(where, line), why: 'not valid JSON' });
      return;
    }
    for (const one of Array.isArray(body) ? body : [body]) {
      try {
        for (const e of readPayload(one, words, learned)) batch.events.push(e);
        batch.bodies++;
      } catch (err) {
        batch.bad.push({ where: place(where, line), why: (err as Error).message });
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
    try {
      for await (const bodies of readBodies(source ? createReadStream(source) : input!, name)) {
        for (const body of bodies) {
          if (body.text === undefined) batch.bad.push({ where: place(name, body.line), why: body.why });
          else take(body.text, name, body.line);
          if (full()) yield cut();
        }
      }
    } catch (err) {
      throw new UsageError(describeFsError(err, 'cannot read', name));
    }
  }
  yield cut();
}

const place = (name: string, line: number): string => (line ? `${name}:${line}` : name);

/** One body's text and the line it starts on, or what is wrong there (line 0: the source as a whole). */
type Body = { line: number; text: string; why?: undefined } | { line: number; text?: undefined; why: string };

/**
 * The bodies of one source, read once, from its first bytes on (a FIFO or
 * stdin cannot be read twice): a JSON array's elements, else lines. A file
 * whose first line starts a JSON object but is not one whole is held, up to
 * MAX_RECORD_BYTES, as possibly one pretty-printed body; if it does not parse
 * as one, its lines count one by one. Yields a group of bodies per block read.
 */
async function* readBodies(stream: AsyncIterable<Buffer>, name: string): AsyncGenerator<Body[]> {
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

/** The blocks already taken from `blocks` to look at the start, then the rest. */
async function* prepend(head: readonly Buffer[], blocks: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  for (let r = await blocks.next(); !r.done; r = await blocks.next()) yield r.value;
}

async function* bodiesOf(stream: AsyncIterable<Buffer>, name: string): AsyncGenerator<Body[]> {
  const blocks = stream[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let first: number | undefined;
  for (let r = await blocks.next(); !r.done; r = await blocks.next()) {
    const block = head.length === 0 && hasBom(r.value) ? r.value.subarray(3) : r.value;
    head.push(block);
    first = block.find((c) => !isSpace(c));
    if (first !== undefined) break;
  }
  // '[' starts one array, unless its first line is a whole one: then the
  // file is lines of arrays of bodies (or one array on one line).
  let arrayLines = false;
  if (first === 0x5b) {
    const read = Buffer.concat(head.splice(0));
    head.push(read);
    const start = read.indexOf(0x5b);
    let end = read.indexOf(NL, start);
    let size = read.length;
    while (end < 0 && size <= MAX_RECORD_BYTES) {
      const r = await blocks.next();
      if (r.done) break;
      const at = r.value.indexOf(NL);
      if (at >= 0) end = size + at;
      head.push(r.value);
      size += r.value.length;
    }
    if (end >= 0 || size <= MAX_RECORD_BYTES) arrayLines = parses(Buffer.concat(head).subarray(start, end < 0 ? undefined : end).toString('utf8'));
  }
  if (first === 0x5b && !arrayLines) yield* arrayElements(prepend(head, blocks), name);
  else yield* lineBodies(prepend(head, blocks), first === 0x7b);
}

async function* arrayElements(blocks: AsyncIterable<Buffer>, name: string): AsyncGenerator<Body[]> {
  const splitter = new RecordSplitter('json', name, 1, 0);
  const bodies = (chunks: Chunk[]): Body[] => chunks.flatMap(({ bytes, startLine }) => {
    const at = bytes.findIndex((c) => !isSpace(c));
    // Blank: the inside of `[]` (or a stray comma, which teaches nothing either).
    return at < 0 ? [] : [{ line: startLine + countLines(bytes, 0, at), text: bytes.toString('utf8') }];
  });
  try {
    for await (const block of blocks) yield bodies(splitter.push(block));
    const last = splitter.end();
    if (last) yield bodies([last]);
  } catch (err) {
    // An unclosed array or an element over the limit: what follows cannot be cut reliably.
    if (!(err instanceof UsageError)) throw err;
    yield [{ line: 0, why: err.message.replace(`${name}: `, '') }];
  }
}

async function* lineBodies(blocks: AsyncIterable<Buffer>, mayBeOneObject: boolean): AsyncGenerator<Body[]> {
  let line = 0;
  let carry: Buffer | undefined;
  let overlong = false; // the rest of a line past MAX_RECORD_BYTES is skipped
  let held: Body[] | undefined;
  let heldBytes = 0;
  let undecided = mayBeOneObject;
  const bodies: Body[] = [];
  const add = (bytes: Buffer): void => {
    line++;
    if (overlong) {
      overlong = false;
      bodies.push({ line, why: `a line longer than ${MAX_RECORD_BYTES >> 20} MiB` });
      return;
    }
    let text = bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    if (undecided) {
      undecided = false;
      if (!parses(text)) held = [];
    }
    if (!held) {
      bodies.push({ line, text });
      return;
    }
    held.push({ line, text });
    heldBytes += bytes.length;
    if (heldBytes > MAX_RECORD_BYTES) release();
  };
  const release = (): void => {
    bodies.push(...held!);
    held = undefined;
  };
  for await (const block of blocks) {
    let from = 0;
    for (let nl = block.indexOf(NL); nl >= 0; from = nl + 1, nl = block.indexOf(NL, from)) {
      add(carry ? Buffer.concat([carry, block.subarray(from, nl)]) : block.subarray(from, nl));
      carry = undefined;
    }
    if (from < block.length && !overlong) {
      carry = carry ? Buffer.concat([carry, block.subarray(from)]) : block.subarray(from);
      if (carry.length > MAX_RECORD_BYTES) {
        carry = undefined;
        overlong = true;
      }
    }
    yield bodies.splice(0);
  }
  if (carry || overlong) add(carry ?? Buffer.alloc(0));
  if (held) {
    const whole = held.map((b) => b.text).join('\n');
    if (parses(whole)) bodies.push({ line: held[0]!.line, text: whole });
    else release();
  }
  yield bodies;
}

const NL = 0x0a;
const hasBom = (b: Buffer): boolean => b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
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
