import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../src/store/embedded.js';
import { blacklistWrite, describeBlacklisted, strikeWrites } from '../src/store/lists.js';
import { STATUS } from '../src/store/status-cache.js';
import { FIXTURES, readCsv, runCli, tempDir } from './helpers.js';

describe('blacklist, optout and cache commands', () => {
  it('adds numbers in any format, lists them with filters, exports CSV and JSON, removes them', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const add = await runCli(['blacklist', 'add', '+62 812-3456-7890', '0812 3456 7891', '-c', 'ID', '--reason', 'complained', '--store', store]);
    expect(add.code).toBe(0);
    expect(add.stderr).toMatch(/added 2 numbers/);
    const listed = await runCli(['blacklist', 'list', '--store', store]);
    expect(listed.stdout).toMatch(/^wa_id\s+reason\s+source/);
    expect(listed.stdout).toMatch(/6281234567890\s+complained\s+manual/);
    expect(listed.stdout).toMatch(/2 entries: complained 2/);
    const none = await runCli(['blacklist', 'list', '--reason', 'undeliverable', '--store', store]);
    expect(none.stdout).toMatch(/0 entries/);

    const exported = join(dir, 'blacklist.csv');
    expect((await runCli(['blacklist', 'export', exported, '--store', store])).code).toBe(0);
    expect(readCsv(exported).map((r) => [r.wa_id, r.reason, r.source, r.strikes])).toEqual([
      ['6281234567890', 'complained', 'manual', '1'], ['6281234567891', 'complained', 'manual', '1'],
    ]);
    const json = await runCli(['blacklist', 'export', '-', '--json', '--store', store]);
    expect(JSON.parse(json.stdout.split('\n')[0]!)).toMatchObject({ wa_id: '6281234567890', strikes: 1 });

    const removed = await runCli(['blacklist', 'remove', '+6281234567890', '+6281234567899', '--store', store, '--json']);
    expect(JSON.parse(removed.stdout)).toEqual({ removed: ['6281234567890'], not_found: ['6281234567899'] });
    expect((await runCli(['blacklist', 'list', '--store', store])).stdout).toMatch(/1 entry: complained 1/);
  });

  it('refuses an unreadable number before changing anything (exit 2)', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const result = await runCli(['blacklist', 'add', '+6281234567890', 'call me', '--store', store]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/"call me" is not a phone number/);
    expect((await runCli(['blacklist', 'list', '--store', store])).stdout).toMatch(/0 entries/);
    expect((await runCli(['blacklist', 'frob', '--store', store])).code).toBe(2);
  });

  it('imports another tool\'s suppression list (JSONL, any phone column), and clean then purges those numbers', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const list = join(dir, 'suppressed.jsonl');
    writeFileSync(list, '{"Mobile Phone":"+55 11 98765-4321","note":"bounced"}\n{"Mobile Phone":"n/a"}\n');
    const imported = await runCli(['blacklist', 'import', list, '--reason', 'suppressed elsewhere', '--store', store]);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(/1 number imported from 2 rows; 1 row skipped:\n {2}line 2: Mobile Phone "n\/a": contains letters/);
    const clean = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'out'), '--store', store, '--json']);
    expect(JSON.parse(clean.stdout).purged_by_reason.blacklisted).toBe(1);
    const purged = readCsv(join(dir, 'out', 'purged.csv')).find((r) => r.purge_reason === 'blacklisted')!;
    expect(purged.purge_detail).toMatch(/suppressed elsewhere \(import:suppressed.jsonl/);
  });

  it('opt-outs keep their scope; a marketing opt-out is listed as such', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    expect((await runCli(['optout', 'add', '+447400123456', '--scope', 'marketing', '--store', store])).code).toBe(0);
    expect((await runCli(['optout', 'add', '+447400123456', '--scope', 'sometimes', '--store', store])).code).toBe(2);
    const listed = await runCli(['optout', 'list', '--json', '--store', store]);
    expect(JSON.parse(listed.stdout)).toMatchObject({ total: 1, entries: [{ wa_id: '447400123456', scope: 'marketing', source: 'manual' }] });
    // Widening is allowed; narrowing is not: an opt-out of everything stays one (remove it first).
    expect((await runCli(['optout', 'add', '+447400123456', '--store', store])).code).toBe(0);
    const narrowed = await runCli(['optout', 'add', '+447400123456', '--scope', 'marketing', '--store', store]);
    expect(narrowed.stderr).toContain('stay opted out of everything (447400123456): an opt-out never narrows');
    const after = await runCli(['optout', 'list', '--json', '--store', store]);
    expect(JSON.parse(after.stdout)).toMatchObject({ total: 1, entries: [{ wa_id: '447400123456', scope: 'all' }] });
  });

  it('the status cache can be listed, a number forgotten, and cleared', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const s = await EmbeddedStore.open(store);
    const at = '2026-11-20T00:00:00.000Z';
    await s.set(STATUS, [
      { key: '+6281234567890', value: JSON.stringify({ status: 'invalid', checked_at: at, source: 'contacts:127.0.0.1:9' }) },
      { key: '+5511987654321', value: JSON.stringify({ status: 'valid', wa_id: '551187654321', checked_at: at, source: 'contacts:x' }) },
    ]);
    await s.close();
    const listed = await runCli(['cache', 'list', '--store', store]);
    expect(listed.stdout).toMatch(/\n6281234567890\s+invalid\s+2026-11-20/);
    expect(listed.stdout).toMatch(/2 entries: valid 1, invalid 1|2 entries: invalid 1, valid 1/);
    const forgot = await runCli(['cache', 'forget', '+6281234567890', '--store', store, '--json']);
    expect(JSON.parse(forgot.stdout)).toEqual({ removed: ['6281234567890'], not_found: [] });
    const cleared = await runCli(['cache', 'clear', '--yes', '--store', store, '--json']);
    expect(JSON.parse(cleared.stdout)).toEqual({ cleared: 1 });
    expect(readFileSync(join(FIXTURES, 'blacklist.csv'), 'utf8')).toBeTruthy();
  });

  it('a blacklist entry that cannot be read still blocks, and says it is damaged rather than print blanks', () => {
    expect(describeBlacklisted('garbage')).toBe('on the blacklist: reason unknown (the entry is damaged or foreign) (unknown, 1 strike)');
    expect(describeBlacklisted(JSON.stringify({ reason: 'manual', source: 'cli', first_seen: '2026-11-01T00:00:00Z', strikes: 1 }))).toBe('on the blacklist since 2026-11-01: manual (cli, 1 strike)');
  });

  it('help for a command exits 0', async () => {
    const help = await runCli(['help', 'blacklist']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:/);
  });
});

describe('list entries', () => {
  it('carry the time they were written, whichever times come one after another', () => {
    const item = { waId: '6281234567890', reason: 'undeliverable (131026)', source: 'webhook', ttlMs: 86_400_000 };
    const times = [Date.UTC(2026, 10, 26, 10), Date.UTC(2026, 10, 26, 10), Date.UTC(2026, 10, 27, 8, 30), Date.UTC(2026, 10, 26, 10), Date.UTC(2025, 0, 1)];
    for (const t of times) {
      const now = new Date(t);
      const entry = JSON.parse(blacklistWrite(undefined, item, now).value!);
      expect(entry).toMatchObject({ first_seen: now.toISOString(), last_seen: now.toISOString(), expires: new Date(t + 86_400_000).toISOString() });
      expect(JSON.parse(strikeWrites(undefined, undefined, item, 3, now).writes[0]!.value!).last_seen).toBe(now.toISOString());
    }
  });
});
