/**
 * A set of wa_ids, each with one or more 32-bit numbers attached (the line of
 * its first occurrence; a plan's content hashes and times). wa_ids have at most
 * 15 digits, so they are stored as doubles in an open-addressing table: 12
 * bytes per slot with one value, a fraction of a Map of strings, which keeps
 * millions of rows within budget.
 */
export class WaIdSet {
  private keys: Float64Array;
  private values: Uint32Array;
  private mask: number;
  size = 0;

  /** `columns`: how many values each key has; they start at 0. */
  constructor(capacity = 1 << 14, private readonly columns = 1) {
    const slots = 1 << Math.ceil(Math.log2(Math.max(16, capacity * 2)));
    this.keys = new Float64Array(slots);
    this.values = new Uint32Array(slots * columns);
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

  /** Where key is, or -1. A slot is good until the next insert (the table may grow). */
  find(key: number): number {
    const at = this.slot(key);
    return this.keys[at] === key ? at : -1;
  }

  /** Where key is, added (its values 0) when absent. Good until the next insert. */
  insert(key: number): number {
    const at = this.slot(key);
    if (this.keys[at] === key) return at;
    this.keys[at] = key;
    this.size++;
    if (this.size * 2 <= this.keys.length) return at;
    this.grow();
    return this.slot(key);
  }

  value(slot: number, column = 0): number {
    return this.values[slot * this.columns + column]!;
  }

  setValue(slot: number, column: number, value: number): void {
    this.values[slot * this.columns + column] = value;
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

  /** Adds key with value, or replaces the value of a key already there. */
  set(key: number, value: number): void {
    this.setValue(this.insert(key), 0, value);
  }

  private grow(): void {
    const { keys, values, columns } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Uint32Array(keys.length * 2 * columns);
    this.mask = this.keys.length - 1;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (key !== 0) {
        const at = this.slot(key);
        this.keys[at] = key;
        for (let c = 0; c < columns; c++) this.values[at * columns + c] = values[i * columns + c]!;
      }
    }
  }
}
