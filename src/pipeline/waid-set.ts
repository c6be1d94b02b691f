/**
 * A set of wa_ids, each with one or more 32-bit numbers attached (the line of
 * its first occurrence; a plan's content hashes and times). wa_ids have at
 * most 15 digits, so they are stored as doubles in an open-addressing table,
 * each key beside its values: one cache miss per lookup in a table of
 * millions, 16 bytes a slot with one or two values, a fraction of a Map of strings.
 */
export class WaIdSet {
  /** Slot i: its key at keys[i * stride] (0: empty), its values right after, as 32-bit numbers. */
  private keys!: Float64Array;
  private values!: Uint32Array;
  /** Slot size in doubles. */
  private readonly stride: number;
  private mask = 0;
  size = 0;

  /** `columns`: how many values each key has; they start at 0. */
  constructor(capacity = 1 << 14, columns = 1) {
    this.stride = 1 + Math.ceil(columns / 2);
    this.allocate(1 << Math.ceil(Math.log2(Math.max(16, capacity * 2))));
  }

  private allocate(count: number): void {
    const buffer = new ArrayBuffer(count * this.stride * 8);
    this.keys = new Float64Array(buffer);
    this.values = new Uint32Array(buffer);
    this.mask = count - 1;
  }

  private slot(key: number): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) >>> 0;
    let at = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    at = (at ^ (at >>> 15)) & this.mask;
    for (;;) {
      const held = this.keys[at * this.stride]!;
      if (held === 0 || held === key) return at;
      at = (at + 1) & this.mask;
    }
  }

  /** Where key is, or -1. A slot is good until the next insert (the table may grow). */
  find(key: number): number {
    const at = this.slot(key);
    return this.keys[at * this.stride] === key ? at : -1;
  }

  /** Where key is, added (its values 0) when absent. Good until the next insert. */
  insert(key: number): number {
    const at = this.slot(key);
    if (this.keys[at * this.stride] === key) return at;
    this.keys[at * this.stride] = key;
    this.size++;
    if (this.size * 2 <= this.mask + 1) return at;
    this.grow();
    return this.slot(key);
  }

  value(slot: number, column = 0): number {
    return this.values[(slot * this.stride + 1) * 2 + column]!;
  }

  setValue(slot: number, column: number, value: number): void {
    this.values[(slot * this.stride + 1) * 2 + column] = value;
  }

  /** The value stored with key, or -1 when the key is absent. */
  get(key: number): number {
    const at = this.find(key);
    return at < 0 ? -1 : this.value(at);
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  /** Adds key (a positive integer) unless present; returns whether it was added. */
  add(key: number, value = 0): boolean {
    const size = this.size;
    const at = this.insert(key);
    if (this.size === size) return false;
    this.setValue(at, 0, value);
    return true;
  }

  private grow(): void {
    const { keys: oldKeys, values: oldValues, stride } = this;
    this.allocate((this.mask + 1) * 2);
    for (let i = 0; i < oldKeys.length; i += stride) {
      const key = oldKeys[i]!;
      if (key === 0) continue;
      const at = this.slot(key) * stride;
      // As 32-bit words: two values read as one double could be a NaN, whose bits a copy may change.
      for (let k = 0; k < stride * 2; k++) this.values[at * 2 + k] = oldValues[i * 2 + k]!;
    }
  }
}
