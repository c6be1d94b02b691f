import { LIFECYCLE, REACHED } from '../report/lifecycle.js';
import { JOURNAL } from '../send/journal.js';
import { BLACKLIST, INBOUND, OPTOUT, STRIKES } from '../store/lists.js';
import type { StoreKey, StoreWrite } from '../store/store.js';
import { STATUS } from '../store/status-cache.js';
import { TEMPLATE_STATUS } from '../store/template-status.js';
import type { Namespace } from '../store/schema.js';

/** Failed statuses already applied (message id + status): Meta's repeat of one is not a second strike. */
export const SEEN = 'webhook-seen' satisfies Namespace;
/** wa_id -> the time (s) of the newest delivery evidence or 131026 applied, so older events cannot undo newer ones. */
export const EVIDENCE = 'webhook-evidence' satisfies Namespace;
/** wa_id -> the time (s) of the user's newest preference event applied (stop or resume, a stop or start word), so an older one cannot undo it. */
export const PREFERENCE = 'webhook-preference' satisfies Namespace;
/** wa_id -> the number the user moved to (user_changed_number), as JSON {to, at}. */
export const CHANGED_NUMBER = 'changed-number' satisfies Namespace;

/**
 * The store entries an event may read or write, one field each. Every write
 * an event makes lands on one of its own fields (or on a list nothing here
 * reads), so the events after it in a batch see it. A field is read from the
 * store only when the event looks at it. F_BLACKLIST to F_LAST_NUMBER are keyed
 * by the event's number.
 */
export const F_SEEN = 0, F_TEMPLATE = 1, F_BLACKLIST = 2, F_STRIKES = 3, F_EVIDENCE = 4, F_INBOUND = 5, F_OPTOUT = 6, F_PREFERENCE = 7, F_STATUS = 8, F_REACHED = 9, F_JOURNAL = 10, F_LIFECYCLE = 11;
/** The fields keyed by the event's number: F_BLACKLIST to this one. */
export const F_LAST_NUMBER = F_REACHED;
/** Each field's namespace, in the order of the field numbers above (F_JOURNAL and F_LIFECYCLE: keyed by the status's journal key). */
export const FIELD_NAMESPACES = [SEEN, TEMPLATE_STATUS, BLACKLIST, STRIKES, EVIDENCE, INBOUND, OPTOUT, PREFERENCE, STATUS, REACHED, JOURNAL, LIFECYCLE];
export const FIELDS = FIELD_NAMESPACES.length;
const FIELD_OF = new Map(FIELD_NAMESPACES.map((namespace, field) => [namespace, field]));

/**
 * The keys a batch of events may read, each once, and where each event finds
 * its fields: event i's field f is `reads[slots[i * FIELDS + f]]` (-1: none).
 */
export interface ReadPlan {
  reads: StoreKey[];
  slots: Int32Array;
}

/** The store as one event of a batch sees it: what the events before it wrote, else what is stored. */
export class BatchView {
  /** The event's first slot. */
  private base = 0;
  /** What the batch changed, counted by name; events that changed nothing. */
  readonly changes: Record<string, number> = {};
  unchanged = 0;
  /** Whether the current event changed anything. */
  private eventChanged = false;
  /** By slot: the last value the batch wrote there (undefined: deleted), where written[slot] is 1. */
  private readonly wrote: (string | undefined)[];
  private readonly ttls: (number | undefined)[];
  private readonly written: Uint8Array;
  /** Writes to lists no event reads. */
  private readonly unread: StoreWrite[] = [];
  private readonly slots: Int32Array;
  private readonly reads: readonly StoreKey[];

  constructor(plan: ReadPlan, private readonly read: (slot: number) => string | undefined) {
    this.slots = plan.slots;
    this.reads = plan.reads;
    this.wrote = new Array<string | undefined>(plan.reads.length);
    this.ttls = new Array<number | undefined>(plan.reads.length);
    this.written = new Uint8Array(plan.reads.length);
  }

  /** Turns to event i of the batch. */
  startEvent(i: number): void {
    this.base = i * FIELDS;
    this.eventChanged = false;
  }

  /** Done with the current event: counted as unchanged if it changed nothing. */
  endEvent(): void {
    if (!this.eventChanged) this.unchanged++;
  }

  get(field: number): string | undefined {
    const slot = this.slots[this.base + field]!;
    if (slot < 0) return undefined;
    return this.written[slot] === 1 ? this.wrote[slot] : this.read(slot);
  }

  /** The event's entry in that namespace (one of its fields), as a consequence (meta/consequences.ts) reads it. */
  getIn(namespace: string): string | undefined {
    const field = FIELD_OF.get(namespace);
    if (field === undefined) throw new Error(`internal error: ${namespace} read but not a field`);
    return this.get(field);
  }

  /** The key the event reads in that field (undefined: none). */
  key(field: number): string | undefined {
    const slot = this.slots[this.base + field]!;
    return slot < 0 ? undefined : this.reads[slot]!.key;
  }

  changed(what: string): void {
    this.changes[what] = (this.changes[what] ?? 0) + 1;
    this.eventChanged = true;
  }

  /** Sets (or, value undefined, deletes) the event's entry in that field. */
  set(field: number, value: string | undefined, ttlMs?: number): void {
    const slot = this.slots[this.base + field]!;
    // Else a later event of the batch would read a stale value: the rule must list the field it writes.
    if (slot < 0) throw new Error(`internal error: ${FIELD_NAMESPACES[field]} written but not planned`);
    this.wrote[slot] = value;
    this.ttls[slot] = ttlMs;
    this.written[slot] = 1;
  }

  /** A write built elsewhere (a list's own module): onto the event's field of that namespace, if it has one. */
  write(w: StoreWrite): void {
    const field = FIELD_OF.get(w.namespace);
    if (field === undefined) this.unread.push(w);
    else if (this.key(field) !== w.key) throw new Error(`internal error: ${w.namespace} ${w.key} written but not planned`);
    else this.set(field, w.value, w.ttlMs);
  }

  /** What the batch writes: the last write to each key (a number's status events often come in threes). */
  writes(): StoreWrite[] {
    const writes = this.unread;
    for (let slot = 0; slot < this.written.length; slot++) {
      if (this.written[slot] === 1) writes.push({ namespace: this.reads[slot]!.namespace, key: this.reads[slot]!.key, value: this.wrote[slot], ttlMs: this.ttls[slot] });
    }
    return writes;
  }
}
