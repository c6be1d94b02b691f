import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { lifecycleAfterStatus } from '../src/report/lifecycle.js';
import { forEachMessage } from '../src/report/messages.js';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { openStore } from '../src/store/open.js';
import { FIXTURES, readCsv, runCli, tempDir } from './helpers.js';

const TOKEN = 'test-token';
const env = { WA_GUARD_TOKEN: TOKEN };
const sims: Simulator[] = [];
afterEach(async () => {
  while (sims.length) await sims.pop()!.close();
});

const body = (value: object): string => JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'w', changes: [{ field: 'messages', value }] }] });
const status = (id: string, st: string, at: number, to: string, extra: object = {}): string => body({ statuses: [{ id, status: st, timestamp: String(at), recipient_id: to, ...extra }] });
const inbound = (id: string, from: string, at: number, text: string): string => body({ messages: [{ id, from, timestamp: String(at), type: 'text', text: { body: text } }] });

/** A live campaign sent to the simulator, its webhooks ingested, and a read, a reply and a STOP from its users. */
async function sentCampaign(dir: string): Promise<{ input: string; store: string; campaignId: string }> {
  const hooks = join(dir, 'hooks.jsonl');
  const sim = await startSimulator({ token: TOKEN, registeredFraction: 1, unregistered: ['+6281200000003'], undeliverable: 'async', webhooksOut: hooks });
  sims.push(sim);
  const input = join(dir, 'campaign.csv');
  writeFileSync(input, ['id,to,template,language,param_1,param_2',
    'a,+62 812 0000 0000,order_update,en_US,A-1,today', 'b,+62 812 0000 0001,order_update,en_US,A-2,today',
    'c,+62 812 0000 0002,order_update,en_US,A-3,today', 'd,+62 812 0000 0003,order_update,en_US,A-4,today',
    'e,+1 415 555 2671,spring_sale,en_US,10%,'].join('\n') + '\n');
  const store = join(dir, 'store');
  const send = await runCli(['send', input, '-c', 'ID', '--phone-number-id', '100000000000001', '--api-url', sim.url, '--templates', join(FIXTURES, 'templates.json'),
    '-o', join(dir, 'out'), '--store', store, '--json', '--tier', 'unlimited'], { env });
  expect(send.code, send.stderr).toBe(0);
  await sims.pop()!.close(); // every status webhook written
  const wamid = Object.fromEntries(readCsv(join(dir, 'out', 'results.csv')).map((r) => [r.id, r.wamid]));
  const t = Math.floor(Date.now() / 1000) + 5;
  appendFileSync(hooks, [
    status(wamid.a!, 'read', t, '6281200000000'),
    inbound('wamid.in1', '6281200000000', t + 60, 'thanks!'),
    inbound('wamid.in2', '6281200000001', t + 60, 'STOP'),
  ].join('\n') + '\n');
  const ingest = await runCli(['ingest', hooks, '--store', store, '--json']);
  expect(ingest.code, ingest.stderr).toBe(0);
  return { input, store, campaignId: JSON.parse(send.stdout).campaign_id };
}

describe('report', () => {
  it('shows a live campaign\'s funnel, failures, groups and opt-outs, the same in text, JSON and the files', async () => {
    const dir = tempDir();
    const { input, store, campaignId } = await sentCampaign(dir);
    const json = await runCli(['report', input, '--store', store, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(r.campaign).toMatchObject({ id: campaignId, name: input });
    expect(r.funnel).toMatchObject({ rows: 5, blocked: { total: 1 }, sent: 4, delivered: 3, read: 1, replied: 1, failed: 1, awaiting: 0, rates: { delivered: 0.75, read: 0.3333, replied: 0.3333 } });
    expect(r.failures).toEqual([expect.objectContaining({ code: 131026, count: 1, title: 'Message undeliverable', examples: [{ row_id: 'd', wa_id: '6281200000003' }] })]);
    expect(r.failures[0].wa_guard_did).toContain('strike');
    expect(r.by_template).toEqual([expect.objectContaining({ template: 'order_update', language: 'en_US', sent: 4, delivered: 3, read: 1, failed: 1 })]);
    expect(r.by_country).toEqual([expect.objectContaining({ calling_code: '62', sent: 4, failed: 1 })]);
    expect(r.because_of_it).toEqual({ blacklisted: 1, opted_out: 1, opted_out_by: { 'stop-word': 1 } });
    expect(r.timing.to_delivered_s.p50).toBeGreaterThanOrEqual(0);

    const text = await runCli(['report', campaignId, '--store', store]);
    expect(text.stdout).toMatch(/delivered\s+3\s+75\.0% of sent/);
    expect(text.stdout).toContain('131026');
    expect(text.stdout).toContain('Message undeliverable');

    const out = join(dir, 'report');
    expect((await runCli(['report', campaignId, '--store', store, '-o', out, '-q'])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toEqual(r);
    const rows = Object.fromEntries(readCsv(join(out, 'messages.csv')).map((m) => [m.row_id, m]));
    expect(Object.keys(rows).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(rows.a).toMatchObject({ wa_id: '6281200000000', template: 'order_update', language: 'en_US', status: 'read' });
    expect(rows.a!.read_at).toMatch(/^\d{4}-/);
    expect(rows.a!.replied_at).toMatch(/^\d{4}-/);
    expect(rows.d).toMatchObject({ status: 'failed', error_code: '131026', error_title: 'Message undeliverable' });
    expect(readFileSync(join(out, 'report.html'), 'utf8')).not.toMatch(/https?:\/\/(?!www\.w3)/);
  });

  it('lists the campaigns in the store, and --fail-on exits 3 saying which conditions matched', async () => {
    const dir = tempDir();
    const { input, store, campaignId } = await sentCampaign(dir);
    const list = await runCli(['report', '--store', store, '--json']);
    expect(JSON.parse(list.stdout).campaigns).toEqual([expect.objectContaining({ id: campaignId, name: input, rows: 5, sent: 4, delivered_rate: 0.75, failed: 1, awaiting: 0 })]);
    expect((await runCli(['report', '--store', store])).stdout).toContain(campaignId);

    const failing = await runCli(['report', campaignId, '--store', store, '--json', '--fail-on', 'delivered<0.9,131026>0,awaiting>0']);
    expect(failing.code).toBe(3);
    expect(JSON.parse(failing.stdout).fail_on.matched).toEqual([{ condition: 'delivered<0.9', value: 0.75 }, { condition: '131026>0', value: 1 }]);
    expect(failing.stderr).toContain('--fail-on: delivered<0.9 (0.75), 131026>0 (1)');
    const out = join(dir, 'judged');
    expect((await runCli(['report', campaignId, '--store', store, '-q', '-o', out, '--fail-on', 'awaiting>0,failed>=1'])).code).toBe(3);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).fail_on).toEqual({ conditions: ['awaiting>0', 'failed>=1'], matched: [{ condition: 'failed>=1', value: 1 }] });
    expect((await runCli(['report', campaignId, '--store', store, '-q', '--fail-on', 'read<0.2'])).code).toBe(0);

    const bad = await runCli(['report', campaignId, '--store', store, '--fail-on', 'delivered<<1']);
    expect(bad.code).toBe(2);
    const missing = await runCli(['report', 'no-such-campaign', '--store', store]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no campaign no-such-campaign');
    const typo = await runCli(['report', '--store', `${store}-typo`]); // not a new empty store answering "no campaigns"
    expect([typo.code, typo.stderr]).toEqual([2, `wa-guard: --store ${store}-typo: no store there (nothing has written one yet); check the path, or WA_GUARD_STORE\n`]);
    expect(existsSync(`${store}-typo`)).toBe(false);
  });
});

/** A store holding a sent campaign's journal, fed status webhooks out of order; then its report. */
async function lifecycleThroughIngest(store: string, dir: string): Promise<Record<string, Record<string, string>>> {
  const s = await openStore(store, {}, dir);
  const sent = (to: string, wamid: string): string => JSON.stringify({ status: 'sent', attempts: 1, at: '2026-11-25T10:00:00.000Z', sent_at: '2026-11-25T10:00:00.000Z', wamid, to });
  await s.set('journal', [1, 2, 3, 4].map((i) => ({ key: `cx:${i}`, value: sent(`628111111111${i}`, `wamid.${i}`) })));
  await s.set('wamids', [1, 2, 3, 4].map((i) => ({ key: `wamid.${i}`, value: `cx:${i}` })));
  await s.close();
  const T = Date.parse('2026-11-25T10:00:00.000Z') / 1000;
  writeFileSync(join(dir, 'h.jsonl'), [
    status('wamid.1', 'read', T + 20, '6281111111111'), status('wamid.1', 'delivered', T + 10, '6281111111111'), // late delivered after read
    status('wamid.2', 'sent', T + 1, '6281111111112'), status('wamid.2', 'failed', T + 2, '6281111111112', { errors: [{ code: 131049 }] }), status('wamid.2', 'delivered', T + 3, '6281111111112'),
    status('wamid.3', 'delivered', T + 5, '6281111111113'),
    inbound('wamid.in3', '6281111111113', T + 4 * 86_400, 'late reply'), // outside 72h
  ].join('\n') + '\n');
  expect((await runCli(['ingest', join(dir, 'h.jsonl'), '--store', store, '-q'])).code).toBe(0);
  // The same events again change nothing.
  expect(JSON.parse((await runCli(['ingest', join(dir, 'h.jsonl'), '--store', store, '--json'])).stdout).changes).toEqual({});
  const out = join(dir, 'rep');
  const r = await runCli(['report', 'cx', '--store', store, '-o', out, '--json']);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).funnel).toMatchObject({ sent: 4, delivered: 2, read: 1, failed: 1, awaiting: 1, replied: 0 });
  expect(JSON.parse((await runCli(['report', 'cx', '--store', store, '--json', '--attribution', '5d'])).stdout).funnel.replied).toBe(1);
  return Object.fromEntries(readCsv(join(out, 'messages.csv')).map((m) => [m.row_id!, m]));
}

describe('the lifecycle of each message', () => {
  it('never goes backwards: a late delivered after read changes nothing; a failure is final; played is read', async () => {
    const dir = tempDir();
    const rows = await lifecycleThroughIngest(join(dir, 'store'), dir);
    expect(rows['1']).toMatchObject({ status: 'read', delivered_at: '2026-11-25T10:00:10.000Z', read_at: '2026-11-25T10:00:20.000Z' });
    expect(rows['2']).toMatchObject({ status: 'failed', error_code: '131049' });
    expect(rows['3']).toMatchObject({ status: 'delivered' });
    expect(rows['4']).toMatchObject({ status: 'awaiting' });
    expect(lifecycleAfterStatus(undefined, 'played', 100)).toMatchObject({ state: 'read', read: 100, delivered: 100 });
    expect(lifecycleAfterStatus(JSON.stringify({ state: 'read', read: 100, delivered: 90 }), 'delivered', 95)).toBeUndefined();
  });

  const base = inject('redisUrl');
  it.skipIf(!base)('works the same on Redis', async () => {
    const url = `${base}/7`; // a database of its own: send.test.ts flushes 5 while its two processes run
    const redis = new Redis(url);
    await redis.flushdb();
    await redis.quit();
    const dir = tempDir();
    const rows = await lifecycleThroughIngest(url, dir);
    expect(rows['1']).toMatchObject({ status: 'read' });
    expect(rows['2']).toMatchObject({ status: 'failed' });
  });
});

it('reading a large campaign lets the process answer other work as it goes (an mcp server\'s other calls)', async () => {
  const dir = tempDir();
  const store = await openStore(join(dir, 'store'), {}, dir);
  const entry = JSON.stringify({ status: 'sent', attempts: 1, at: '2026-11-25T10:00:00.000Z', wamid: 'wamid.x', to: '6281200000000' });
  await store.set('journal', Array.from({ length: 20_000 }, (_, i) => ({ key: `big:${i}`, value: entry })));
  let read = 0;
  let readWhenTimerRan = -1;
  setTimeout(() => { readWhenTimerRan = read; }, 0);
  await forEachMessage(store, 'big', () => { read++; });
  await store.close();
  expect(read).toBe(20_000);
  expect(readWhenTimerRan).toBeGreaterThanOrEqual(0);
  expect(readWhenTimerRan).toBeLessThan(20_000); // it ran in the middle, not after the whole campaign
});
