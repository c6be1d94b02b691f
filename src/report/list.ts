/** `report` alone: every campaign of the store, newest first, from one pass over the journal. */
import type { Store } from '../store/store.js';
import { readCampaigns } from './campaigns.js';
import { forEachMessage } from './messages.js';

export interface CampaignLine {
  id: string;
  name: string | null;
  first_send: string | null;
  last_send: string | null;
  rows: number;
  sent: number;
  delivered_rate: number | null;
  read_rate: number | null;
  failed: number;
  awaiting: number;
}

interface Counts { messages: number; sent: number; delivered: number; read: number; failed: number; awaiting: number; first: number; last: number }

const rate = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);
const iso = (s: number): string | null => (Number.isFinite(s) ? new Date(s * 1000).toISOString() : null);

export async function listCampaigns(store: Store): Promise<CampaignLine[]> {
  const counts = new Map<string, Counts>();
  await forEachMessage(store, undefined, (m) => {
    let c = counts.get(m.campaignId);
    if (!c) counts.set(m.campaignId, c = { messages: 0, sent: 0, delivered: 0, read: 0, failed: 0, awaiting: 0, first: Infinity, last: -Infinity });
    c.messages++;
    if (m.accepted) c.sent++;
    if (m.outcome === 'delivered' || m.outcome === 'read') c.delivered++;
    if (m.outcome === 'read') c.read++;
    if (m.outcome === 'failed') c.failed++;
    if (m.outcome === 'awaiting') c.awaiting++;
    if (m.acceptedAt !== undefined) {
      c.first = Math.min(c.first, m.acceptedAt);
      c.last = Math.max(c.last, m.acceptedAt);
    }
  }, { alone: true }); // the report command's own store
  const records = new Map((await readCampaigns(store)).map((r) => [r.id, r]));
  const ids = new Set([...counts.keys(), ...records.keys()]);
  const lines = [...ids].map((id): CampaignLine => {
    const c = counts.get(id);
    const r = records.get(id);
    return {
      id, name: r?.name ?? null,
      first_send: r?.first_send ?? (c ? iso(c.first) : null), last_send: r?.last_send ?? (c ? iso(c.last) : null),
      rows: r?.rows ?? c?.messages ?? 0, sent: c?.sent ?? 0,
      delivered_rate: rate(c?.delivered ?? 0, c?.sent ?? 0), read_rate: rate(c?.read ?? 0, c?.delivered ?? 0),
      failed: c?.failed ?? 0, awaiting: c?.awaiting ?? 0,
    };
  });
  return lines.sort((a, b) => (b.last_send ?? '').localeCompare(a.last_send ?? ''));
}
