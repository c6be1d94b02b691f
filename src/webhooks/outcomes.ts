// What an event adds to the campaigns' reports: a status moves its message's
// lifecycle along; a delivery makes that message the user's last reached; a
// reply or an opt-out is pinned on it (report/lifecycle.ts builds each entry).
import { codeTitle } from '../meta/codes.js';
import { LIFECYCLE_TTL_MS, lifecycleAfterStatus, reachedAfterAnswer, reachedAfterDelivery, type Reached } from '../report/lifecycle.js';
import { F_JOURNAL, F_LIFECYCLE, F_REACHED, type BatchView } from './batch-view.js';
import type { Event, StatusEvent } from './payload.js';

/** Records what the event says of the campaigns' messages (after its rule ran). */
export function recordOutcome(e: Event, view: BatchView): void {
  if (e.kind === 'status') {
    recordStatus(e, view);
    if (e.status === 'failed' && e.code === 131050) answered(view, 'opted_out', e.at, '131050');
  } else if (e.kind === 'inbound') answered(view, e.word === 'stop' ? 'opted_out' : 'replied', e.at, 'stop-word');
  else if (e.kind === 'preference' && e.stop) answered(view, 'opted_out', e.at, 'user_preferences');
}

/** A status of a message wa-guard sent (its journal row is known): its lifecycle, and the user's last reached on delivery. */
function recordStatus(e: StatusEvent, view: BatchView): void {
  const key = view.key(F_LIFECYCLE);
  if (key === undefined || view.get(F_JOURNAL) === undefined) return;
  const failure = e.status === 'failed' ? { code: e.code, title: e.code === undefined ? 'failed (no error code)' : codeTitle(e.code) } : undefined;
  const after = lifecycleAfterStatus(view.get(F_LIFECYCLE), e.status, e.at, failure);
  if (after) {
    view.set(F_LIFECYCLE, JSON.stringify(after), LIFECYCLE_TTL_MS);
    view.changed(`lifecycle_${after.state}`);
  }
  if (e.status === 'failed' || e.status === 'sent') return;
  setReached(view, reachedAfterDelivery(view.get(F_REACHED), key, e.at));
}

/** A reply or an opt-out: pinned on the message that last reached the user. */
function answered(view: BatchView, kind: 'replied' | 'opted_out', at: number, by: string): void {
  const pinned = reachedAfterAnswer(view.get(F_REACHED), kind, at, by);
  if (!pinned) return;
  setReached(view, pinned.reached);
  view.write(pinned.write);
  view.changed(kind === 'replied' ? 'campaign_reply' : 'campaign_opt_out');
}

function setReached(view: BatchView, reached: Reached | undefined): void {
  if (reached) view.set(F_REACHED, JSON.stringify(reached), LIFECYCLE_TTL_MS);
}
