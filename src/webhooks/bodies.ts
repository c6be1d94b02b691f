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
  const lines = new LineBodies(mayBeOneObject);
  for await (const block of blocks) yield lines.push(block);
  yield lines.end();
}

/** Cuts blocks into lines, a body each, or holds them while the file may be one pretty-printed body. */
class LineBodies {
  private line = 0;
  /** The start of a line whose end is in a later block. */
  private carry: Buffer | undefined;
  /** The rest of a line past MAX_RECORD_BYTES is skipped. */
  private overlong = false;
  /** The lines held while the file may be one pretty-printed body (undefined: none held). */
  private held: Body[] | undefined;
  private heldBytes = 0;
  /** The first line, still to come, tells whether the file may be one pretty-printed body. */
  private undecided: boolean;
  private readonly bodies: Body[] = [];

  constructor(mayBeOneObject: boolean) {
    this.undecided = mayBeOneObject;
  }

  /** The bodies of the lines the block ends. */
  push(block: Buffer): Body[] {
    let from = 0;
    for (let nl = block.indexOf(NL); nl >= 0; from = nl + 1, nl = block.indexOf(NL, from)) {
      this.add(this.carry ? Buffer.concat([this.carry, block.subarray(from, nl)]) : block.subarray(from, nl));
      this.carry = undefined;
    }
    if (from < block.length && !this.overlong) {
      this.carry = this.carry ? Buffer.concat([this.carry, block.subarray(from)]) : block.subarray(from);
      if (this.carry.length > MAX_RECORD_BYTES) {
        this.carry = undefined;
        this.overlong = true;
      }
    }
    return this.bodies.splice(0);
  }

  /** The last line's body (no newline after it), and the held lines: one body if together they parse. */
  end(): Body[] {
    if (this.carry || this.overlong) this.add(this.carry ?? Buffer.alloc(0));
    if (this.held) {
      const whole = this.held.map((b) => b.text).join('\n');
      if (parses(whole)) this.bodies.push({ line: this.held[0]!.line, text: whole });
      else this.release();
    }
    return this.bodies;
  }

  private add(bytes: Buffer): void {
    const line = ++this.line;
    if (this.overlong) {
      this.overlong = false;
      this.bodies.push({ line, why: `a line longer than ${MAX_RECORD_BYTES >> 20} MiB` });
      return;
    }
    let text = bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    if (this.undecided) {
      this.undecided = false;
      if (!parses(text)) this.held = [];
    }
    if (!this.held) {
      this.bodies.push({ line, text });
      return;
    }
    this.held.push({ line, text });
    this.heldBytes += bytes.length;
    if (this.heldBytes > MAX_RECORD_BYTES) this.release();
  }

  /** Gives up holding: the held lines are bodies one by one. */
  private release(): void {
    this.bodies.push(...this.held!);
    this.held = undefined;
  }
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
