import { WaIdSet } from '../pipeline/waid-set.js';
import { contentKey, type Decision, type Message, type PlanView } from './gate.js';

/** Two independent 32-bit hashes of a string: 64 bits, so two different messages to one user practically never collide. */
function hash64(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, b >>> 0];
}

/** Nothing planned yet: one message decided alone (mcp), beside the conversations the store counted. */
export function emptyPlan(storeConversations: number): PlanView {
  return {
    idOwner: () => undefined,
    isDuplicate: () => false,
    lastPlannedAt: () => undefined,
    conversations: () => storeConversations,
    hasConversation: () => false,
  };
}

/**
 * The campaign as planned so far: which messages are already planned (for
 * duplicates), when each user's last message goes (for pair spacing), and how
 * many new conversations it opens (for the tier). Sends are spaced at --mps.
 */
export class Plan implements PlanView {
  /**
   * One entry per user planned so far: the two content hashes of the first
   * message planned to them (columns 0 and 1); when one goes, the planned time
   * of their last message in ms after `start`, plus 1 (column 2; 0: none); and
   * 1 when the plan opens a conversation with them (column 3). One table, so
   * the gate's questions about a user cost one cache miss, not one a question.
   */
  private readonly users = new WaIdSet(0, 4);
  /** "wa_id:hashes" of further messages to users who get more than one (few). */
  private readonly more = new Set<string>();
  /** Row ids by a 53-bit hash, each with the wa_id of its first row (high and low 32 bits). */
  private readonly ids = new WaIdSet(0, 2);
  /** The last id hashed, and its key: the gate asks, then record() adds, the same row's id. */
  private lastId = '';
  private lastIdKey = 0;
  private conversationsPlanned = 0;
  private sends = 0;
  private cached: { message: Message; hash: [number, number] } | undefined;
  latest: number;

  constructor(private readonly start: number, private readonly mps: number, private readonly storeConversations: number) {
    this.latest = start;
  }

  /** The message's content hash, computed once for the gate's question and the record that follows. */
  private hash(message: Message): [number, number] {
    if (this.cached?.message !== message) this.cached = { message, hash: hash64(contentKey(message)) };
    return this.cached.hash;
  }

  private idKey(id: string): number {
    if (this.lastId !== id || this.lastIdKey === 0) {
      const [a, b] = hash64(id);
      this.lastId = id;
      this.lastIdKey = (a & 0x1fffff) * 4294967296 + b || 1;
    }
    return this.lastIdKey;
  }

  idOwner(id: string): string | undefined {
    const at = this.ids.find(this.idKey(id));
    return at < 0 ? undefined : String(this.ids.value(at, 0) * 4294967296 + this.ids.value(at, 1));
  }

  private userSlot(waId: string): number {
    return this.users.find(Number(waId));
  }

  isDuplicate(waId: string, message: Message): boolean {
    const [a, b] = this.hash(message);
    const at = this.userSlot(waId);
    if (at < 0) return false; // nothing planned to this user yet
    if (this.users.value(at, 0) === a && this.users.value(at, 1) === b) return true;
    return this.more.size > 0 && this.more.has(`${waId}:${a}:${b}`);
  }

  lastPlannedAt(waId: string): number | undefined {
    const at = this.userSlot(waId);
    const offset = at < 0 ? 0 : this.users.value(at, 2);
    return offset === 0 ? undefined : this.start + offset - 1;
  }

  conversations(): number {
    return this.storeConversations + this.conversationsPlanned;
  }

  hasConversation(waId: string): boolean {
    const at = this.userSlot(waId);
    return at >= 0 && this.users.value(at, 3) === 1;
  }

  /** Adds a decided message to the plan; returns when it would go (ms), or undefined if it would not. */
  record(message: Message, decision: Decision): number | undefined {
    if (message.id !== undefined && message.to.ok && decision.reason !== 'duplicate_id') {
      const size = this.ids.size;
      const at = this.ids.insert(this.idKey(message.id));
      if (this.ids.size > size) {
        const n = Number(message.to.waId);
        this.ids.setValue(at, 0, Math.floor(n / 4294967296));
        this.ids.setValue(at, 1, n >>> 0);
      }
    }
    if (decision.decision === 'block' || !message.to.ok) return undefined;
    const waId = message.to.waId;
    const key = Number(waId);
    const [a, b] = this.hash(message);
    const users = this.users.size;
    const slot = this.users.insert(key);
    if (this.users.size > users) {
      this.users.setValue(slot, 0, a);
      this.users.setValue(slot, 1, b);
    } else if (this.users.value(slot, 0) !== a || this.users.value(slot, 1) !== b) {
      this.more.add(`${waId}:${a}:${b}`);
    }
    if (decision.decision === 'defer' && decision.reason !== 'pair_rate') return decision.notBefore;
    // Sends leave at --mps; a user's next message waits for the pair interval.
    const at = Math.max(this.start + (this.sends++ * 1000) / this.mps, decision.notBefore ?? 0);
    this.users.setValue(slot, 2, Math.round(at - this.start) + 1);
    if (decision.opensConversation && this.users.value(slot, 3) === 0) {
      this.users.setValue(slot, 3, 1);
      this.conversationsPlanned++;
    }
    this.latest = Math.max(this.latest, at);
    return at;
  }
}
