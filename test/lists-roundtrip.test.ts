import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { run } from '../src/cli.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { RedisStore } from '../src/store/redis.js';
import { blacklistWrite, optOutWrite } from '../src/store/lists.js';
import { STATUS } from '../src/store/status-cache.js';
import type { Store } from '../src/store/store.js';
import { readCsv, runCli, tempDir } from './helpers.js';

const redisBase = inject('redisUrl');
const DAY = 86_400_000;

/** Every kind of entry the tool writes: by hand, by a send (a strike that lapses), by webhooks, in three countries. */
async function fill(store: Store): Promise<void> {
  const now = new Date();
  const earlier = new Date(now.getTime() - 3 * DAY);
  await store.transact([], () => ({
    writes: [
      blacklistWrite(undefined, { waId: '447400123456', reason: 'complained', source: 'manual' }, earlier),
      blacklistWrite(JSON.stringify({ reason: 'complained', source: 'manual', first_seen: earlier.toISOString(), last_seen: earlier.toISOString(), strikes: 1 }),
        { waId: '6281234567890', reason: 'asked us by phone', source: 'manual' }, now),
      blacklistWrite(undefined, { waId: '14155552671', reason: 'undeliverable (131026)', source: 'send', ttlMs: 90 * DAY }, now),
      optOutWrite({ waId: '447400123456', source: 'webhook:STOP', reason: 'said STOP' }, earlier.toISOString()),
      optOutWrite({ waId: '5511987654321', source: 'manual', scope: 'marketing', reason: 'called the shop' }, now.toISOString()),
      { namespace: 'optout', key: '6281234567899', value: JSON.stringify({ source: 'webhook:STOP', at: now.toISOString() }) },
    ],
    result: undefined,
  }));
}

/** A fresh store of each backend, by its --store argument. */
const backends: [string, (dir: string, n: number) => Promise<string>][] = [
  ['embedded', async (dir, n) => join(dir, `store${n}`)],
];
if (redisBase) {
  backends.push(['redis', async (_dir, n) => {
    const url = `${redisBase}/${10 + n}`;
    const redis = new Redis(url);
    await redis.flushdb();
    await redis.quit();
    return url;
  }]);
}
/** A file's lines, sorted: a Redis store lists in no order. */
const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').sort();
const open = (spec: string): Promise<Store> => (spec.startsWith('redis://') ? RedisStore.open(spec) : EmbeddedStore.open(spec));

describe.each(backends)('an export imported again is the same list (%s store)', (_name, fresh) => {
  it('blacklist and opt-outs, CSV and JSON, with and without -c, field for field, expiry included', async () => {
    const dir = tempDir();
    const first = await fresh(dir, 1);
    const s = await open(first);
    await fill(s);
    await s.close();
    for (const list of ['blacklist', 'optout']) {
      for (const [format, country] of [['csv', []], ['csv', ['-c', 'ID']], ['jsonl', []]] as const) {
        const file = join(dir, `${list}.${format}`);
        const json = format === 'jsonl' ? ['--json'] : [];
        expect((await runCli([list, 'export', file, ...json, '--store', first])).code).toBe(0);
        const second = await fresh(dir, 2);
        const imported = await runCli([list, 'import', file, ...country, '--store', second]);
        expect(imported.stderr).toBe(`${list}: 3 numbers imported from 3 rows\n`);
        const again = join(dir, `again.${format}`);
        expect((await runCli([list, 'export', again, ...json, '--store', second])).code).toBe(0);
        expect(lines(again)).toEqual(lines(file));
      }
    }
    const exported = readCsv(join(dir, 'blacklist.csv'));
    expect(exported.find((r) => r.wa_id === '14155552671')!.expires).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(exported.find((r) => r.wa_id === '6281234567890')).toMatchObject({ reason: 'asked us by phone', strikes: '2' });
    // The store lets the imported entry lapse when the exported one would have.
    const second = await open(await fresh(dir, 2));
    try {
      await runCli(['blacklist', 'import', join(dir, 'blacklist.csv'), '--store', second.location]);
      if (second.backend === 'redis') {
        const redis = new Redis(second.location);
        expect(await redis.pttl('wa-guard:blacklist:14155552671')).toBeGreaterThan(89 * DAY);
        expect(await redis.pttl('wa-guard:blacklist:447400123456')).toBe(-1);
        await redis.quit();
      }
    } finally {
      await second.close();
    }
  });
});

describe('list import names what it skips', () => {
  it('each skipped row, with why, on stderr (the first few) and in --rejects FILE (all)', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = join(dir, 'blacklist.csv');
    writeFileSync(file, [
      'wa_id,reason,source,first_seen,last_seen,strikes,expires',
      '447400123456,complained,manual,2026-11-01T00:00:00.000Z,2026-11-02T00:00:00.000Z,1,',
      '4474001,complained,manual,,,,',
      'call me,complained,manual,,,,',
      '6281234567890,x,manual,,,two,',
      '6281234567891,x,manual,yesterday,,,',
      '6281234567892,x,send,,,1,2020-01-01T00:00:00.000Z',
      ',x,manual,,,,',
      '6281234567893,x,manual,,,,',
    ].join('\n') + '\n');
    const result = await runCli(['blacklist', 'import', file, '--rejects', join(dir, 'rejects.csv'), '--store', store]);
    expect(result.code).toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('blacklist: 2 numbers imported from 8 rows; 6 rows skipped:');
    expect(lines.slice(1, 6)).toEqual([
      expect.stringMatching(/^ {2}line 3: wa_id "4474001": no country code/),
      expect.stringMatching(/^ {2}line 4: wa_id "call me": contains letters/),
      '  line 5: strikes "two" is not a count (1 or more)',
      expect.stringMatching(/^ {2}line 6: first_seen "yesterday" is not a date/),
      '  line 7: expired on 2020-01-01T00:00:00.000Z',
    ]);
    expect(lines[6]).toBe(`  … and 1 more; all in ${join(dir, 'rejects.csv')}`);
    const rejects = readCsv(join(dir, 'rejects.csv'));
    expect(rejects.map((r) => [r.line, r.wa_id, r.reject_reason])).toEqual([
      ['3', '4474001', expect.stringMatching(/no country code/)],
      ['4', 'call me', expect.stringMatching(/contains letters/)],
      ['5', '6281234567890', expect.stringMatching(/strikes/)],
      ['6', '6281234567891', expect.stringMatching(/first_seen/)],
      ['7', '6281234567892', 'expired on 2020-01-01T00:00:00.000Z'],
      ['8', '', 'no number in wa_id'],
    ]);
    const listed = JSON.parse((await runCli(['blacklist', 'list', '--json', '--store', store])).stdout);
    expect(listed.entries).toEqual([
      { wa_id: '447400123456', reason: 'complained', source: 'manual', first_seen: '2026-11-01T00:00:00.000Z', last_seen: '2026-11-02T00:00:00.000Z', strikes: 1, expires: '' },
      expect.objectContaining({ wa_id: '6281234567893', reason: 'x', strikes: 1 }),
    ]);
    // Without --rejects, the summary says how to get them all.
    const again = await runCli(['blacklist', 'import', file, '--store', join(dir, 'other')]);
    expect(again.stderr).toMatch(/… and 1 more; --rejects FILE writes every skipped row with its reason\n$/);
  });

  it('reads an old cache export (e164 with +) and a --reason over the file\'s', async () => {
    const dir = tempDir();
    const file = join(dir, 'cache.csv');
    writeFileSync(file, 'e164,status,wa_id,checked_at,source\n+6281234567890,invalid,,2026-11-20T00:00:00.000Z,contacts:x\n');
    const result = await runCli(['blacklist', 'import', file, '--reason', 'not on whatsapp', '--store', join(dir, 'store'), '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({ imported: 1, rows: 1, skipped: 0 });
    const listed = JSON.parse((await runCli(['blacklist', 'list', '--json', '--store', join(dir, 'store')])).stdout);
    expect(listed.entries).toEqual([expect.objectContaining({ wa_id: '6281234567890', reason: 'not on whatsapp', source: 'contacts:x' })]);
  });
});

describe('numbers in the tool\'s own form', () => {
  it('a wa_id needs no -c, and a foreign one is read under -c', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    expect((await runCli(['blacklist', 'add', '447400123456', '--store', store])).code).toBe(0);
    expect((await runCli(['optout', 'add', '447400123456', '-c', 'ID', '--store', store])).code).toBe(0);
    expect((await runCli(['blacklist', 'add', '0812 3456 7890', '-c', 'ID', '--store', store])).code).toBe(0);
    const removed = await runCli(['blacklist', 'remove', '447400123456', '6281234567890', '-c', 'ID', '--json', '--store', store]);
    expect(JSON.parse(removed.stdout)).toEqual({ removed: ['447400123456', '6281234567890'], not_found: [] });
    const optout = await runCli(['optout', 'remove', '447400123456', '--json', '--store', store]);
    expect(JSON.parse(optout.stdout)).toEqual({ removed: ['447400123456'], not_found: [] });
  });

  it('says so when digits read as a wa_id could also be a national number under -c', async () => {
    const dir = tempDir();
    const added = await runCli(['blacklist', 'add', '81234567890', '-c', 'ID', '--json', '--store', join(dir, 'store')]);
    expect(JSON.parse(added.stdout)).toEqual({ added: ['81234567890'] });
    expect(added.stderr).toMatch(/note: read 81234567890 as the wa_id \+81234567890; if you meant \+6281234567890, give it so/);
  });

  it('clean --blacklist reads wa-guard\'s own blacklist.csv (wa_ids of any country) under -c', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'contacts.csv'), 'name,phone\nAmy,+44 7400 123456\nAni,0812-3456-7890\n');
    writeFileSync(join(dir, 'blacklist.csv'), 'wa_id,reason,source,first_seen,last_seen,strikes,expires\n447400123456,complained,manual,,,1,\n');
    const clean = await runCli(['clean', join(dir, 'contacts.csv'), '-c', 'ID', '--blacklist', join(dir, 'blacklist.csv'), '-o', join(dir, 'out'), '--json']);
    expect(clean.stderr).not.toMatch(/ignored/);
    expect(JSON.parse(clean.stdout).purged_by_reason.blacklisted).toBe(1);
  });

  it('joins the words of one number the shell split', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const added = await runCli(['blacklist', 'add', '+62', '812-3456-7890', '0812', '3456', '7891', '447400123456', '-c', 'ID', '--json', '--store', store]);
    expect(JSON.parse(added.stdout)).toEqual({ added: ['6281234567890', '6281234567891', '447400123456'] });
    const removed = await runCli(['blacklist', 'remove', '+62', '812-3456-7890', '-c', 'ID', '--json', '--store', store]);
    expect(JSON.parse(removed.stdout)).toEqual({ removed: ['6281234567890'], not_found: [] });
    const bad = await runCli(['blacklist', 'add', '+62', '812', '--store', store]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"\+62" is not a phone number we can read: .*a number written with spaces needs quotes/);
  });
});

describe('opt-out reasons', () => {
  it('optout add --reason is recorded, listed, exported and filtered on', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    expect((await runCli(['optout', 'add', '+447400123456', '--reason', 'called the shop', '--store', store])).code).toBe(0);
    expect((await runCli(['optout', 'add', '+6281234567890', '--store', store])).code).toBe(0);
    expect((await runCli(['optout', 'list', '--store', store])).stdout).toMatch(/447400123456\s+all\s+called the shop\s+manual/);
    const found = JSON.parse((await runCli(['optout', 'list', '--reason', 'called', '--json', '--store', store])).stdout);
    expect(found).toMatchObject({ total: 1, entries: [{ wa_id: '447400123456', scope: 'all', reason: 'called the shop', source: 'manual' }] });
    await runCli(['optout', 'export', join(dir, 'optout.csv'), '--store', store]);
    expect(readCsv(join(dir, 'optout.csv')).map((r) => [r.wa_id, r.reason])).toEqual([['447400123456', 'called the shop'], ['6281234567890', '']]);
  });
});

describe('list limits, expiry and the cache', () => {
  it('list shows 200 rows by default, --limit N or all with 0, and when each entry expires', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = join(dir, 'many.csv');
    writeFileSync(file, 'wa_id,expires\n' + Array.from({ length: 205 }, (_, i) => `62812${String(i).padStart(8, '0')},2099-01-01T00:00:00.000Z`).join('\n') + '\n');
    expect((await runCli(['blacklist', 'import', file, '--store', store])).code).toBe(0);
    const rowsOf = (out: string): string[] => out.split('\n').filter((l) => /^62812/.test(l));
    const all = await runCli(['blacklist', 'list', '--store', store]);
    expect(all.stdout.split('\n')[0]).toMatch(/^wa_id\s+reason\s+source\s+first_seen\s+last_seen\s+strikes\s+expires$/);
    expect(rowsOf(all.stdout)).toHaveLength(200);
    expect(rowsOf(all.stdout)[0]).toMatch(/\s2099-01-01T00:00:00\.000Z$/);
    expect(all.stdout).toMatch(/… and 5 more \(--limit 0 shows all/);
    expect(rowsOf((await runCli(['blacklist', 'list', '--limit', '0', '--store', store])).stdout)).toHaveLength(205);
    expect(rowsOf((await runCli(['blacklist', 'list', '--limit', '3', '--store', store])).stdout)).toHaveLength(3);
    expect((await runCli(['blacklist', 'list', '--limit', 'all', '--store', store])).code).toBe(2);
  });

  it('cache list and export write wa_ids; cache clear asks on a terminal and wants --yes in a script', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const s = await EmbeddedStore.open(store);
    const at = '2026-11-20T00:00:00.000Z';
    await s.set(STATUS, [
      { key: '+6281234567890', value: JSON.stringify({ status: 'invalid', checked_at: at, source: 'contacts:x' }) },
      { key: '+5215512345678', value: JSON.stringify({ status: 'valid', wa_id: '5215512345678', checked_at: at, source: 'contacts:x' }) },
    ]);
    await s.close();
    expect((await runCli(['cache', 'list', '--store', store])).stdout).toMatch(/^wa_id\s+status\s+answered_wa_id\s+checked_at\s+source\n(.*\n)*6281234567890\s+invalid\s+2026-11-20/);
    await runCli(['cache', 'export', join(dir, 'cache.csv'), '--store', store]);
    expect(readCsv(join(dir, 'cache.csv')).map((r) => r.wa_id).sort()).toEqual(['5215512345678', '6281234567890']);

    const refused = await runCli(['cache', 'clear', '--store', store]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    expect(await terminal(['cache', 'clear', '--store', store], 'n\n')).toMatchObject({ code: 0, stderr: expect.stringMatching(/delete all 2 entries .*\[y\/N\] cache: not cleared/) });
    expect((await runCli(['cache', 'list', '--store', store])).stdout).toMatch(/2 entries/);
    expect(await terminal(['cache', 'clear', '--store', store], 'y\n')).toMatchObject({ code: 0, stderr: expect.stringMatching(/cache: cleared 2 entries/) });
    await runCli(['blacklist', 'list', '--store', store]);
    expect((await runCli(['cache', 'list', '--store', store])).stdout).toMatch(/0 entries/);
    expect(JSON.parse((await runCli(['cache', 'clear', '--yes', '--json', '--store', store])).stdout)).toEqual({ cleared: 0 });
  });
});

/** Runs the CLI in-process with stdin a terminal that types `typed`. */
async function terminal(args: string[], typed: string): Promise<{ code: number; stderr: string }> {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (b: Buffer) => { text += b; });
  stdout.resume();
  stderr.once('data', () => stdin.write(typed));
  const code = await run(args, { stdin, stdout, stderr, env: { HOME: tempDir() }, cwd: tempDir() });
  return { code, stderr: text };
}
