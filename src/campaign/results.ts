import { BLOCK_REASONS, DEFER_REASONS, type Decision, type Message } from '../gate/gate.js';
import type { Sink } from '../output/outputs.js';
import type { RowFormat } from '../output/rows.js';
import type { ChunkResult } from '../pipeline/chunk-types.js';
import type { RowResult } from '../send/journal.js';

/** A column wa-guard adds to each row; JSON writes empty `nullable` values as null and `number` values as numbers. */
export interface AddedColumn { name: string; kind: 'text' | 'nullable' | 'number' }

/** What a dry run adds to each row (gate.*): the gate's decision, and what the send journal already holds for the row. */
export const GATE_COLUMNS: AddedColumn[] = [
  { name: 'wa_id', kind: 'text' }, { name: 'decision', kind: 'text' }, { name: 'reason', kind: 'text' },
  { name: 'detail', kind: 'text' }, { name: 'not_before', kind: 'nullable' }, { name: 'journal', kind: 'nullable' },
];
/** What a live send adds to each row (results.*): gate.*'s columns, so one filter reads both, then what became of it. */
export const RESULT_COLUMNS: AddedColumn[] = [
  ...GATE_COLUMNS,
  { name: 'status', kind: 'text' }, { name: 'wamid', kind: 'nullable' }, { name: 'error_code', kind: 'number' },
  { name: 'error_title', kind: 'nullable' }, { name: 'attempts', kind: 'number' }, { name: 'sent_at', kind: 'nullable' },
];

/** Codes an outcome's text may start with (`blacklisted: …`, `duplicate_id: …`): they go to `reason`, the rest to `detail`. */
const REASON_CODES: ReadonlySet<string> = new Set([...BLOCK_REASONS, ...DEFER_REASONS]);

/**
 * A dry run's added values for a row: the decision, when a deferred row would
 * go (`at`: when the plan puts it), and the row's journal mark.
 */
export function gateValues(message: Message, d: Decision, at: number | undefined, journal: string): string[] {
  const notBefore = d.notBefore ?? (d.decision === 'defer' ? at : undefined);
  return [waIdOf(message), d.decision, d.reason, joinLines(d.detail), notBefore === undefined ? '' : new Date(notBefore).toISOString(), journal];
}

/**
 * A live send's added values for a row: the gate's decision, then the
 * outcome. `reason` is a code: the one the outcome's text starts with (a
 * block, a defer, an id the journal holds for another number), else the
 * gate's (`ok` for a row it let through); `detail` is the text.
 */
export function resultValues(message: Message, d: Decision, o: RowResult, journal: string): string[] {
  const text = joinLines(o.reason ?? '');
  const colon = text.indexOf(': ');
  const coded = colon > 0 && REASON_CODES.has(text.slice(0, colon));
  return [
    waIdOf(message), d.decision, coded ? text.slice(0, colon) : d.reason, coded ? text.slice(colon + 2) : text, o.not_before ?? '', journal,
    o.status, o.wamid ?? '', o.code === undefined ? '' : String(o.code), o.title ?? '', String(o.attempts), o.sent_at ?? '',
  ];
}

function waIdOf(message: Message): string {
  return message.to.ok ? message.to.waId : '';
}

/** A gate detail on one line (it may quote a cell that holds line breaks); send/client.ts oneLine cleans text from outside. */
export function joinLines(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ') : text;
}

/** The data output (gate.* or results.*, or --output): the input rows in order, each with its added values. */
export class ResultsFile {
  /** Rows written so far. */
  written = 0;

  constructor(private readonly file: Sink, private readonly rowFormat: RowFormat, private readonly added: readonly AddedColumn[]) {}

  get path(): string {
    return this.file.path;
  }

  start(): Promise<void> {
    return this.file.write(this.rowFormat.start(this.added.map((c) => c.name)));
  }

  async write(result: ChunkResult, values: string[][]): Promise<void> {
    await this.file.write(render(result, values, this.added, this.rowFormat, this.written));
    this.written += result.rows;
  }

  end(): Promise<void> {
    return this.file.write(this.rowFormat.end(this.written));
  }
}

/** The chunk's rows with the added columns, in the output format. */
function render(result: ChunkResult, suffixes: string[][], added: readonly AddedColumn[], rowFormat: RowFormat, firstIndex: number): string {
  const { text, ends, baseEnds } = result;
  let out = '';
  if (rowFormat.format === 'csv') {
    const { delimiter, eol } = rowFormat.dialect;
    for (let i = 0; i < result.rows; i++) {
      out += text.slice(i === 0 ? 0 : ends[i - 1], baseEnds[i]);
      for (const value of suffixes[i]!) out += delimiter + rowFormat.field(value);
      out += eol;
    }
    return out;
  }
  for (let i = 0; i < result.rows; i++) {
    const base = text.slice(i === 0 ? 0 : ends[i - 1], baseEnds[i]);
    const values = suffixes[i]!;
    const fields = added.map((c, k) => {
      const v = values[k]!;
      const json = c.kind === 'text' ? JSON.stringify(v) : v === '' ? 'null' : c.kind === 'number' ? String(Number(v)) : JSON.stringify(v);
      return `${JSON.stringify(c.name)}:${json}`;
    }).join(',');
    const lead = rowFormat.format === 'json' ? rowFormat.lead(firstIndex + i) : '';
    out += lead + base + (base.length > 1 ? ',' : '') + fields + '}' + (rowFormat.format === 'jsonl' ? '\n' : '');
  }
  return out;
}
