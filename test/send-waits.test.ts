import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { openStore } from '../src/store/open.js';
import { BIN, FIXTURES, readCsv, runCli, tempDir } from './helpers.js';

const TOKEN = 'test-token';
const PHONE_ID = '100000000000001';
const env = { WA_GUARD_TOKEN: TOKEN };

const servers: Server[] = [];
const simulators: Simulator[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const s of simulators.splice(0)) await s.close();
});

/** A /messages endpoint that answers each request as `answer` says (by the recipient); counts requests. */
async function endpoint(answer: (to: string, res: ServerResponse, req: IncomingMessage) => void): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (part) => { body += part; });
    req.on('end', () => {
      const to = String(JSON.parse(body).to);
      requests.push(to);
      answer(to, res, req);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** Meta's error answer. */
function metaError(res: ServerResponse, status: number, code: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message: `(#${code}) limit`, type: 'OAuthException', code } }));
}

async function simulator(): Promise<Simulator> {
  const sim = await startSimulator({ token: TOKEN, registeredFraction: 1, pairIntervalMs: 0 });
  simulators.push(sim);
  return sim;
}

/** A campaign of `rows` utility templates to `to(i)` (default: distinct Indonesian mobiles). */
function campaign(dir: string, rows: number, to = (i: number): string => `+62 812 ${String(i).padStart(8, '0')}`): string {
  const path = join(dir, 'c.csv');
  const lines = Array.from({ length: rows }, (_, i) => `${i + 1},${to(i + 1)},order_update,en_US,A-${i},today`);
  writeFileSync(path, `id,to,template,language,param_1,param_2\n${lines.join('\n')}\n`);
  return path;
}

function sendArgs(url: string, input: string, dir: string, extra: string[] = []): string[] {
  return ['send', input, '--campaign-id', 'c1', '--phone-number-id', PHONE_ID, '--api-url', url, '--templates', join(FIXTURES, 'templates.json'),
    '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--json', '--tier', 'unlimited', ...extra];
}

function results(dir: string): Record<string, string>[] {
  return readCsv(join(dir, 'out', 'results.csv'));
}

/** Spawns the CLI; `until` says when to act (signal it, kill it); how it ended, and how long it took after the signal. */
async function spawnUntil(args: string[], until: () => Promise<void>, signal: NodeJS.Signals = 'SIGINT') {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: tempDir(), ...env } });
  let stderr = '';
  child.stderr.on('data', (b) => { stderr += b; });
  const closed = new Promise<number | null>((r) => child.once('close', r));
  await until();
  const at = Date.now();
  child.kill(signal);
  const code = await closed;
  return { code, stderr, ms: Date.now() - at };
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setTimeout(r, 300)); // the sender is in its wait now
}

/** Writes journal entries of campaign c1 into the embedded store at `dir`/store, as another process would. */
async function writeJournal(dir: string, entries: Record<string, object>): Promise<void> {
  const store = await openStore(join(dir, 'store'), {}, dir);
  await store.set('journal', Object.entries(entries).map(([key, entry]) => ({ key: `c1:${key}`, value: JSON.stringify(entry) })));
  await store.sync();
  await store.close();
}

describe('send: every wait is bounded', () => {
  it('80007 on every request: stops after --throttle-timeout (exit 4, the code, a hint), rows left for the next run, which sends them', async () => {
    const dir = tempDir();
    const input = campaign(dir, 5);
    const limited = await endpoint((_, res) => metaError(res, 400, 80007));
    const run = await runCli(sendArgs(limited.url, input, dir, ['--throttle-timeout', '2s']), { env });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^wa-guard: Meta stopped the campaign: 80007 WABA rate limit reached: Meta answered only rate limits for 2 s.*--throttle-timeout.*run the same command again to resume/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(results(dir).map((r) => r.status)).toEqual(['deferred', 'deferred', 'deferred', 'deferred', 'deferred']);
    expect(JSON.parse(run.stdout).stopped).toMatchObject({ code: 80007 });

    const sim = await simulator();
    const resumed = await runCli(sendArgs(sim.url, input, dir), { env });
    expect(resumed.code).toBe(0);
    expect(results(dir).map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
  });

  it('an API it cannot reach: exit 1, one line naming it, nothing failed, and a re-run with the right URL sends every row', async () => {
    const dir = tempDir();
    const input = campaign(dir, 52);
    const sim = await simulator();
    const port = Number(new URL(sim.url).port);
    await simulators.pop()!.close();
    const run = await runCli(sendArgs(`http://127.0.0.1:${port}`, input, dir), { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^wa-guard: cannot reach http://127\\.0\\.0\\.1:${port}/v21\\.0/${PHONE_ID}/messages: ECONNREFUSED.*check --api-url.*0 sent, the rest not sent \\(left for the next run\\); run the same command again`));
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    const first = results(dir);
    expect(first).toHaveLength(52);
    expect(first.filter((r) => r.status !== 'deferred')).toEqual([]);

    const back = await startSimulator({ token: TOKEN, registeredFraction: 1 }, { port });
    simulators.push(back);
    const again = await runCli(sendArgs(back.url, input, dir), { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).statuses.sent).toBe(52);
    expect(back.stats().messages_accepted).toBe(52);
  });

  it('--retry-failed sends again the rows Meta failed for a retryable reason, never a 131026', async () => {
    const dir = tempDir();
    const input = campaign(dir, 4);
    // 131016 (service unavailable) for rows 1-3, 131026 for row 4
    const flaky = await endpoint((to, res) => metaError(res, to.endsWith('4') ? 400 : 503, to.endsWith('4') ? 131026 : 131016));
    const run = await runCli(sendArgs(flaky.url, input, dir, ['--max-attempts', '1']), { env });
    expect(run.code).toBe(0);
    expect(results(dir).map((r) => [r.status, r.error_code])).toEqual([['failed', '131016'], ['failed', '131016'], ['failed', '131016'], ['failed', '131026']]);
    const sim = await simulator();
    const plain = await runCli(sendArgs(sim.url, input, dir), { env });
    expect(JSON.parse(plain.stdout).sending.requests).toBe(0);
    const retried = await runCli(sendArgs(sim.url, input, dir, ['--retry-failed']), { env });
    expect(retried.code).toBe(0);
    expect(results(dir).map((r) => [r.status, r.error_code])).toEqual([['sent', ''], ['sent', ''], ['sent', ''], ['failed', '131026']]);
    expect(sim.stats().messages_accepted).toBe(3);
  });
});

describe('send: Ctrl-C at every wait point ends at once and writes what the run knows', () => {
  /** SIGINT once the server saw `requests`; exit 130 soon, results and summary written. */
  async function interrupted(dir: string, args: string[], ready: () => boolean) {
    const run = await spawnUntil(args, () => waitFor(ready));
    expect(run.stderr).toMatch(/interrupted by SIGINT/);
    expect(run.code).toBe(130);
    expect(run.ms).toBeLessThan(5000);
    expect(existsSync(join(dir, 'out', 'summary.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')).interrupted).toBe('SIGINT');
    return results(dir);
  }

  it.each([
    ['a backoff after 131016', (res: ServerResponse) => metaError(res, 503, 131016)],
    ['a backoff after 80007', (res: ServerResponse) => metaError(res, 400, 80007)],
    ['a Retry-After of 60 s on a bare 429', (res: ServerResponse) => { res.writeHead(429, { 'retry-after': '60' }); res.end(); }],
  ])('%s', async (_, answer) => {
    const dir = tempDir();
    const server = await endpoint((__, res) => answer(res));
    const rows = await interrupted(dir, sendArgs(server.url, campaign(dir, 4), dir, ['--max-attempts', '50']), () => server.requests.length >= 4);
    expect(rows.map((r) => r.status)).toEqual(['deferred', 'deferred', 'deferred', 'deferred']);
    expect(rows[0]!.detail).toMatch(/^not sent: interrupted while it waited; run again to resume/);
  });

  it('the pacing wait (--mps 1)', async () => {
    const dir = tempDir();
    const sim = await simulator();
    const rows = await interrupted(dir, sendArgs(sim.url, campaign(dir, 40), dir, ['--mps', '1']), () => sim.stats().messages_accepted >= 1);
    expect(rows.filter((r) => r.status === 'unknown')).toEqual([]);
    expect(rows.filter((r) => r.status === 'sent').length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.status === 'deferred').length).toBeGreaterThan(30);
  });

  it('the wait between two messages to one user (--pair-interval)', async () => {
    const dir = tempDir();
    const sim = await simulator();
    const rows = await interrupted(dir, sendArgs(sim.url, campaign(dir, 3, () => '+62 812 0000 0001'), dir, ['--pair-interval', '60s']), () => sim.stats().messages_accepted >= 1);
    expect(rows.map((r) => r.status)).toEqual(['sent', 'deferred', 'deferred']);
  });

  it('the wait for a row another process is sending', async () => {
    const dir = tempDir();
    const sim = await simulator();
    const input = campaign(dir, 2);
    // Row 1 is claimed by a live process (this test's).
    await writeJournal(dir, { 1: { status: 'inflight', attempts: 0, at: new Date().toISOString(), to: '6281200000001', owner: `${hostname()}:${process.pid}` } });
    const rows = await interrupted(dir, sendArgs(sim.url, input, dir), () => sim.stats().messages_accepted >= 1);
    expect(rows.map((r) => [r.status, r.detail])).toEqual([['unknown', 'in flight in another process'], ['sent', '']]);
  });
});

describe('send: a crash, then a resume at once', () => {
  it('rows claimed but never sent are sent; only the row whose request had left is unknown', async () => {
    const dir = tempDir();
    const input = campaign(dir, 6);
    // Row 1's request is taken and never answered; the others are rate limited, and wait.
    const server = await endpoint((to, res) => {
      if (to !== '+6281200000001') metaError(res, 400, 80007, { 'retry-after': '30' });
    });
    const crashed = await spawnUntil(sendArgs(server.url, input, dir), () => waitFor(() => server.requests.length >= 6), 'SIGKILL');
    expect(crashed.code).toBe(null);

    const sim = await simulator();
    const resumed = await runCli(sendArgs(sim.url, input, dir), { env });
    expect(resumed.code).toBe(0);
    const rows = results(dir);
    expect(rows.map((r) => r.status)).toEqual(['unknown', 'sent', 'sent', 'sent', 'sent', 'sent']);
    expect(rows[0]!.detail).toMatch(/in flight when an earlier run stopped: it may have been sent/);
    expect(sim.stats().messages_accepted).toBe(5);
    // --resend-unknown sends that one too, at once.
    const resent = await runCli(sendArgs(sim.url, input, dir, ['--resend-unknown']), { env });
    expect(JSON.parse(resent.stdout).statuses.sent).toBe(6);
  });
});

describe('send: a row\'s outcome is the answer it got', () => {
  it('a row another process is sending to a number blacklisted meanwhile reports that process\'s answer, not "blocked"', async () => {
    const dir = tempDir();
    const sim = await simulator();
    const input = campaign(dir, 2);
    const waId = '6281200000001';
    await writeJournal(dir, { 1: { status: 'inflight', attempts: 1, at: new Date().toISOString(), to: waId, owner: `${hostname()}:${process.pid}`, written: true } });
    expect((await runCli(['blacklist', 'add', `+${waId}`, '--store', join(dir, 'store'), '--reason', 'undeliverable (131026)'])).code).toBe(0);
    const send = runCli(sendArgs(sim.url, input, dir), { env });
    await new Promise((r) => setTimeout(r, 1000));
    // The other process got its answer: 131026.
    await writeJournal(dir, { 1: { status: 'failed', attempts: 1, at: new Date().toISOString(), to: waId, code: 131026, title: 'Message undeliverable', reason: 'not on WhatsApp (or cannot receive): blacklisted' } });
    const run = await send;
    expect(run.code).toBe(0);
    expect(results(dir).map((r) => [r.status, r.error_code, r.attempts])).toEqual([['failed', '131026', '1'], ['sent', '', '1']]);
  });

  it.each([[1, 1], [3, 3]])('--strikes %i: the blacklist entry says the %i strikes counted, and no count is left over', async (strikes, expected) => {
    const dir = tempDir();
    const sim = await startSimulator({ token: TOKEN, registeredFraction: 1, pairIntervalMs: 0, undeliverable: 'sync', unregistered: ['+6281200000001'] });
    simulators.push(sim);
    const input = campaign(dir, 4, () => '+62 812 0000 0001');
    const run = await runCli(sendArgs(sim.url, input, dir, ['--strikes', String(strikes), '--pair-interval', '0s', '--concurrency', '1']), { env });
    expect(run.code).toBe(0);
    expect(results(dir).map((r) => [r.status, r.error_code])).toEqual(Array(4).fill(['failed', '131026']));
    const listed = JSON.parse((await runCli(['blacklist', 'list', '--store', join(dir, 'store'), '--json'])).stdout);
    expect(JSON.stringify(listed)).toMatch(new RegExp(`"strikes":${expected}\\b`));
    const store = await openStore(join(dir, 'store'), {}, dir);
    expect(await store.get('strikes', ['6281200000001'])).toEqual([undefined]);
    await store.close();
  });
});
