// The batch loop: events are applied a batch per store transaction. For each
// batch: find the journal rows of its statuses, plan the keys it may read,
// then in one transaction apply each event's rule and write what they taught.
import { WAMIDS } from '../send/journal.js';
import type { StrikePolicy } from '../meta/consequences.js';
import type { Store, StoreKey } from '../store/store.js';
import { BatchView, FIELD_NAMESPACES, FIELDS, F_BLACKLIST, F_JOURNAL, F_LAST_NUMBER, F_LIFECYCLE, F_SEEN, F_STATUS, F_TEMPLATE, type ReadPlan } from './batch-view.js';
import type { Learned } from './learned.js';
import type { Event, Words } from './payload.js';
import { applyEvent, numberFieldsOf, seenKey } from './rules.js';

export interface LearnSettings extends Words, StrikePolicy {}

/** Events applied in one store transaction: large enough that a commit's sync is rare. */
export const BATCH = 5000;

/**
 * Applies events to the store, a batch per transaction: idempotent (an event
 * applied before changes nothing) and ordered by the events' own times (an
 * older event never undoes a newer one). Within a batch each event sees what
 * the ones before it wrote.
 */
export async function learn(store: Store, events: readonly Event[], settings: StrikePolicy, learned: Learned, now = new Date()): Promise<void> {
  for (let at = 0; at < events.length; at += BATCH) {
    const batch = events.slice(at, at + BATCH);
    const plan = planReads(batch, await journalKeysOf(store, batch));
    // Lazy: most events need a few of the fields planned for them (a delivery
    // reads its cached status only when older evidence exists), a third fewer reads.
    const view = await store.transact(plan.reads, (_, read) => {
      const view = applyBatch(batch, plan, read, settings, now);
      return { writes: view.writes(), result: view };
    }, { durable: false, lazy: true });
    for (const e of batch) bump(learned.events, e.kind === 'status' ? STATUS_EVENTS[e.status] : e.kind);
    for (const change in view.changes) bump(learned.changes, change, view.changes[change]);
    learned.unchanged += view.unchanged;
  }
}

const STATUS_EVENTS = { sent: 'status:sent', delivered: 'status:delivered', read: 'status:read', played: 'status:played', failed: 'status:failed' };

const bump = (table: Record<string, number>, key: string, by = 1): void => {
  table[key] = (table[key] ?? 0) + by;
};

/** Each status's send-journal row: named by our callback data, else found by its wamid. */
async function journalKeysOf(store: Store, events: readonly Event[]): Promise<(string | undefined)[]> {
  const keys = events.map((e) => (e.kind === 'status' ? e.callback : undefined));
  const lookup = events.flatMap((e, i) => (e.kind === 'status' && e.callback === undefined ? [i] : []));
  if (lookup.length) {
    const found = await store.get(WAMIDS, lookup.map((i) => (events[i] as { id: string }).id));
    lookup.forEach((i, j) => { keys[i] = found[j]; });
  }
  return keys;
}

/** The fields F_BLACKLIST to F_LAST_NUMBER, all keyed by the event's number. */
const NUMBER_FIELDS = F_LAST_NUMBER - F_BLACKLIST + 1;

/**
 * The keys a batch of events may read, each once, and where each event finds
 * its fields. `journalKeys[i]`: the send journal's row of status i, if known.
 */
export function planReads(events: readonly Event[], journalKeys: readonly (string | undefined)[]): ReadPlan {
  const reads: StoreKey[] = [];
  const slots = new Int32Array(events.length * FIELDS).fill(-1);
  /** A new slot: the key is read (if an event looks) at reads[slot]. */
  const plan = (field: number, key: string): number => reads.push({ namespace: FIELD_NAMESPACES[field]!, key }) - 1;
  const byKey: Map<string, number>[] = [];
  const slotOfKey = (field: number, key: string): number => {
    const keys = (byKey[field] ??= new Map());
    let slot = keys.get(key);
    if (slot === undefined) keys.set(key, slot = plan(field, key));
    return slot;
  };
  // One lookup finds a number's slots (-1: not planned yet).
  const numbers = new Map<string, number>();
  const numberSlots = new Int32Array(events.length * NUMBER_FIELDS).fill(-1);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const base = i * FIELDS;
    const seen = seenKey(e);
    if (seen) slots[base + F_SEEN] = slotOfKey(F_SEEN, seen);
    if (e.kind === 'template') slots[base + F_TEMPLATE] = slotOfKey(F_TEMPLATE, `${e.name}:${e.language}`);
    else {
      const w = e.waId;
      let number = numbers.get(w);
      if (number === undefined) numbers.set(w, number = numbers.size * NUMBER_FIELDS);
      const fields = numberFieldsOf(e);
      for (let f = F_BLACKLIST; f <= F_LAST_NUMBER; f++) {
        if ((fields & (1 << f)) === 0) continue;
        const at = number + f - F_BLACKLIST;
        if (numberSlots[at]! < 0) numberSlots[at] = plan(f, f === F_STATUS ? '+' + w : w);
        slots[base + f] = numberSlots[at]!;
      }
    }
    const journalKey = journalKeys[i];
    if (journalKey !== undefined) {
      slots[base + F_JOURNAL] = slotOfKey(F_JOURNAL, journalKey);
      slots[base + F_LIFECYCLE] = slotOfKey(F_LIFECYCLE, journalKey);
    }
  }
  return { reads, slots };
}

/** Each event's rule in turn, over the store's values as `read` gives them (by slot); the view holds what they wrote. */
export function applyBatch(batch: readonly Event[], plan: ReadPlan, read: (slot: number) => string | undefined, settings: StrikePolicy, now: Date): BatchView {
  const view = new BatchView(plan, read);
  for (let i = 0; i < batch.length; i++) {
    view.startEvent(i);
    applyEvent(batch[i]!, view, settings, now);
    view.endEvent();
  }
  return view;
}
