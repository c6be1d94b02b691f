/**
 * A set of wa_ids, each with a number attached (the line of its first
 * occurrence). wa_ids have at most 15 digits, so they are stored as doubles in
 * an open-addressing table: about 24 bytes per number at most, a fraction of a
 * Map of strings, which keeps de-duplication of millions of rows within budget.
 */
export class WaIdSet {
  private keys: Float64Array;
  private values: Uint32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1 << 14) {
    const slots = 1 << Math.ceil(Math.log2(Math.max(16, capacity * 2)));
    this.keys = new Float64Array(slots);
    this.values = new Uint32Array(slots);
    this.mask = slots - 1;
  }

  private slot(key: number): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) >>> 0;
    let at = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    at = (at ^ (at >>> 15)) & this.mask;
    while (this.keys[at] !== 0 && this.keys[at] !== key) at = (at + 1) & this.mask;
    return at;
  }

  /** The value stored with key, or -1 when the key is absent. */
  get(key: number): number {
    const at = this.slot(key);
    return this.keys[at] === key ? this.values[at]! : -1;
  }

  has(key: number): boolean {
    return this.get(key) !== -1;
  }

  /** Adds key (a positive integer) unless present; returns whether it was added. */
  add(key: number, value = 0): boolean {
    const at = this.slot(key);
    if (this.keys[at] === key) return false;
    this.keys[at] = key;
    this.values[at] = value;
    this.size++;
    if (this.size * 2 > this.keys.length) this.grow();
    return true;
  }

  /** Adds key with value, or replaces the value of a key already there. */
  set(key: number, value: number): void {
    const at = this.slot(key);
    if (this.keys[at] === key) {
      this.values[at] = value;
      return;
    }
    this.add(key, value);
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Uint32Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (key !== 0) {
        const at = this.slot(key);
        this.keys[at] = key;
        this.values[at] = values[i]!;
      }
    }
  }
}
