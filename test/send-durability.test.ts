import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { journalValue } from '../src/send/journal.js';
import { BIN, FIXTURES, readCsv, runCli, spawnCli, tempDir } from './helpers.js';
import { AOF_ALWAYS, VOLATILE, hasRedisServer, startRedis } from './redis-server.js';

const TOKEN = 'test-token';
const PHONE_ID = '100000000000001';
const env = { WA_GUARD_TOKEN: TOKEN };
const running: { close(): Promise<void> }[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.close();
});

async function simulator(): Promise<Simulator> {
  const sim = await startSimulator({ token: TOKEN, registeredFraction: 1 });
  running.push(sim);
  return sim;
}

function campaign(dir: string, rows: number): string {
  const path = join(dir, 'c.csv');
  const lines = Array.from({ length: rows }, (_, i) => `${i + 1},+62 812 ${String(i).padStart(8, '0')},order_update,en_US,A-${i},today`);
  writeFileSync(path, `id,to,template,language,param_1,param_2\n${lines.join('\n')}\n`);
  return path;
}

function send(sim: Simulator, dir: string, store: string, extra: string[] = []): string[] {
  return ['send', join(dir, 'c.csv'), '-c', 'ID', '--phone-number-id', PHONE_ID, '--api-url', sim.url, '--templates', join(FIXTURES, 'templates.json'),
    '-o', join(dir, 'out'), '--store', store, '--json', '--tier', 'unlimited', '--mps', '1000', ...extra];
}

const statuses = (dir: string): string[] => readCsv(join(dir, 'out', 'results.csv')).map((r) => r.status!);

describe('a live send whose store may lose its journal', () => {
  it.skipIf(!hasRedisServer())('Redis without an AOF is refused; accepted with --allow-volatile-store; restarted empty, the resume refuses instead of sending again', async () => {
    const dir = tempDir();
    campaign(dir, 30);
    const sim = await simulator();
    const redis = await startRedis(VOLATILE);
    running.push({ close: redis.stop });
    const refused = await runCli(send(sim, dir, redis.url), { env });
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringMatching(/^wa-guard: store redis:\/\/127\.0\.0\.1:\d+: Redis [\d.]+ keeps no append-only file \(appendonly no\).*--allow-volatile-store/)]);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(sim.stats().messages_accepted).toBe(0);

    const accepted = await runCli(send(sim, dir, redis.url, ['--allow-volatile-store']), { env });
    expect(accepted.code).toBe(0);
    const summary = JSON.parse(accepted.stdout);
    expect(summary.store.durability).toMatch(/^volatile, accepted with --allow-volatile-store/);
    expect(summary.problems).toContainEqual(expect.stringMatching(/may lose the send journal in a crash/));
    expect(sim.stats().messages_accepted).toBe(30);

    // The fault trial: Redis killed and started again without its data; the resume must not send 30 again.
    await redis.kill();
    const again = await startRedis(VOLATILE);
    running.push({ close: again.stop });
    const resume = await runCli(send(sim, dir, again.url, ['--allow-volatile-store']), { env });
    expect(resume.code).toBe(2);
    expect(resume.stderr).toMatch(/its last send of campaign \w+ used another store .*nothing was sent: point --store at the store that run used; to send this campaign again on purpose, give a new --out-dir/);
    expect(sim.stats().messages_accepted).toBe(30);
  });

  it.skipIf(!hasRedisServer())('Redis 7.0 with appendfsync everysec is refused; with appendfsync always it sends', async () => {
    const dir = tempDir();
    campaign(dir, 5);
    const sim = await simulator();
    const everysec = await startRedis(['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec']);
    running.push({ close: everysec.stop });
    const refused = await runCli(send(sim, dir, everysec.url), { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/appendfsync everysec, not always, and is older than 7\.2 \(no WAITAOF\)/);
    const always = await startRedis(AOF_ALWAYS);
    running.push({ close: always.stop });
    const ok = await runCli(send(sim, dir, always.url), { env });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).store).toMatchObject({ backend: 'redis', identity: expect.stringMatching(/^[0-9a-f-]{36}$/), durability: expect.stringMatching(/appendfsync always/) });
    expect(sim.stats().messages_accepted).toBe(5);
  });
});

describe('an embedded store emptied, replaced or lying', () => {
  it('emptied (truncate -s 0): refused before LMDB takes it for a new store; replaced: the resume refuses; nothing sent twice', async () => {
    const dir = tempDir();
    campaign(dir, 20);
    const sim = await simulator();
    const store = join(dir, 'store');
    expect((await runCli(send(sim, dir, store), { env })).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')).store.identity).toMatch(/^[0-9a-f-]{36}$/);

    truncateSync(join(store, 'wa-guard.mdb'), 0);
    const emptied = await runCli(send(sim, dir, store), { env });
    expect(emptied.code).toBe(1);
    expect(emptied.stderr).toMatch(/the data file wa-guard.mdb is damaged or not a wa-guard store \(the file is empty: truncated\)/);

    rmSync(store, { recursive: true });
    const replaced = await runCli(send(sim, dir, store), { env });
    expect(replaced.code).toBe(2);
    expect(replaced.stderr).toMatch(/used another store/);
    expect(sim.stats().messages_accepted).toBe(20);
    expect(sim.stats().max_per_recipient).toBe(1);
  });

  it('killed mid-send before any summary was written, then the store replaced: the resume refuses', async () => {
    const dir = tempDir();
    campaign(dir, 100);
    const sim = await simulator();
    const store = join(dir, 'store');
    const child = spawn(process.execPath, [BIN, ...send(sim, dir, store, ['--mps', '20'])], { env: { PATH: process.env.PATH, HOME: dir, ...env }, stdio: 'ignore' });
    for (let i = 0; i < 400 && sim.stats().messages_accepted < 5; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const sent = sim.stats().messages_accepted;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(100);
    rmSync(store, { recursive: true });
    const resume = await runCli(send(sim, dir, store), { env });
    expect(resume.code).toBe(2);
    expect(resume.stderr).toMatch(/its last send of campaign \w+ used another store/);
    expect(sim.stats().messages_accepted).toBe(sent);
  });

  it('the out-dir mark lasts only until the summary is written, or while nothing was sent', async () => {
    const dir = tempDir();
    campaign(dir, 3);
    const sim = await simulator();
    expect((await runCli(send(sim, dir, join(dir, 'store')), { env })).code).toBe(0);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['results.csv', 'summary.json']);
    // Into another out-dir, with every row already settled in the journal: no request, and no mark left behind either.
    const again = await runCli(send(sim, join(dir, 'second'), join(dir, 'store')).map((a) => a.replace(join(dir, 'second', 'c.csv'), join(dir, 'c.csv'))), { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).sending.requests).toBe(0);
    expect(readdirSync(join(dir, 'second', 'out')).sort()).toEqual(['results.csv', 'summary.json']);
  });

  it('results that report rows sent which the journal does not know: refused (a summary from before identities too)', async () => {
    const dir = tempDir();
    campaign(dir, 10);
    const sim = await simulator();
    expect((await runCli(send(sim, dir, join(dir, 'store')), { env })).code).toBe(0);
    const summaryPath = join(dir, 'out', 'summary.json');
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8'));
    delete summary.store.identity; // an out-dir written before identities
    writeFileSync(summaryPath, JSON.stringify(summary));
    const other = await runCli(send(sim, dir, join(dir, 'other-store')), { env });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/results.csv says 10 rows of campaign \w+ were sent \(or may have been\), but the store's journal has no record of them/);
    expect(sim.stats().messages_accepted).toBe(10);
  });

  it('a journal that lies (a sent row rolled back to deferred, a damaged entry): the earlier results and the checksum keep them from going twice', async () => {
    const dir = tempDir();
    campaign(dir, 6);
    const sim = await simulator();
    const storeDir = join(dir, 'store');
    const first = await runCli(send(sim, dir, storeDir), { env });
    const campaignId = JSON.parse(first.stdout).campaign_id;
    const store = await EmbeddedStore.open(storeDir);
    const keys = [`${campaignId}:1`, `${campaignId}:2`];
    const [one, two] = await store.get('journal', keys);
    const due = new Date(Date.now() - 60_000).toISOString();
    await store.set('journal', [
      { key: keys[0]!, value: journalValue({ status: 'deferred', attempts: 0, at: due, not_before: due, to: '6281200000000' }) },
      { key: keys[1]!, value: two!.replace('"attempts":1', '"attempts":0') },
    ]);
    await store.close();
    const resume = await runCli(send(sim, dir, storeDir, ['--resend-unknown']), { env });
    expect(resume.code).toBe(0);
    expect(statuses(dir)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent', 'sent']);
    expect(readCsv(join(dir, 'out', 'results.csv'))[0]!.detail).toMatch(/sent in an earlier run, as results.csv in this --out-dir says; not sent again/);
    expect(sim.stats().messages_accepted).toBe(6);

    // Without the earlier results, the damaged entry alone still reads as unknown: not sent, even with --resend-unknown.
    rmSync(join(dir, 'out'), { recursive: true });
    const again = await EmbeddedStore.open(storeDir);
    await again.set('journal', [{ key: keys[0]!, value: one! }]);
    await again.close();
    expect((await runCli(send(sim, dir, storeDir, ['--resend-unknown']), { env })).code).toBe(0);
    expect(statuses(dir)).toEqual(['sent', 'unknown', 'sent', 'sent', 'sent', 'sent']);
    expect(readCsv(join(dir, 'out', 'results.csv'))[1]!.detail).toMatch(/damaged journal entry/);
    expect(sim.stats().messages_accepted).toBe(6);
    expect(sim.stats().max_per_recipient).toBe(1);
  });
});

describe('store locations that are wrong', () => {
  it('a Redis password with an unencoded / @ or # is never printed; on the command line it is warned about, once', async () => {
    for (const url of ['redis://:pa/ss@127.0.0.1:1/0', 'redis://u:p@ss#word@127.0.0.1:1', 'redis://u:p#ss/x@127.0.0.1:1/2']) {
      const run = await spawnCli(['blacklist', 'list', '--store', url]);
      expect(run.code).toBe(1);
      expect(run.stderr).not.toMatch(/pa\/ss|p@ss|p#ss|DEP0170/);
      expect(run.stderr).toMatch(/^wa-guard: warning: --store holds a password, which other users can see in `ps`: set WA_GUARD_STORE instead\nwa-guard: cannot connect to the Redis store at redis:\/\/u?:\*\*\*@127\.0\.0\.1:1/);
      const quiet = await spawnCli(['blacklist', 'list'], { env: { WA_GUARD_STORE: url } });
      expect(quiet.stderr).not.toMatch(/warning|pa\/ss|p@ss|p#ss|DEP0170/);
    }
  });

  it('--store /proc/self says what is wrong', async () => {
    const run = await spawnCli(['blacklist', 'list', '--store', '/proc/self']);
    expect([run.code, run.stderr]).toEqual([1, 'wa-guard: store /proc/self is on a virtual filesystem (like /proc or /sys) where no data can be kept: use a directory on a disk\n']);
  });
});
