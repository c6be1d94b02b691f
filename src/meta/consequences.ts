import { BLACKLIST, OPTOUT, STRIKES, UNDELIVERABLE_REASON, capWrite, optOutWrite, parseOptOut, strikeWrites } from '../store/lists.js';
import type { StoreWrite } from '../store/store.js';
import type { Action } from './codes.js';

/**
 * What a Meta error does to the store besides the row's own outcome: the
 * recipient is marked, so the gate of later campaigns knows. Written once for
 * both places Meta says it: a send's answer and a failed status webhook.
 * Pure: the caller reads the entries a consequence names (keyed by the
 * number's wa_id), passes their values, and writes what comes back, in one
 * transaction (send) or a batch's view of the store (ingest).
 */
export interface Consequence {
  /** The namespaces whose entry for the number it reads before deciding. */
  reads: readonly string[];
  /** The writes, and what changed (as ingest counts it). */
  apply(marking: Marking, read: (namespace: string) => string | undefined, policy: StrikePolicy): { writes: StoreWrite[]; change: ConsequenceChange };
}

/** 'unchanged': what Meta said is already recorded, or more (an opt-out of everything). */
export type ConsequenceChange = 'strike' | 'blacklisted' | 'opted_out_of_marketing' | 'capped' | 'unchanged';

/** Who Meta said it about, and when. */
export interface Marking {
  waId: string;
  code: number;
  /** Where it was learned: entries name it as their source ('send', 'webhook'). */
  origin: string;
  /** When Meta said it (ISO): the time of an opt-out or a cap. */
  at: string;
  /** The time of a strike and of the blacklist entry it may make. */
  now: Date;
}

/** --strikes and --undeliverable-ttl: how many 131026 answers blacklist a number, and for how long. */
export interface StrikePolicy {
  strikes: number;
  undeliverableTtlMs: number;
}

/** By action of the code table (meta/codes.ts); actions not listed leave the store alone. */
const CONSEQUENCES: Partial<Record<Action, Consequence>> = {
  // 131026: a strike; at --strikes, the blacklist until --undeliverable-ttl (the user may install WhatsApp later).
  undeliverable: {
    reads: [STRIKES, BLACKLIST],
    apply: (m, read, policy) => {
      const item = { waId: m.waId, reason: UNDELIVERABLE_REASON, source: m.origin, ttlMs: policy.undeliverableTtlMs };
      const { writes, blacklisted } = strikeWrites(read(STRIKES), read(BLACKLIST), item, policy.strikes, m.now);
      return { writes, change: blacklisted ? 'blacklisted' : 'strike' };
    },
  },
  // 131050: the user stopped marketing messages; an opt-out of everything (a STOP) stays one: an opt-out never narrows.
  optout: {
    reads: [OPTOUT],
    apply: (m, read) => {
      const before = read(OPTOUT);
      if (before !== undefined && parseOptOut(before).scope === 'all') return { writes: [], change: 'unchanged' };
      return { writes: [optOutWrite({ waId: m.waId, source: `${m.origin}:${m.code}`, scope: 'marketing' }, m.at)], change: 'opted_out_of_marketing' };
    },
  },
  // 131049: Meta's per-user marketing cap; marketing to the user waits a day.
  capped: {
    reads: [],
    apply: (m) => ({ writes: [capWrite(m.waId, m.at)], change: 'capped' }),
  },
};

/** What an action does to the store, if anything. */
export function consequenceOf(action: Action): Consequence | undefined {
  return CONSEQUENCES[action];
}
