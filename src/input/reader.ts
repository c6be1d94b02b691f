import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { TextDecoder } from 'node:util';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import { UsageError, describeFsError } from '../errors.js';
import type { IO } from '../io.js';
import { CHUNK_BYTES, RecordSplitter, type Chunk } from './split.js';
import { sniff, type Format, type Sniffed } from './sniff.js';
import { RecordReader, notUtf8, recordKeys } from './records.js';
import type { Sample } from './column-values.js';
import { sampleRows } from './sample.js';

const HEAD_BYTES = 64 << 10;

export interface Input {
  /** The name used in messages: the path as given, or "stdin". */
  source: string;
  /** Absolute path, or undefined for stdin. */
  path: string | undefined;
  size: number | undefined;
  sniffed: Sniffed;
  /** CSV: the header's names; JSON/JSONL: the keys of the records in the first 64 KiB. */
  columns: string[];
  /** CSV: the header line exactly as written (without its line ending). */
  headerText: string | undefined;
  /** The first records' cells, by column: what columns hold, to choose among them. */
  sample: Sample;
  /** Whole-record chunks of the data after the header. */
  chunks: AsyncGenerator<Chunk>;
  bytesRead(): number;
  /** Stops reading (also unblocks a pending read of stdin). */
  close(): void;
}

export interface InputOptions {
  format?: Format;
  delimiter?: string;
  /** --encoding: a label TextDecoder knows (latin1, windows-1252, utf-16le, …); the input is read as UTF-8 without it. */
  encoding?: string;
}

/** --encoding, checked: a decoder that refuses nothing (the file said what it is). */
export function decoderFor(encoding: string | undefined): TextDecoder | undefined {
  if (encoding === undefined || /^utf-?8$/i.test(encoding)) return undefined;
  try {
    return new TextDecoder(encoding);
  } catch {
    throw new UsageError(`--encoding: "${encoding}" is not an encoding this Node.js knows (e.g. latin1, windows-1252, utf-16le, shift_jis)`);
  }
}

/** Opens a file or stdin ("-"), sniffs its format and reads its header, before any output exists. */
export async function openInput(spec: string, io: IO, options: InputOptions): Promise<Input> {
  const decoder = decoderFor(options.encoding); // before any stream is opened
  const source = spec === '-' ? 'stdin' : spec;
  const { stream, path, size } = spec === '-' ? { stream: io.stdin, path: undefined, size: undefined } : await openFile(spec, io.cwd);
  const bytes = new InputBytes(stream, decoder, source);
  let header: Header;
  try {
    header = await readHeader(bytes, source, path, options);
  } catch (err) {
    stream.destroy();
    throw err;
  }
  const { sniffed, columns, headerText, startLine, ended } = header;
  // A file that was not UTF-8 came from Excel or an older system: CSV outputs (UTF-8) start
  // with a BOM, as they do for an input that had one, so that Excel reads them back right.
  if (decoder) sniffed.dialect.bom = true;
  const sample = sampleRows({ source, format: sniffed.format, delimiter: sniffed.dialect.delimiter, columns }, header.body, ended, startLine);
  let body: Buffer | undefined = header.body;

  async function* chunks(): AsyncGenerator<Chunk> {
    const splitter = new RecordSplitter(sniffed.format, source, startLine);
    let pending = body;
    body = undefined;
    while (pending) {
      yield* splitter.push(pending);
      pending = ended ? undefined : await bytes.next();
    }
    const last = splitter.end();
    if (last) yield last;
  }

  return {
    source, path, size, sniffed, columns, headerText, sample, chunks: chunks(),
    bytesRead: () => bytes.bytesRead,
    close: () => { stream.destroy(); },
  };
}

async function openFile(spec: string, cwd: string): Promise<{ stream: Readable; path: string; size: number }> {
  const path = resolve(cwd, spec);
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = info.size;
  } catch (err) {
    throw new UsageError(describeFsError(err, 'cannot read', spec));
  }
  // Read in chunk-sized pieces: the splitter cuts at the last record boundary of what it holds.
  return { stream: createReadStream(path, { highWaterMark: CHUNK_BYTES }), path, size };
}

/** The input's bytes as UTF-8 (decoded from --encoding), counted as read. */
class InputBytes {
  /** Bytes read from the stream, before decoding. */
  bytesRead = 0;
  /** A file whose lines end in CR alone (classic Mac): read as LF, decided from the first bytes. */
  private crOnly = false;
  private readonly iterator: AsyncIterator<Buffer | string>;

  constructor(stream: Readable, private readonly decoder: TextDecoder | undefined, private readonly source: string) {
    this.iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  }

  /** From now on, CR is read as LF. */
  readCrAsLf(): void {
    this.crOnly = true;
  }

  /** The next piece of the input; undefined at its end. */
  async next(): Promise<Buffer | undefined> {
    const buf = await this.read();
    if (buf && this.crOnly) crToLf(buf);
    return buf;
  }

  private async read(): Promise<Buffer | undefined> {
    let step: IteratorResult<Buffer | string>;
    try {
      step = await this.iterator.next();
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new UsageError(describeFsError(err, 'cannot read', this.source));
    }
    if (step.done) {
      const rest = this.decoder?.decode();
      return rest ? Buffer.from(rest) : undefined;
    }
    const buf = typeof step.value === 'string' ? Buffer.from(step.value) : step.value;
    this.bytesRead += buf.length;
    return this.decoder ? Buffer.from(this.decoder.decode(buf, { stream: true })) : buf;
  }
}

interface Header {
  sniffed: Sniffed;
  columns: string[];
  headerText: string | undefined;
  /** The bytes read so far that follow the header. */
  body: Buffer;
  startLine: number;
  /** The whole input was read already. */
  ended: boolean;
}

/** Reads the first bytes of the input: format, dialect, and the column names. */
async function readHeader(bytes: InputBytes, source: string, path: string | undefined, options: InputOptions): Promise<Header> {
  const parts: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < HEAD_BYTES) {
    const buf = await bytes.next();
    if (!buf) { ended = true; break; }
    parts.push(buf);
    headLength += buf.length;
  }
  const head = Buffer.concat(parts);
  if (head.includes(0x0d) && !head.includes(0x0a)) {
    // Lines end in CR alone: the rest is read with LF, and so is this head.
    bytes.readCrAsLf();
    crToLf(head);
  }
  const sniffed = sniff(head, source, { format: options.format, delimiter: options.delimiter, name: path });
  const body = head.subarray(sniffed.skip);
  if (sniffed.format !== 'csv') {
    return { sniffed, columns: headRecordKeys(sniffed.format, body, ended, source), headerText: undefined, body, startLine: 1, ended };
  }
  const end = sniffed.headerEnd;
  if (end < 0 && !ended) throw new UsageError(`${source}: line 1: the header is longer than ${HEAD_BYTES >> 10} KiB; is this a CSV file?`);
  const headerBytes = end < 0 ? body : body.subarray(0, end);
  if (!isUtf8(headerBytes)) throw new UsageError(`${source}: ${notUtf8(headerBytes, 1)}`);
  const headerText = headerBytes.toString('utf8').replace(/\r$/, '');
  let columns: string[];
  try {
    columns = (parseCsv(headerText, { delimiter: sniffed.dialect.delimiter }) as string[][])[0] ?? [];
  } catch (err) {
    throw new UsageError(`${source}: line 1: the header is not valid CSV: ${(err as Error).message.replace(/ at line \d+/, '')}`);
  }
  return { sniffed, columns, headerText, body: end < 0 ? Buffer.alloc(0) : body.subarray(end + 1), startLine: 2, ended };
}

/**
 * The keys of the JSON records in the first bytes, in the order first seen:
 * they name the columns of CSV output and the phone field. (Keys that first
 * appear later are kept in JSON output and counted in a warning for CSV.)
 */
function headRecordKeys(format: Format, body: Buffer, ended: boolean, source: string): string[] {
  const probe = new RecordSplitter(format, source, 1, 1);
  const chunks = probe.push(body);
  const last = ended ? probe.end() : undefined;
  if (last) chunks.push(last);
  const noRecords = (): UsageError => new UsageError(`${source}: the file holds no records${format === 'json' ? ' (an empty array)' : ''}`);
  if (chunks.length === 0) throw ended ? noRecords() : new UsageError(`${source}: the first record is longer than ${HEAD_BYTES >> 10} KiB`);
  // Reading them reports broken JSON with its line.
  const reader = new RecordReader({ source, format, delimiter: ',', columns: [] });
  const objects = chunks.flatMap((chunk) => reader.headObjects(chunk.bytes, chunk.startLine));
  if (objects.length === 0) {
    if (ended && chunks.every((chunk) => chunk.bytes.toString().trim() === '')) throw noRecords();
    throw new UsageError(`${source}: the first record is not a JSON object`);
  }
  const keys = new Set<string>();
  for (const object of objects) for (const key of recordKeys(object)) keys.add(key);
  return [...keys];
}

/** Lines that end in CR alone (classic Mac files), read as LF, in place. */
function crToLf(buf: Buffer): void {
  for (let i = buf.indexOf(0x0d); i >= 0; i = buf.indexOf(0x0d, i + 1)) buf[i] = 0x0a;
}
