import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../src/store/embedded.js';
import { storeContract } from './store-contract.js';
import { FIXTURES, runCli, spawnCli, tempDir } from './helpers.js';

describe('embedded store', () => {
  let dir = '';
  beforeEach(() => { dir = tempDir(); });

  storeContract(() => EmbeddedStore.open(dir), () => dir);

  it('gives back its read memory between operations, and a scan under way goes on where it was', async () => {
    const store = await EmbeddedStore.open(dir);
    const keys = Array.from({ length: 5000 }, (_, i) => `c:${String(i).padStart(5, '0')}`);
    await store.set('journal', keys.map((key) => ({ key, value: `v${key}` })));
    const seen: string[] = [];
    for await (const [key, value] of store.scan('journal', 'c:')) {
      expect(value).toBe(`v${key}`);
      seen.push(key);
      if (seen.length % 700 === 0) await store.releaseReadMemory(); // in the middle of a page of the scan
    }
    expect(seen).toEqual(keys);
    await store.releaseReadMemory();
    expect(await store.claim('journal', [{ key: 'c:00001', value: 'x' }, { key: 'new', value: 'y' }])).toEqual([false, true]);
    expect(await store.get('journal', ['c:04999', 'new'])).toEqual(['vc:04999', 'y']);
    await store.close();
    await store.releaseReadMemory(); // closed: nothing to give back, no error
    const again = await EmbeddedStore.open(dir);
    expect(await again.get('journal', ['new'])).toEqual(['y']);
    await again.close();
  });

  it('imports a store.jsonl of the old format once, and keeps it as a backup', async () => {
    const future = Date.now() + 3_600_000;
    writeFileSync(join(dir, 'store.jsonl'), [
      JSON.stringify(['blacklist', '6281234567890', '{"reason":"contacts_invalid","source":"contacts:x","first_seen":"2026-01-01T00:00:00.000Z","last_seen":"2026-01-01T00:00:00.000Z","strikes":1}', 0]),
      JSON.stringify(['optout', '447400123456', '{"source":"webhook:STOP","at":"2026-01-02T00:00:00.000Z"}', 0]),
      JSON.stringify(['status', '+5511987654321', 'live', future]),
      JSON.stringify(['status', '+5511900000000', 'expired', 1]),
      JSON.stringify(['optout', 'deleted', 'x', 0]),
      JSON.stringify(['optout', 'deleted']),
      'not json',
      '["blacklist","torn","1",0', // a write cut short by a crash
    ].join('\n'));
    const store = await EmbeddedStore.open(dir);
    expect(await store.get('blacklist', ['6281234567890', 'torn'])).toEqual([expect.stringContaining('contacts_invalid'), undefined]);
    expect(await store.get('optout', ['447400123456', 'deleted'])).toEqual([expect.stringContaining('STOP'), undefined]);
    expect(await store.get('status', ['+5511987654321', '+5511900000000'])).toEqual(['live', undefined]);
    await store.delete('blacklist', ['6281234567890']);
    await store.close();
    expect(existsSync(join(dir, 'store.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'store.jsonl.imported'))).toBe(true);
    // a backup copied back by hand is not imported twice
    writeFileSync(join(dir, 'store.jsonl'), JSON.stringify(['blacklist', '6281234567890', 'again', 0]) + '\n');
    const again = await EmbeddedStore.open(dir);
    expect(await again.get('blacklist', ['6281234567890'])).toEqual([undefined]);
    await again.close();
  });

  it('lets a second opener read and write while the first has it open', async () => {
    const first = await EmbeddedStore.open(dir);
    const second = await EmbeddedStore.open(dir);
    await first.set('blacklist', [{ key: 'a', value: '1' }]);
    expect(await second.get('blacklist', ['a'])).toEqual(['1']);
    await second.set('optout', [{ key: 'b', value: '2' }]);
    expect(await first.get('optout', ['b'])).toEqual(['2']);
    await second.close();
    await first.close();
  });

  it('refuses a store written by a newer wa-guard', async () => {
    const store = await EmbeddedStore.open(dir);
    await store.set('meta', [{ key: 'format', value: '99' }]);
    await store.close();
    await expect(EmbeddedStore.open(dir)).rejects.toThrow(/written by a newer wa-guard \(format 99; this one reads 1\): upgrade/);
  });

  it('a damaged data file or an unusable directory is one clear line, exit 1', async () => {
    writeFileSync(join(dir, 'wa-guard.mdb'), 'this is not an LMDB file '.repeat(400));
    const damaged = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'out'), '--store', dir]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/^wa-guard: store .*: the data file wa-guard.mdb is damaged or not a wa-guard store/m);
    expect(damaged.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'out'))).toBe(false);

    // a real store cut short (a copy that did not finish, a full disk)
    const other = join(dir, 'other');
    const store = await EmbeddedStore.open(other);
    await store.set('blacklist', Array.from({ length: 5000 }, (_, i) => ({ key: String(i), value: 'x'.repeat(100) })));
    await store.close();
    truncateSync(join(other, 'wa-guard.mdb'), statSync(join(other, 'wa-guard.mdb')).size >> 1);
    const truncated = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'out'), '--store', other]);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/damaged or not a wa-guard store \(page \d+ is past the end of the file: truncated\)/);

    writeFileSync(join(dir, 'a-file'), '');
    const blocked = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'out'), '--store', join(dir, 'a-file', 'store')]);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/store .*a-file\/store: a file is in the way/);

    // Node's recursive mkdir spins forever, deaf to signals, where mkdir answers ENOENT under an existing parent.
    const started = Date.now();
    const proc = await spawnCli(['blacklist', 'add', '+6281234567890', '--store', '/proc/wa-guard-store']);
    expect([proc.code, proc.stderr]).toEqual([1, 'wa-guard: store /proc/wa-guard-store: no such file or directory\n']);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a store cut short by 1% or 99%, emptied, or with a flipped meta page: refused in one line, never a SIGBUS', async () => {
    const made = join(dir, 'made');
    const store = await EmbeddedStore.open(made);
    await store.set('blacklist', Array.from({ length: 20_000 }, (_, i) => ({ key: String(i), value: 'x'.repeat(100) })));
    await store.set('webhook-inbox', [{ key: 'big', value: 'y'.repeat(50_000) }]); // overflow pages
    await store.close();
    const data = readFileSync(join(made, 'wa-guard.mdb'));
    const newestMeta = data.readBigUInt64LE(24 + 128) > data.readBigUInt64LE(4096 + 24 + 128) ? 0 : 4096;
    const cases: [string, Buffer, RegExp][] = [
      ['99%', data.subarray(0, Math.floor(data.length * 0.99)), /page \d+ is past the end of the file: truncated/],
      ['1%', data.subarray(0, Math.floor(data.length * 0.01)), /page \d+ is past the end of the file: truncated/],
      ['empty', Buffer.alloc(0), /the file is empty: truncated/],
      ['last page flipped', flip(data, newestMeta + 24 + 120 + 2), /a meta page that names more pages than its map holds/],
      ['main root flipped', flip(data, newestMeta + 24 + 24 + 48 + 40 + 3), /a meta page that points outside the file/],
      ['magic flipped', flip(data, 4096 + 24), /its second meta page: no LMDB header/],
    ];
    for (const [name, bytes, message] of cases) {
      const copy = join(dir, `copy-${name}`);
      mkdirSync(copy);
      writeFileSync(join(copy, 'wa-guard.mdb'), bytes);
      const run = await spawnCli(['blacklist', 'list', '--store', copy]);
      expect([name, run.code]).toEqual([name, 1]);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    // The store itself, untouched, opens.
    expect((await spawnCli(['blacklist', 'list', '--store', made, '--json'])).code).toBe(0);
  });

  it('a healthy store LMDB left short of the last page its meta names (pages a transaction allocated and freed are never written) opens', async () => {
    const store = await EmbeddedStore.open(dir);
    await store.set('blacklist', [{ key: 'kept', value: '1' }]);
    // What a burst of webhooks does to the inbox: bodies stored and deleted again in one transaction.
    const keys = Array.from({ length: 3000 }, (_, i) => `body-${i}`);
    await store.transact([], () => ({ writes: [...keys.map((key) => ({ namespace: 'webhook-inbox', key, value: 'y'.repeat(300) })), ...keys.map((key) => ({ namespace: 'webhook-inbox', key }))], result: 0 }));
    await store.close();
    const data = readFileSync(join(dir, 'wa-guard.mdb'));
    const newest = data.readBigUInt64LE(24 + 128) > data.readBigUInt64LE(4096 + 24 + 128) ? 0 : 4096;
    const lastPage = Number(data.readBigUInt64LE(newest + 24 + 120));
    expect(lastPage + 1 - data.length / 4096).toBeGreaterThan(64); // what the old check called truncated
    const listed = await spawnCli(['blacklist', 'list', '--store', dir, '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).entries.map((e: { wa_id: string }) => e.wa_id)).toEqual(['kept']);
    expect((await spawnCli(['blacklist', 'add', '+6281234567890', '--store', dir])).code).toBe(0);
  });

  it('a full disk mid-run: one line, exit 1, and the store still opens with what was written before', async () => {
    const small = join(dir, 'small');
    mkdirSync(small);
    // A 2 MiB filesystem of its own needs root (CI runs as root); elsewhere the test is skipped.
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small]).status !== 0) return;
    try {
      const store = join(small, 'store');
      expect((await runCli(['blacklist', 'add', '+6281234567890', '--store', store])).code).toBe(0);
      const list = join(dir, 'many.csv');
      writeFileSync(list, 'phone\n' + Array.from({ length: 40_000 }, (_, i) => `+62812${String(i).padStart(8, '0')}`).join('\n') + '\n');
      // The real process, as a user runs it: lmdb's own printout and late rejections must not show.
      const full = await spawnCli(['blacklist', 'import', list, '--reason', 'x'.repeat(300), '--store', store]);
      expect(full.code).toBe(1);
      expect(full.stderr).toMatch(/^wa-guard: store .*: no space left on device/);
      expect(full.stderr.trim().split('\n')).toHaveLength(1);
      const listed = await runCli(['blacklist', 'list', '--store', store, '--json']);
      expect(JSON.parse(listed.stdout).entries.map((e: { wa_id: string }) => e.wa_id)).toContain('6281234567890');
    } finally {
      spawnSync('umount', ['-l', small]);
    }
  });
});

/** A copy of `data` with one bit of the byte at `at` flipped. */
function flip(data: Buffer, at: number): Buffer {
  const copy = Buffer.from(data);
  copy[at]! ^= 0x40;
  return copy;
}
