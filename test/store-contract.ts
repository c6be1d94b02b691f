import { expect, it } from 'vitest';
import { countEntries, type Store } from '../dist/store/store.js';

/**
 * The behaviour every store backend must have. `open` returns a fresh store
 * over the same state each time it is called (after the previous one closed).
 */
export function storeContract(open: () => Promise<Store>): void {
  const withStore = async (fn: (store: Store) => Promise<void>): Promise<void> => {
    const store = await open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  it('gets what was set, undefined for the rest, in the order asked', async () => {
    await withStore(async (store) => {
      await store.set('blacklist', [{ key: '6281234567890', value: 'a' }, { key: '5511987654321', value: 'b' }]);
      expect(await store.get('blacklist', ['5511987654321', 'nope', '6281234567890'])).toEqual(['b', undefined, 'a']);
      expect(await store.get('blacklist', [])).toEqual([]);
    });
  });

  it('keeps namespaces apart', async () => {
    await withStore(async (store) => {
      await store.set('blacklist', [{ key: '1', value: 'black' }]);
      await store.set('optout', [{ key: '1', value: 'out' }]);
      expect(await store.get('blacklist', ['1'])).toEqual(['black']);
      expect(await store.get('optout', ['1'])).toEqual(['out']);
      expect(await store.get('status', ['1'])).toEqual([undefined]);
    });
  });

  it('overwrites, deletes, counts and scans', async () => {
    await withStore(async (store) => {
      await store.set('optout', [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'c', value: '3' }]);
      await store.set('optout', [{ key: 'a', value: 'one' }]);
      await store.delete('optout', ['b', 'missing']);
      expect(await countEntries(store, 'optout')).toBe(2);
      const seen: [string, string][] = [];
      for await (const entry of store.scan('optout')) seen.push(entry);
      expect(seen.sort()).toEqual([['a', 'one'], ['c', '3']]);
    });
  });

  it('keeps any string value intact', async () => {
    const value = JSON.stringify({ text: 'line\nbreak\ttab "quotes" ü 😀', n: 1 });
    await withStore(async (store) => {
      await store.set('status', [{ key: '+6281234567890', value }]);
    });
    await withStore(async (store) => {
      expect(await store.get('status', ['+6281234567890'])).toEqual([value]);
    });
  });

  it('expires entries after their TTL', async () => {
    await withStore(async (store) => {
      await store.set('status', [{ key: 'short', value: 's', ttlMs: 30 }, { key: 'long', value: 'l', ttlMs: 60_000 }]);
      expect(await store.get('status', ['short', 'long'])).toEqual(['s', 'l']);
      await new Promise((r) => setTimeout(r, 60));
      expect(await store.get('status', ['short', 'long'])).toEqual([undefined, 'l']);
      expect(await countEntries(store, 'status')).toBe(1);
    });
  });

  it('persists across close and reopen', async () => {
    await withStore(async (store) => {
      await store.set('blacklist', [{ key: 'kept', value: 'yes' }, { key: 'gone', value: 'no' }]);
      await store.delete('blacklist', ['gone']);
    });
    await withStore(async (store) => {
      expect(await store.get('blacklist', ['kept', 'gone'])).toEqual(['yes', undefined]);
    });
  });

  it('books slots at the rate, with the burst allowed up front', async () => {
    await withStore(async (store) => {
      const waits = [];
      for (let i = 0; i < 8; i++) waits.push(await store.takeToken('contacts', 10, 5));
      expect(waits.slice(0, 5)).toEqual([0, 0, 0, 0, 0]); // the burst
      // then one slot per 100 ms, each booked ahead of the last
      expect(waits[5]).toBeGreaterThan(50);
      expect(waits[5]).toBeLessThanOrEqual(101);
      expect(waits[6]! - waits[5]!).toBeGreaterThan(80);
      expect(waits[7]! - waits[6]!).toBeGreaterThan(80);
      expect(await store.takeToken('other-bucket', 10, 1)).toBe(0);
    });
  });

  it('takes large batches', async () => {
    const entries = Array.from({ length: 20_000 }, (_, i) => ({ key: String(6281200000000 + i), value: `v${i}` }));
    await withStore(async (store) => {
      await store.set('status', entries);
      const got = await store.get('status', entries.map((e) => e.key));
      expect(got[0]).toBe('v0');
      expect(got[19_999]).toBe('v19999');
      expect(await countEntries(store, 'status')).toBe(20_000);
    });
  });
}
