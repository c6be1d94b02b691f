import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../dist/store/embedded.js';
import { storeContract } from './store-contract.js';
import { tempDir } from './helpers.js';

describe('embedded store', () => {
  let dir = '';
  beforeEach(() => { dir = tempDir(); });

  storeContract(() => EmbeddedStore.open(dir));

  it('recovers from a write cut short by a crash', async () => {
    const store = await EmbeddedStore.open(dir);
    await store.set('blacklist', [{ key: 'a', value: '1' }]);
    await store.close();
    appendFileSync(join(dir, 'store.jsonl'), '["blacklist","b","2",0'); // torn: no closing bracket, no newline
    const reopened = await EmbeddedStore.open(dir);
    expect(await reopened.get('blacklist', ['a', 'b'])).toEqual(['1', undefined]);
    await reopened.set('blacklist', [{ key: 'c', value: '3' }]);
    await reopened.close();
    const again = await EmbeddedStore.open(dir);
    expect(await again.get('blacklist', ['a', 'c'])).toEqual(['1', '3']);
    await again.close();
  });

  it('refuses a second writer, and takes over a lock left by a dead process', async () => {
    const store = await EmbeddedStore.open(dir);
    await expect(EmbeddedStore.open(dir)).rejects.toThrow(/in use by another wa-guard process \(pid \d+\).*redis/);
    await store.close();
    writeFileSync(join(dir, 'lock'), '999999999'); // no such process
    const next = await EmbeddedStore.open(dir);
    await next.close();
  });

  it('compacts a log full of overwritten records when it opens', async () => {
    const store = await EmbeddedStore.open(dir);
    for (let round = 0; round < 5; round++) {
      await store.set('status', Array.from({ length: 5_000 }, (_, i) => ({ key: String(i), value: `r${round}` })));
    }
    await store.close();
    const before = readFileSync(join(dir, 'store.jsonl'), 'utf8').split('\n').length;
    const reopened = await EmbeddedStore.open(dir);
    expect(await reopened.get('status', ['0', '4999'])).toEqual(['r4', 'r4']);
    await reopened.close();
    const after = readFileSync(join(dir, 'store.jsonl'), 'utf8').split('\n').length;
    expect(before).toBeGreaterThan(25_000);
    expect(after).toBeLessThan(5_100);
  });
});
