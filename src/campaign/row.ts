import { CATEGORIES, type Category, type Message } from '../gate/gate.js';
import { headerKey } from '../input/columns.js';
import { Outcome, OUTCOME_REASON, type ChunkConfig, type ChunkResult } from '../pipeline/chunk-types.js';

/** A campaign's columns besides the recipient, found by name (case and separators ignored); param_1, param_2… follow them. */
export const CAMPAIGN_FIELDS = ['template', 'language', 'params', 'text', 'category', 'last_inbound_at', 'id'] as const;
export type CampaignField = (typeof CAMPAIGN_FIELDS)[number];

/** Where each field sits among a row's extracted values. */
const OFFSET = Object.fromEntries(CAMPAIGN_FIELDS.map((field, i) => [field, i])) as Record<CampaignField, number>;

/**
 * The campaign's own columns: what the workers extract from each row (the
 * fields, then param_n), and each row's message read back from those values
 * by field name.
 */
export class CampaignColumns {
  /** ChunkConfig.extract: each field's column (index -1: not in the header, JSON records by name), then param_n. */
  readonly extract: NonNullable<ChunkConfig['extract']>;
  private readonly paramCount: number;

  constructor(columns: readonly string[], private readonly defaultLanguage: string) {
    const keys = columns.map(headerKey);
    const index = (name: string): number => keys.indexOf(headerKey(name));
    const params: string[] = [];
    for (let n = 1; index(`param_${n}`) >= 0; n++) params.push(`param_${n}`);
    this.extract = [...CAMPAIGN_FIELDS, ...params].map((name) => {
      const c = index(name);
      return { index: c, name: c >= 0 ? columns[c]! : name };
    });
    this.paramCount = params.length;
  }

  /** A field of the chunk's row `row` ('' when the file has no such column). */
  cell(result: ChunkResult, row: number, field: CampaignField): string {
    return result.extracted[row * this.extract.length + OFFSET[field]] ?? '';
  }

  private param(result: ChunkResult, row: number, n: number): string {
    return result.extracted[row * this.extract.length + CAMPAIGN_FIELDS.length + n] ?? '';
  }

  /** The row's key in the send journal: its id, else its row number (`firstRow`: the rows before the chunk). */
  rowKey(result: ChunkResult, row: number, firstRow: number): string {
    return this.cell(result, row, 'id') || String(firstRow + row + 1);
  }

  /** The message of the chunk's row `row`: its recipient as the worker read it, and its content. */
  message(result: ChunkResult, row: number): Message {
    const outcome = result.outcome[row]!;
    const waId = outcome === Outcome.OK ? String(result.waIds[row]) : '';
    const message: Message = {
      to: outcome === Outcome.OK
        ? { ok: true, e164: '+' + waId, waId }
        : { ok: false, reason: OUTCOME_REASON[outcome] as 'missing_number' | 'invalid_number' | 'no_country_code', detail: result.details[row] ?? '' },
    };
    const template = this.cell(result, row, 'template');
    if (template) message.template = { name: template, language: this.cell(result, row, 'language') || this.defaultLanguage, params: this.params(result, row) };
    const id = this.cell(result, row, 'id');
    if (id) message.id = id;
    const text = this.cell(result, row, 'text');
    if (text) message.text = text;
    const category = this.cell(result, row, 'category').toLowerCase() as Category;
    if (CATEGORIES.includes(category)) message.category = category;
    const lastInbound = this.cell(result, row, 'last_inbound_at');
    if (lastInbound) {
      const inbound = Date.parse(lastInbound);
      if (!Number.isNaN(inbound)) message.lastInboundAt = inbound;
    }
    return message;
  }

  /** A template's parameters: the params column (a JSON list, else one value), else param_1… without trailing empty ones. */
  private params(result: ChunkResult, row: number): string[] {
    let params: string[] = [];
    for (let n = 0; n < this.paramCount; n++) params.push(this.param(result, row, n));
    const paramsJson = this.cell(result, row, 'params');
    if (paramsJson) {
      try {
        const parsed: unknown = JSON.parse(paramsJson);
        if (Array.isArray(parsed)) params = parsed.map(String);
      } catch {
        params = [paramsJson];
      }
    }
    while (params.length && params[params.length - 1] === '' && this.paramCount) params.pop(); // trailing empty param_n columns
    return params;
  }
}
