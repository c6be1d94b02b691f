import type { RecipientState } from '../gate/gate.js';
import { readPolicy, type BlacklistFile } from '../recipients/policy.js';
import { readCachedStatuses } from '../store/status-cache.js';
import { CAPPED, CONVERSATIONS, INBOUND } from '../store/lists.js';
import type { Store } from '../store/store.js';
import { DAY_MS } from '../time.js';

/** What the gate knows of a recipient, and the wa_id the status cache learned for the number (Meta's own form, e.g. Mexico's 521…). */
export type Recipient = RecipientState & { cachedWaId?: string };

/** What the store knows of a chunk's recipients: the shared policy stage, the status cache, and what the gate reads besides. */
export async function recipientStates(store: Store, waIds: string[], file: BlacklistFile | undefined): Promise<Recipient[]> {
  const [policy, statuses, inbound, capped, conversation] = await Promise.all([
    readPolicy(store, waIds, file), readCachedStatuses(store, waIds.map((w) => '+' + w)),
    store.get(INBOUND, waIds), store.get(CAPPED, waIds), store.get(CONVERSATIONS, waIds),
  ]);
  return waIds.map((_, i) => {
    const state: Recipient = policy[i]!; // a fresh object for each number
    const s = statuses[i];
    if (s?.status === 'valid') state.cachedWaId = s.wa_id;
    if (s?.status === 'invalid') state.notOnWhatsApp = `not on WhatsApp (checked ${s.checked_at.slice(0, 10)}, ${s.source})`;
    if (inbound[i] !== undefined) state.lastInboundAt = Date.parse(inbound[i]!);
    if (capped[i] !== undefined) state.cappedAt = Date.parse(capped[i]!);
    if (conversation[i] !== undefined) state.conversationAt = Date.parse(conversation[i]!);
    return state;
  });
}

/** Conversations the store saw opened outside a window in the last 24h. */
export async function countRecent(store: Pick<Store, 'scan'>, now: number): Promise<number> {
  let count = 0;
  for await (const [, at] of store.scan(CONVERSATIONS)) if (now - Date.parse(at) < DAY_MS) count++;
  return count;
}

/** Conversations a send opened outside a care window: they count toward the messaging limit for 24h. */
export async function recordConversations(store: Store, waIds: readonly string[]): Promise<void> {
  if (waIds.length) await store.set(CONVERSATIONS, waIds.map((waId) => ({ key: waId, value: new Date().toISOString(), ttlMs: DAY_MS })));
}
