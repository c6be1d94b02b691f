// What becomes of a message the simulated Meta accepted for a number on
// WhatsApp: sent, then delivered, read and answered by the user at the
// configured shares, each a --status-delay later in Meta's timestamps.
import type { SimulatorState } from './state.js';
import { tally } from './stats.js';

export interface Accepted {
  id: string;
  recipient: string;
  callback: string | undefined;
}

/** A draw of a share: 0 and 1 need none, so the default world's fault sequence stays as it was. */
function happens(share: number, random: () => number): boolean {
  return share >= 1 || (share > 0 && random() < share);
}

/** Emits the message's status webhooks (and the user's reply) and counts them in the stats. */
export function emitOutcome(state: SimulatorState, m: Accepted, phoneNumberId: string): void {
  const { config, webhooks } = state;
  const { stats, random } = state.session;
  const at = state.now();
  const delay = config.statusDelayS * 1000;
  const status = (st: 'sent' | 'delivered' | 'read', after: number): void => {
    webhooks.status({ ...m, state: st, at: at + after }, phoneNumberId);
    tally(stats.webhooks, st);
  };
  status('sent', 0);
  if (!happens(config.delivered, random)) return;
  status('delivered', delay);
  if (!happens(config.read, random)) return;
  status('read', 2 * delay);
  if (!happens(config.replied, random)) return;
  webhooks.inbound(m.recipient, at + 3 * delay, 'Yes, thank you', phoneNumberId);
  tally(stats.webhooks, 'replies');
}
