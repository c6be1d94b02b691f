// What a failed status's Meta error code does to the number's lists.
// To be replaced by meta/consequences.ts (the one place every command asks this).
import { codeInfo, type Action } from '../meta/codes.js';
import { CAPPED, UNDELIVERABLE_REASON, optOutWrite, strikeWrites } from '../store/lists.js';
import type { StoreWrite } from '../store/store.js';
import { DAY_MS } from '../time.js';

/** 131026 strikes that blacklist a number, and how long that entry lasts (as send). */
export interface StrikeSettings {
  strikes: number;
  undeliverableTtlMs: number;
}

/** What a failure's code means; a failure without one blames the recipient, which changes no list. */
export function failureAction(code: number | undefined): Action {
  return code === undefined ? 'recipient' : codeInfo(code).action;
}

/** 'undeliverable' (131026): one more strike, and the blacklist at the threshold. */
export function undeliverableWrites(strikes: string | undefined, listed: string | undefined, waId: string, settings: StrikeSettings, now: Date): { writes: StoreWrite[]; blacklisted: boolean } {
  return strikeWrites(strikes, listed, { waId, reason: UNDELIVERABLE_REASON, source: 'webhook', ttlMs: settings.undeliverableTtlMs }, settings.strikes, now);
}

/** 'optout' (131050): the user stopped marketing messages, since `at` (ISO). */
export function marketingOptOutWrite(waId: string, at: string): StoreWrite {
  return optOutWrite({ waId, source: 'webhook:131050', scope: 'marketing' }, at);
}

/** 'capped' (131049): the user's marketing cap was reached at `at` (ISO); it holds for a day. */
export function cappedWrite(waId: string, at: string): StoreWrite {
  return { namespace: CAPPED, key: waId, value: at, ttlMs: DAY_MS };
}
