import { LINE_TYPES } from '../line-type.js';
import type { Sink } from '../output/outputs.js';
import { ADDED_COLUMNS, PURGE_COLUMNS, type RowFormat } from '../output/rows.js';
import type { DecidedChunk } from './purge-rules.js';
import type { Totals } from './totals.js';
import type { ChunkVerification } from './verify.js';

/** Decided chunks that may wait on verification before being written, in order. */
const MAX_WAITING_CHUNKS = 64;

/**
 * The writing stage: decided chunks, in input order, as rows of the cleaned
 * and purged files. With verification, up to MAX_WAITING_CHUNKS chunks wait
 * for their /contacts answers while later ones are decided.
 */
export class CleanWriter {
  private readonly waiting: DecidedChunk[] = [];

  constructor(
    private readonly files: { cleaned: Sink; purged: Sink },
    private readonly rowFormat: RowFormat,
    private readonly totals: Totals,
    private readonly verification: ChunkVerification | undefined,
    /** Called after each chunk is written (progress). */
    private readonly written: () => void,
  ) {}

  /** The files' headers (CSV) or opening brackets (JSON). */
  async start(): Promise<void> {
    await this.files.cleaned.write(this.rowFormat.start(ADDED_COLUMNS));
    await this.files.purged.write(this.rowFormat.start(PURGE_COLUMNS));
  }

  async add(d: DecidedChunk): Promise<void> {
    this.waiting.push(d);
    while (this.waiting.length > (this.verification ? MAX_WAITING_CHUNKS : 0)) await this.write(this.waiting.shift()!);
  }

  /** Writes the chunks still waiting. */
  async drain(): Promise<void> {
    while (this.waiting.length) await this.write(this.waiting.shift()!);
  }

  /** The files' endings (a JSON array's closing bracket). */
  async end(): Promise<void> {
    await this.files.cleaned.write(this.rowFormat.end(this.totals.cleaned));
    await this.files.purged.write(this.rowFormat.end(this.totals.purged));
  }

  private async write(d: DecidedChunk): Promise<void> {
    if (this.verification) await this.verification.settle(d);
    const { cleaned, purged } = renderChunk(d, this.rowFormat, this.totals);
    await Promise.all([this.files.cleaned.write(cleaned), this.files.purged.write(purged)]);
    this.written();
  }
}

/** A decided chunk as cleaned and purged text, counted in `totals`. */
function renderChunk(d: DecidedChunk, rowFormat: RowFormat, totals: Totals): { cleaned: string; purged: string } {
  const { result, reason, detail } = d;
  const n = result.rows;
  // Kept, unverified rows arrive complete from the worker; runs of them are copied in one piece.
  const { text, ends, baseEnds } = result;
  let cleaned = '';
  let purged = '';
  let runStart = -1;
  for (let i = 0; i < n; i++) {
    const why = reason[i];
    const start = i === 0 ? 0 : ends[i - 1]!;
    const status = d.status[i];
    if (why === undefined && status === undefined && !rowFormat.needsLead) {
      if (runStart < 0) runStart = start;
    } else if (runStart >= 0) {
      cleaned += text.slice(runStart, start);
      runStart = -1;
    }
    if (why === undefined) {
      if (status !== undefined || rowFormat.needsLead) {
        const base = text.slice(start, baseEnds[i]);
        const inputWaId = String(result.waIds[i]);
        const line = status === undefined ? text.slice(start, ends[i])
          : base + rowFormat.cleanedSuffix(base.length, inputWaId, d.waId[i] ?? inputWaId, status, LINE_TYPES[result.lineType[i]!]!);
        cleaned += (rowFormat.needsLead ? rowFormat.lead(totals.cleaned) : '') + line;
      }
      totals.cleaned++;
      totals.byStatus[status ?? 'unverified']!++;
      const column = result.phoneColumn[i]!;
      totals.byColumn[column] = (totals.byColumn[column] ?? 0) + 1;
      const type = result.lineType[i]!;
      totals.byLineType[type] = (totals.byLineType[type] ?? 0) + 1;
    } else {
      purged += rowFormat.purged(totals.purged++, text.slice(start, baseEnds[i]), why, detail[i]!);
      totals.byReason[why]++;
    }
  }
  if (runStart >= 0) cleaned += text.slice(runStart, ends[n - 1]);
  totals.shortRows += result.shortRows;
  totals.lateKeyRows += result.lateKeyRows;
  for (const key of result.lateKeys) if (totals.lateKeys.size < 10) totals.lateKeys.add(key);
  return { cleaned, purged };
}
