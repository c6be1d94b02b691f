// What the user asked for: a stop or start word, a user_preferences stop or
// resume. Applied in the order of Meta's timestamps, whichever arrives first:
// the time of the newest one applied is kept per user, so an older stop
// ingested after a newer resume (or the other way round) changes nothing.
import { optOutWrite, parseOptOut } from '../store/lists.js';
import { F_OPTOUT, F_PREFERENCE, type BatchView } from './batch-view.js';
import { isoSeconds } from './payload.js';

/** A preference: a stop of everything (a stop word) or of marketing (user_preferences), or its lifting. */
export interface Choice {
  stop: boolean;
  /** What a stop opts out of; what a start lifts (all: any opt-out; marketing: a marketing one only). */
  scope: 'all' | 'marketing';
  source: string;
}

export const STOP_WORD: Choice = { stop: true, scope: 'all', source: 'webhook:stop-word' };
export const START_WORD: Choice = { stop: false, scope: 'all', source: 'webhook:start-word' };
export const MARKETING_STOP: Choice = { stop: true, scope: 'marketing', source: 'webhook:user_preferences' };
export const MARKETING_RESUME: Choice = { stop: false, scope: 'marketing', source: 'webhook:user_preferences' };

/**
 * The user's choice at `at` (s), over the fields F_OPTOUT and F_PREFERENCE.
 * Older than the newest preference known (or than the opt-out's own time): no
 * effect. At the same second a stop wins. An opt-out never narrows: a
 * marketing stop leaves an opt-out of everything as it is.
 */
export function applyChoice(view: BatchView, waId: string, at: number, choice: Choice): void {
  const optout = view.get(F_OPTOUT);
  const before = optout === undefined ? undefined : parseOptOut(optout);
  const known = Number(view.get(F_PREFERENCE) ?? 0) || 0;
  const latest = Math.max(known, before ? Math.floor(Date.parse(before.at) / 1000) || 0 : 0);
  if (at < latest || (at === latest && !choice.stop)) return;
  if (at > known) view.set(F_PREFERENCE, String(at));
  if (choice.stop) {
    if (before?.scope === 'all' || before?.scope === choice.scope) return;
    view.write(optOutWrite({ waId, source: choice.source, scope: choice.scope }, isoSeconds(at)));
    view.changed(choice.scope === 'all' ? 'opted_out' : 'opted_out_of_marketing');
  } else if (before && (choice.scope === 'all' || before.scope === 'marketing')) {
    view.set(F_OPTOUT, undefined);
    view.changed(choice.scope === 'all' ? 'opt_out_lifted' : 'marketing_resumed');
  }
}
