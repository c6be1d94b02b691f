import { MAX_RECORD_BYTES, RecordSplitter, countLines, isSpace, type Chunk } from '../input/split.js';
import { UsageError } from '../errors.js';

/** One body's text and the line it starts on, or what is wrong there (line 0: the source as a whole). */
export type Body = { line: number; text: string; why?: undefined } | { line: number; text?: undefined; why: string };

/**
 * The bodies of one source, read once, from its first bytes on (a FIFO or
 * stdin cannot be read twice): a JSON array's elements, else lines. A file
 * whose first line starts a JSON object but is not one whole is held, up to
 * MAX_RECORD_BYTES, as possibly one pretty-printed body; if it does not parse
 * as one, its lines count one by one. Yields a group of bodies per block read.
 */
export async function* bodiesOf(stream: AsyncIterable<Buffer>, name: string): AsyncGenerator<Body[]> {
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

/** The blocks already taken from `blocks` to look at the start, then the rest. */
export async function* prepend(head: readonly Buffer[], blocks: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  for (let r = await blocks.next(); !r.done; r = await blocks.next()) yield r.value;
}
