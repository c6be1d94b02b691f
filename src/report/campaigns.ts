/**
 * The `campaigns` namespace: a small record per live campaign, written when a
 * send ends (each run: a resumed campaign keeps its first send), so `report`
 * can name a campaign by the file it came from and show its gate's figures.
 */
import { BLOCK_REASONS, DEFER_REASONS } from '../gate/gate.js';
import type { Store } from '../store/store.js';
import { LIFECYCLE_TTL_MS } from './lifecycle.js';
import type { Namespace } from '../store/schema.js';

export const CAMPAIGNS = 'campaigns' satisfies Namespace;

export interface CampaignRecord {
  id: string;
  /** The campaign file's path as given ('-': stdin). */
  name: string;
  first_send: string;
  last_send: string;
  /** Rows of the file, and the gate's blocks and deferrals by reason, as the last run counted them. */
  rows: number;
  blocked: Record<string, number>;
  deferred: Record<string, number>;
}

/** What a send's summary gives the record. */
export interface SendFigures {
  campaign_id?: string;
  input: { path: string };
  rows: number;
  reasons: Record<string, number>;
}

/** The gate's deferrals that hold a row back (pair_rate rows are sent, spaced). */
const GATE_DEFERS = DEFER_REASONS.filter((r) => r !== 'pair_rate');

const only = (reasons: Record<string, number>, names: readonly string[]): Record<string, number> =>
  Object.fromEntries(names.filter((r) => reasons[r]).map((r) => [r, reasons[r]!]));

/** Records a live send's run of the campaign (its first send kept from earlier runs). */
export async function recordCampaign(store: Store, figures: SendFigures, started: Date): Promise<void> {
  const id = figures.campaign_id;
  if (id === undefined) return;
  await store.transact([{ namespace: CAMPAIGNS, key: id }], ([value]) => {
    const before = parseCampaign(value);
    const first = before && before.first_send < started.toISOString() ? before.first_send : started.toISOString();
    const record: CampaignRecord = {
      id, name: figures.input.path, first_send: first, last_send: new Date().toISOString(), rows: figures.rows,
      blocked: only(figures.reasons, BLOCK_REASONS), deferred: only(figures.reasons, GATE_DEFERS),
    };
    return { writes: [{ namespace: CAMPAIGNS, key: id, value: JSON.stringify(record), ttlMs: LIFECYCLE_TTL_MS }], result: undefined };
  }, { durable: false });
}

export function parseCampaign(value: string | undefined): CampaignRecord | undefined {
  if (value === undefined) return undefined;
  try {
    const o = JSON.parse(value) as Partial<CampaignRecord>;
    if (!o || typeof o.id !== 'string') return undefined;
    const counts = (v: unknown): Record<string, number> => (v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([, n]) => Number.isInteger(n))) : {});
    return {
      id: o.id, name: typeof o.name === 'string' ? o.name : '-',
      first_send: String(o.first_send ?? ''), last_send: String(o.last_send ?? ''),
      rows: Number.isInteger(o.rows) ? o.rows! : 0, blocked: counts(o.blocked), deferred: counts(o.deferred),
    };
  } catch {
    return undefined;
  }
}

export async function readCampaign(store: Store, id: string): Promise<CampaignRecord | undefined> {
  return parseCampaign((await store.get(CAMPAIGNS, [id]))[0]);
}

/** Every campaign record in the store. */
export async function readCampaigns(store: Store): Promise<CampaignRecord[]> {
  const records: CampaignRecord[] = [];
  for await (const [, value] of store.scan(CAMPAIGNS)) {
    const r = parseCampaign(value);
    if (r) records.push(r);
  }
  return records;
}
