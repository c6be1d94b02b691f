import { UsageError } from '../errors.js';
import type { Format } from './sniff.js';

/** Whole records, cut from the input at record boundaries. */
export interface Chunk {
  bytes: Buffer;
  /** Line number of the chunk's first byte (1-based). */
  startLine: number;
}

/**
 * Target chunk size: large enough to amortize messaging a worker, small enough
 * that a chunk's strings stay out of V8's large-object space and die young.
 */
export const CHUNK_BYTES = 128 << 10;
/** A record longer than this is treated as a broken file (an unclosed quote, or not a CSV at all). */
export const MAX_RECORD_BYTES = 4 << 20;

const NL = 0x0a;
const QUOTE = 0x22;

export function countLines(buf: Buffer, from = 0, to = buf.length): number {
  let count = 0;
  let at = buf.indexOf(NL, from);
  while (at >= 0 && at < to) {
    count++;
    at = buf.indexOf(NL, at + 1);
  }
  return count;
}

/** JSON's white space, as bytes. */
export const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Cuts a byte stream into chunks of whole records without parsing the records:
 * CSV at newlines outside double quotes, JSONL at every newline, a JSON array at
 * the commas between its top-level elements. Parsing happens later, in workers.
 */
export class RecordSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** Scanned bytes of `pending` so far. */
  private scanned = 0;
  /** End of the last complete record in `pending` (exclusive), or -1. */
  private cut = -1;
  /** Bytes to drop after the cut (the comma between JSON elements). */
  private cutSkip = 0;
  private line: number;
  // CSV state
  private quoted = false;
  // JSON array state
  private depth = 0;
  private inString = false;
  private started = false;
  private ended = false;

  /** `chunkBytes` 0 cuts a JSON array into its elements, one a chunk. */
  constructor(
    private readonly format: Format,
    private readonly source: string,
    startLine = 1,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {
    this.line = startLine;
  }

  push(data: Buffer): Chunk[] {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    this.scan();
    const chunks: Chunk[] = [];
    while (this.cut >= 0 && this.cut >= this.chunkBytes) {
      chunks.push(this.take());
      this.scan();
    }
    if (this.pending.length - Math.max(this.cut, 0) > MAX_RECORD_BYTES) {
      const what = this.format === 'csv' && this.quoted ? ' (an unclosed quote?)' : '';
      throw new UsageError(
        `${this.source}: line ${this.line + countLines(this.pending, 0, Math.max(this.cut, 0))}: a record is longer than ${MAX_RECORD_BYTES >> 20} MiB${what}`,
      );
    }
    return chunks;
  }

  /** The rest of the input, once the stream has ended. */
  end(): Chunk | undefined {
    if (this.format === 'json') {
      if (!this.started) throw new UsageError(`${this.source}: the file is empty`);
      if (!this.ended) {
        throw new UsageError(`${this.source}: line ${this.line + countLines(this.pending)}: unexpected end of file: the JSON array is not closed`);
      }
    } else {
      if (this.format === 'csv' && this.quoted) {
        // The broken record starts after the last complete one.
        const line = this.line + countLines(this.pending, 0, Math.max(this.cut, 0));
        throw new UsageError(`${this.source}: line ${line}: a quoted field is not closed before the end of the file`);
      }
      this.cut = this.pending.length;
      this.cutSkip = 0;
    }
    return this.cut > 0 ? this.take() : undefined;
  }

  private take(): Chunk {
    const bytes = this.pending.subarray(0, this.cut);
    const rest = this.pending.subarray(this.cut + this.cutSkip);
    const chunk = { bytes, startLine: this.line };
    this.line += countLines(this.pending, 0, this.cut + this.cutSkip);
    this.pending = rest;
    this.scanned -= this.cut + this.cutSkip;
    this.cut = -1;
    return chunk;
  }

  private scan(): void {
    const buf = this.pending;
    if (this.format === 'jsonl') {
      const nl = buf.lastIndexOf(NL);
      if (nl >= 0) this.cut = nl + 1;
    } else if (this.format === 'csv') {
      this.scanCsv(buf);
    } else {
      this.scanJson(buf); // sets `scanned`: it may stop at the first element
      return;
    }
    this.scanned = this.pending.length;
  }

  private scanCsv(buf: Buffer): void {
    let at = this.scanned;
    while (at < buf.length) {
      const quote = buf.indexOf(QUOTE, at);
      if (this.quoted) {
        if (quote < 0) break;
        this.quoted = false;
        at = quote + 1;
        continue;
      }
      const stop = quote < 0 ? buf.length : quote;
      const nl = stop > at ? buf.lastIndexOf(NL, stop - 1) : -1;
      if (nl >= at) this.cut = nl + 1;
      if (quote < 0) break;
      this.quoted = true;
      at = quote + 1;
    }
  }

  private scanJson(buf: Buffer): void {
    for (let i = this.scanned; i < buf.length; i++) {
      const c = buf[i]!;
      if (this.inString) {
        const close = buf.indexOf(QUOTE, i);
        if (close < 0) { i = buf.length; break; }
        let backslashes = 0;
        while (buf[close - 1 - backslashes] === 0x5c) backslashes++;
        i = close;
        if (backslashes % 2 === 0) this.inString = false;
        continue;
      }
      const space = isSpace(c);
      if (!this.started) {
        if (space) continue;
        if (c !== 0x5b) {
          throw new UsageError(`${this.source}: line ${this.line + countLines(buf, 0, i)}: expected a JSON array of objects ('['), found '${String.fromCharCode(c)}'`);
        }
        this.started = true;
        this.depth = 1;
        // Drop everything up to and including '['.
        this.line += countLines(buf, 0, i + 1);
        this.pending = buf.subarray(i + 1);
        this.scanned = 0;
        this.scanJson(this.pending);
        return;
      }
      if (this.ended) {
        if (space) continue;
        throw new UsageError(`${this.source}: line ${this.line + countLines(buf, 0, i)}: unexpected data after the end of the JSON array`);
      }
      if (c === QUOTE) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          this.ended = true;
          this.cut = i;
          this.cutSkip = buf.length - i; // the ']' and whatever whitespace follows
        }
      } else if (c === 0x2c && this.depth === 1) {
        this.cut = i;
        this.cutSkip = 1;
        if (this.chunkBytes === 0) {
          this.scanned = i + 1;
          return;
        }
      }
    }
    this.scanned = buf.length;
  }
}
