import { WaIdSet } from '../pipeline/waid-set.js';
import { contentKey, type Decision, type Message, type PlanView } from './gate.js';

/** Two independent 32-bit hashes of a string: 64 bits, so two different messages practically never collide. */
function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}`;
}

/**
 * The campaign as planned so far: which messages are already planned (for
 * duplicates), when each user's last message goes (for pair spacing), and how
 * many new conversations it opens (for the tier). Sends are spaced at --mps.
 */
export class Plan implements PlanView {
  private readonly messages = new Set<string>();
  /** wa_id -> planned time of its last message, in ms after `start`. */
  private readonly lastPlanned = new WaIdSet();
  private readonly conversationsPlanned = new WaIdSet();
  private sends = 0;
  latest: number;

  constructor(private readonly start: number, private readonly mps: number, private readonly storeConversations: number) {
    this.latest = start;
  }

  isDuplicate(waId: string, content: string): boolean {
    return this.messages.has(`${waId}:${hash64(content)}`);
  }

  lastPlannedAt(waId: string): number | undefined {
    const offset = this.lastPlanned.get(Number(waId));
    return offset < 0 ? undefined : this.start + offset;
  }

  conversations(): number {
    return this.storeConversations + this.conversationsPlanned.size;
  }

  hasConversation(waId: string): boolean {
    return this.conversationsPlanned.has(Number(waId));
  }

  /** Adds a decided message to the plan; returns when it would go (ms), or undefined if it would not. */
  record(message: Message, decision: Decision): number | undefined {
    if (decision.decision === 'block' || !message.to.ok) return undefined;
    const waId = message.to.waId;
    this.messages.add(`${waId}:${hash64(contentKey(message))}`);
    if (decision.decision === 'defer' && decision.reason !== 'pair_rate') return decision.notBefore;
    // Sends leave at --mps; a user's next message waits for the pair interval.
    const slot = this.start + (this.sends++ * 1000) / this.mps;
    const at = Math.max(slot, decision.notBefore ?? 0);
    this.lastPlanned.set(Number(waId), Math.round(at - this.start));
    if (decision.opensConversation) this.conversationsPlanned.add(Number(waId));
    this.latest = Math.max(this.latest, at);
    return at;
  }
}
