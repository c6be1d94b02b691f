import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { countEntries, type Store } from '../src/store/store.js';

/**
 * The behaviour every store backend must have. `open` returns a fresh store
 * over the same state each time it is called (after the previous one closed).
 */
export function storeContract(open: () => Promise<Store>, spec: () => string): void {
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

  it('scans only the keys with a prefix, whatever characters the prefix holds', async () => {
    await withStore(async (store) => {
      const keys = ['a:1', 'a:2', 'ab:1', 'b:1', 'a', 'a*:1', 'a?:1', 'a[x]:1', 'a\\:1', 'a:'];
      await store.set('journal', keys.map((key) => ({ key, value: `v ${key}` })));
      await store.set('journal', [{ key: 'a:gone', value: 'x', ttlMs: 1 }]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const scan = async (prefix: string): Promise<string[]> => {
        const seen: string[] = [];
        for await (const [key, value] of store.scan('journal', prefix)) {
          expect(value).toBe(`v ${key}`);
          seen.push(key);
        }
        return seen.sort();
      };
      expect(await scan('a:')).toEqual(['a:', 'a:1', 'a:2']);
      for (const special of ['a*:', 'a?:', 'a[x]:', 'a\\:']) expect(await scan(special)).toEqual([`${special}1`]);
      expect(await scan('c')).toEqual([]);
      expect(await scan('')).toEqual([...keys].sort());
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
      const setAt = Date.now();
      await store.set('status', [{ key: 'short', value: 's', ttlMs: 30 }, { key: 'long', value: 'l', ttlMs: 60_000 }]);
      const before = await store.get('status', ['short', 'long']);
      // Still there if read within its 30 ms (on a busy machine the read may come later: then it need not be).
      if (Date.now() - setAt < 30) expect(before).toEqual(['s', 'l']);
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

  it('books slots at the rate, with the burst allowed up front, however slowly the calls come', async () => {
    await withStore(async (store) => {
      // What is asserted is where each slot lands on the clock, not how fast the calls ran: each call is
      // bracketed by the clock (a busy machine only widens the brackets), its slot is `wait` after it, and
      // that must be where a token bucket of 10/s and burst 5 puts it for a call made within the bracket.
      // Back to back, then with 15 ms between calls, as on a busy machine (where "waits[5] > 50" once failed: 42).
      for (const [bucket, pauseMs] of [['contacts', 0], ['slow-calls', 15]] as const) {
        const calls: { before: number; after: number; wait: number }[] = [];
        for (let i = 0; i < 8; i++) {
          if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
          const before = Date.now();
          const wait = await store.takeToken(bucket, 10, 5);
          calls.push({ before, after: Date.now(), wait });
        }
        expect(calls.slice(0, 5).map((c) => c.wait)).toEqual([0, 0, 0, 0, 0]); // the burst
        const earliest = gcraSlots(calls.map((c) => c.before));
        const latest = gcraSlots(calls.map((c) => c.after));
        calls.forEach((c, k) => {
          // 1 ms either way: the stores round their clocks
          expect(c.after + c.wait).toBeGreaterThanOrEqual(earliest[k]! - 1);
          expect(c.before + c.wait).toBeLessThanOrEqual(latest[k]! + 1);
        });
      }
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

  it('claims a key only where it is absent or expired', async () => {
    await withStore(async (store) => {
      expect(await store.claim('journal', [{ key: 'a', value: '1' }, { key: 'b', value: '2', ttlMs: 30 }])).toEqual([true, true]);
      expect(await store.claim('journal', [{ key: 'a', value: 'x' }, { key: 'c', value: '3' }])).toEqual([false, true]);
      expect(await store.get('journal', ['a', 'c'])).toEqual(['1', '3']);
      await new Promise((r) => setTimeout(r, 60));
      expect(await store.claim('journal', [{ key: 'b', value: 'again' }])).toEqual([true]);
      expect(await store.get('journal', ['b'])).toEqual(['again']);
    });
  });

  it('reads, decides and writes in one transaction, across namespaces', async () => {
    await withStore(async (store) => {
      await store.set('status', [{ key: 'k', value: 'old' }]);
      const result = await store.transact([{ namespace: 'status', key: 'k' }, { namespace: 'blacklist', key: 'k' }], (values) => ({
        writes: [
          { namespace: 'status', key: 'k', value: `${values[0]}+new` },
          { namespace: 'blacklist', key: 'k', value: 'listed', ttlMs: 60_000 },
          { namespace: 'optout', key: 'gone' },
        ],
        result: values,
      }));
      expect(result).toEqual(['old', undefined]);
      expect(await store.get('status', ['k'])).toEqual(['old+new']);
      expect(await store.get('blacklist', ['k'])).toEqual(['listed']);
      // a decision that throws writes nothing
      await expect(store.transact([], () => { throw new Error('no'); })).rejects.toThrow();
      expect(await store.get('status', ['k'])).toEqual(['old+new']);
    });
  });

  it('reads lazily when asked: read(i) is what values[i] would be, and the writes land', async () => {
    await withStore(async (store) => {
      await store.set('status', [{ key: 'a', value: '1' }, { key: 'b', value: '2', ttlMs: 60_000 }]);
      const reads = [{ namespace: 'status', key: 'a' }, { namespace: 'status', key: 'b' }, { namespace: 'blacklist', key: 'a' }, { namespace: 'status', key: 'none' }];
      const eager = await store.transact(reads, (values, read) => ({ writes: [], result: [values, reads.map((_, i) => read(i))] }));
      expect(eager).toEqual([['1', '2', undefined, undefined], ['1', '2', undefined, undefined]]);
      const lazy = await store.transact(reads, (_, read) => ({
        writes: [{ namespace: 'status', key: 'c', value: `${read(1)}+${read(1)}` }, { namespace: 'status', key: 'a', value: 'changed' }],
        result: [read(3), read(0), read(2)],
      }), { lazy: true });
      expect(lazy).toEqual([undefined, '1', undefined]);
      expect(await store.get('status', ['a', 'c'])).toEqual(['changed', '2+2']);
    });
  });

  it('clears one namespace and says how many entries it held', async () => {
    await withStore(async (store) => {
      await store.set('status', [{ key: 'a', value: '1' }, { key: 'b', value: '2' }]);
      await store.set('blacklist', [{ key: 'a', value: 'kept' }]);
      expect(await store.clear('status')).toBe(2);
      expect(await countEntries(store, 'status')).toBe(0);
      expect(await store.get('blacklist', ['a'])).toEqual(['kept']);
    });
  });

  it('loses no update when three processes change one counter at once', async () => {
    const times = 150;
    const runs = [1, 2, 3].map(() => new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'test', 'store-counter.mjs'), spec(), String(times)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b) => { err += b; });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(code) : reject(new Error(`counter exited ${code}: ${err}`))));
    }));
    await Promise.all(runs);
    await withStore(async (store) => {
      expect(await store.get('counter', ['n'])).toEqual([String(3 * times)]);
      // every claim was won by exactly one process
      expect(await store.get('counter', ['claims'])).toEqual([String(times / 10)]);
    });
  });
}

/** Where a token bucket of 10/s and burst 5 (GCRA) books the slots of calls made at these times (ms). */
function gcraSlots(at: number[]): number[] {
  let tat = -Infinity;
  return at.map((now) => {
    const start = Math.max(tat, now);
    tat = start + 100;
    return Math.max(start - 400, now);
  });
}
