import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { BIN, FIXTURES, readCsv, runCli, spawnCli, tempDir } from './helpers.js';

const FIXTURE_HOOKS = join(FIXTURES, 'webhooks.jsonl');
/** The time the fixture's events were captured for (they are from the two hours before it). */
const FIXTURE_NOW = Date.parse('2026-11-25T12:00:00Z') / 1000;
/** How far the fixture's times move to end as long before this run as before FIXTURE_NOW: an effect lasts from its event's time. */
const SHIFT = Math.floor(Date.now() / 1000) - FIXTURE_NOW;
/** A fixture line (or file's text) with every event time moved by SHIFT. */
const recent = (text: string): string => text.replace(/("(?:timestamp|time)": ?"?)(\d{10})/g, (_, key: string, t: string) => key + String(Number(t) + SHIFT));
/** An ISO time of the fixture, moved as its events are. */
const shifted = (isoTime: string): string => new Date(Date.parse(isoTime) + SHIFT * 1000).toISOString();
/** Seconds `ago` before this run: a recent event's time. */
const ago = (seconds: number): number => Math.floor(Date.now() / 1000) - seconds;
const hooks = join(mkdtempSync(join(tmpdir(), 'wa-guard-hooks-')), 'webhooks.jsonl');
writeFileSync(hooks, recent(readFileSync(FIXTURE_HOOKS, 'utf8')));
const SECRET = 'app-secret-for-tests';
const children: ChildProcess[] = [];
const sims: Simulator[] = [];
/** A POST body of Meta's as it carries one `messages` change. */
const messagesBody = (value: object): string => JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'w', changes: [{ field: 'messages', value }] }] });
afterAll(() => rmSync(dirname(hooks), { recursive: true, force: true }));
afterEach(async () => {
  while (children.length) children.pop()!.kill('SIGKILL');
  while (sims.length) await sims.pop()!.close();
});

async function dump(dir: string): Promise<Record<string, [string, string][]>> {
  const store = await EmbeddedStore.open(dir);
  const out: Record<string, [string, string][]> = {};
  for (const ns of ['blacklist', 'optout', 'status', 'inbound', 'capped', 'strikes', 'template-status', 'journal', 'changed-number']) {
    out[ns] = [];
    for await (const e of store.scan(ns)) out[ns]!.push(e);
  }
  await store.close();
  return out;
}

/** Starts `wa-guard listen` on a free port; resolves with its URL once it prints it. */
async function listen(store: string, env: NodeJS.ProcessEnv = { WA_GUARD_APP_SECRET: SECRET, WA_GUARD_VERIFY_TOKEN: 'verify-me' }, extra: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'listen', '--port', '0', '--store', store, '-q', ...extra], { env: { PATH: process.env.PATH, HOME: store, ...env } });
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (b) => resolve(String(b).trim()));
    child.once('close', (code) => reject(new Error(`listen exited ${code}`)));
  });
  return { url, child };
}

const sign = (body: string, secret = SECRET): string => 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');

describe('ingest', () => {
  it('learns every kind of event, reports a bad line with its place, and changes the next clean and dry run', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const result = await runCli(['ingest', hooks, '--store', store, '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.bad_lines).toBe(1);
    expect(summary.bad_examples[0]).toMatch(/webhooks\.jsonl:13: not valid JSON/);
    expect(summary.changes).toMatchObject({ blacklisted: 1, opted_out: 2, opted_out_of_marketing: 2, capped: 1, template_paused: 1, cache_valid: 2 }); // a `sent` proves nothing
    const state = await dump(store);
    expect(state.blacklist.map(([k]) => k)).toEqual(['6281234567890']);
    expect(JSON.parse(state.blacklist[0]![1])).toMatchObject({ reason: 'undeliverable (131026)', source: 'webhook', strikes: 1 });
    expect(Object.fromEntries(state.optout.map(([k, v]) => [k, JSON.parse(v).scope]))).toEqual({
      '447400123456': 'all', '6281311223344': 'all', '6281122334455': 'marketing', '6282212345678': 'marketing',
    });
    // the window opens at the newest message's own time; the older one later in the file does not move it back
    expect(Object.fromEntries(state.inbound)['6287812345678']).toBe(shifted('2026-11-25T09:46:40.000Z'));
    expect(state.status.map(([k]) => k).sort()).toEqual(['+5511987654321', '+6289912345678']);

    // The next clean purges the blacklisted and opted-out numbers...
    writeFileSync(join(dir, 'c.csv'), 'name,phone\nA,+6281234567890\nB,+447400123456\nC,+6287812345678\n');
    const clean = await runCli(['clean', join(dir, 'c.csv'), '-o', join(dir, 'clean'), '--store', store, '--json']);
    expect(JSON.parse(clean.stdout).purged_by_reason).toMatchObject({ blacklisted: 1, opted_out: 1 });
    // ...and the next dry run: the paused template blocks, the care window lets text through, the capped user waits.
    writeFileSync(join(dir, 'campaign.csv'), [
      'id,to,template,language,param_1,text',
      '1,+6285512345678,spring_sale,en_US,20%,',
      '2,+6287812345678,,,,Your order is ready',
      '3,+6288812345678,promo_x,en_US,,',
    ].join('\n') + '\n');
    const dry = await runCli(['send', join(dir, 'campaign.csv'), '--dry-run', '--category', 'marketing', '--now', shifted('2026-11-25T12:00:00Z'), '-o', join(dir, 'dry'), '--store', store]);
    expect(dry.code).toBe(0);
    expect(readCsv(join(dir, 'dry', 'gate.csv')).map((r) => [r.id, r.decision, r.reason])).toEqual([
      ['1', 'block', 'template_not_approved'], ['2', 'send', 'ok'], ['3', 'defer', 'marketing_capped'],
    ]);
  });

  it('is idempotent: ingesting the same events twice changes nothing the second time', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    await runCli(['ingest', hooks, '--store', store, '-q']);
    const once = await dump(store);
    const again = await runCli(['ingest', hooks, '--store', store, '--json']);
    expect(JSON.parse(again.stdout).changes).toEqual({});
    expect(await dump(store)).toEqual(once);
  });

  it('--fail-on bad_lines|ignored|any: learns everything it can, then exits 3 naming what was skipped; a bad reason is exit 2 before the store', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const failed = await runCli(['ingest', hooks, '--store', store, '--fail-on', 'bad_lines']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/--fail-on: rows were skipped for bad_lines \(1\)/);
    expect((await dump(store)).blacklist.map(([k]) => k)).toEqual(['6281234567890']); // the good lines were learned
    expect((await runCli(['ingest', hooks, '--store', store, '--fail-on', 'any', '-q'])).code).toBe(3);
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, (await import('node:fs')).readFileSync(hooks, 'utf8').split('\n')[0] + '\n');
    expect((await runCli(['ingest', good, '--store', store, '--fail-on', 'any', '-q'])).code).toBe(0);
    const undated = join(dir, 'undated.jsonl');
    writeFileSync(undated, messagesBody({ messages: [{ from: '6281234567890', id: 'wamid.x', type: 'text', text: { body: 'hi' } }] }) + '\n');
    expect((await runCli(['ingest', undated, '--store', store, '--fail-on', 'bad_lines', '-q'])).code).toBe(0);
    expect((await runCli(['ingest', undated, '--store', store, '--fail-on', 'ignored', '-q'])).code).toBe(3);
    const bad = await runCli(['ingest', hooks, '--store', join(dir, 'never'), '--fail-on', 'bad_line']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/--fail-on: unknown reason bad_line; use "any" or some of: bad_lines, ignored/)]);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it.skipIf(!inject('redisUrl'))('learns the same on a Redis store, and twice is once there too', async () => {
    const url = `${inject('redisUrl')}/6`;
    const { Redis } = await import('ioredis');
    const redis = new Redis(url);
    await redis.flushdb();
    const first = await runCli(['ingest', hooks, '--store', url, '--json']);
    expect(JSON.parse(first.stdout).changes).toMatchObject({ blacklisted: 1, opted_out: 2, capped: 1, template_paused: 1 });
    expect(await redis.exists('wa-guard:blacklist:6281234567890')).toBe(1);
    const again = await runCli(['ingest', hooks, '--store', url, '--json']);
    expect(JSON.parse(again.stdout).changes).toEqual({});
    await redis.quit();
  });

  it('orders by the events\' own times: a delivery older than a 131026 does not lift it; a newer one does', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const status = (id: string, st: string, ts: number, errors?: unknown) => messagesBody({ statuses: [{ id, status: st, timestamp: String(ts), recipient_id: '6281234567890', ...(errors ? { errors } : {}) }] });
    const fail = status('wamid.b', 'failed', ago(2000), [{ code: 131026, title: 'Message undeliverable' }]);
    writeFileSync(join(dir, 'a.jsonl'), [fail, status('wamid.a', 'delivered', ago(3000))].join('\n') + '\n');
    await runCli(['ingest', join(dir, 'a.jsonl'), '--store', store, '-q']);
    expect((await dump(store)).blacklist.map(([k]) => k)).toEqual(['6281234567890']);
    writeFileSync(join(dir, 'b.jsonl'), status('wamid.c', 'read', ago(1000)) + '\n');
    const lifted = await runCli(['ingest', join(dir, 'b.jsonl'), '--store', store, '--json']);
    expect(JSON.parse(lifted.stdout).changes.blacklist_lifted).toBe(1);
    expect((await dump(store)).blacklist).toEqual([]);
    // Dated in 2100: a 131026 no delivery could ever lift, a message holding the care window open. Ignored.
    const future = Math.floor(Date.UTC(2100, 0, 1) / 1000);
    const soon = Math.floor(Date.now() / 1000) + 3600; // clock skew of an hour is fine
    writeFileSync(join(dir, 'c.jsonl'), [
      status('wamid.d', 'failed', future, [{ code: 131026, title: 'Message undeliverable' }]),
      messagesBody({ messages: [{ from: '6281234567890', id: 'wamid.e', timestamp: String(future), type: 'text', text: { body: 'hi' } }] }),
      messagesBody({ messages: [{ from: '6281234567890', id: 'wamid.f', timestamp: String(soon), type: 'text', text: { body: 'hi' } }] }),
    ].join('\n') + '\n');
    const dated = await runCli(['ingest', join(dir, 'c.jsonl'), '--store', store, '--json']);
    expect(JSON.parse(dated.stdout)).toMatchObject({ ignored: 2, changes: { care_window_opened: 1 } });
    const state = await dump(store);
    expect(state.blacklist).toEqual([]);
    expect(state.inbound.map(([, v]) => v).join()).toContain(new Date(soon * 1000).toISOString().slice(0, 19));
  });
  it('within one batch each event sees what the events before it wrote', async () => {
    const dir = tempDir();
    const failed = (id: string, to: string, ts: number, code: number) => messagesBody({ statuses: [{ id, status: 'failed', timestamp: String(ts), recipient_id: to, errors: [{ code, title: 'x' }] }] });
    const delivered = (id: string, to: string, ts: number) => messagesBody({ statuses: [{ id, status: 'delivered', timestamp: String(ts), recipient_id: to }] });
    const text = (id: string, from: string, ts: number, body: string) => messagesBody({ messages: [{ from, id, timestamp: String(ts), type: 'text', text: { body } }] });
    writeFileSync(join(dir, 'one.jsonl'), [
      failed('wamid.1', '6281111111111', ago(2000), 131050), text('wamid.2', '6281111111111', ago(1900), 'START'), // opt-out, then lifted
      failed('wamid.3', '6282222222222', ago(2000), 131026), failed('wamid.4', '6282222222222', ago(1900), 131026), // two strikes: blacklisted
      delivered('wamid.5', '6282222222222', ago(1800)), // ... and lifted by a newer delivery
      delivered('wamid.6', '6283333333333', ago(1000)), failed('wamid.7', '6283333333333', ago(1500), 131026), // an older failure: no strike
    ].join('\n') + '\n');
    const result = JSON.parse((await runCli(['ingest', join(dir, 'one.jsonl'), '--store', join(dir, 'store'), '--json', '--strikes', '2'])).stdout);
    expect(result.changes).toEqual({ opted_out_of_marketing: 1, opt_out_lifted: 1, care_window_opened: 1, strike: 1, blacklisted: 1, blacklist_lifted: 1, cache_valid: 2 });
    const state = await dump(join(dir, 'store'));
    expect(state.optout).toEqual([]);
    expect(state.blacklist).toEqual([]);
    expect(state.strikes).toEqual([]);
  });
  it('reads Meta\'s payloads as Meta means them: FLAGGED, calls, played, a changed number, stop replies, out-of-order preferences, old failures', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const change = (field: string, value: object): string => JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'w', time: ago(600), changes: [{ field, value }] }] });
    const text = (id: string, from: string, ts: number, body: string) => messagesBody({ messages: [{ from, id, timestamp: String(ts), type: 'text', text: { body } }] });
    const status = (id: string, to: string, st: string, ts: number, code?: number) => messagesBody({ statuses: [{ id, status: st, timestamp: String(ts), recipient_id: to, ...(code ? { errors: [{ code, title: 'x' }] } : {}) }] });
    const preference = (waId: string, value: string, ts: number) => change('user_preferences', { user_preferences: [{ wa_id: waId, detail: 'x', category: 'marketing_messages', value, timestamp: ts }] });
    const template = (name: string, event: string, disableDate?: number) => change('message_template_status_update', { event, message_template_id: 1, message_template_name: name, message_template_language: 'en_US', reason: 'NONE', ...(disableDate ? { disable_info: { disable_date: disableDate } } : {}) });
    const changedAt = ago(800);
    const call = (id: string, from: string, direction: string) => change('calls', { calls: [{ id, from, to: '15550783881', event: 'connect', direction, timestamp: String(ago(600)) }] });
    writeFileSync(join(dir, 'a.jsonl'), [
      template('flagged_soon', 'FLAGGED', ago(-7 * 86_400)), template('flagged_past', 'FLAGGED', ago(3600)), template('paused_one', 'PAUSED'),
      call('call.1', '6281000000001', 'USER_INITIATED'), call('call.2', '6281000000002', 'BUSINESS_INITIATED'),
      status('wamid.p', '6281000000003', 'played', ago(900)),
      messagesBody({ messages: [{ from: '6281000000004', id: 'wamid.sys', timestamp: String(changedAt), type: 'system', system: { body: 'User A changed from 6281000000004 to 6281000000044', wa_id: '6281000000044', type: 'user_changed_number' } }] }),
      text('wamid.s1', '6281000000005', ago(700), 'Stop!'), text('wamid.s2', '6281000000006', ago(700), 'ＳＴＯＰ'), text('wamid.s3', '6281000000007', ago(700), "don't stop the offers"),
      preference('6281000000008', 'resume', ago(100)),
      text('wamid.s4', '6281000000009', ago(700), 'STOP'), status('wamid.f1', '6281000000009', 'failed', ago(600), 131050),
      status('wamid.f2', '6281000000010', 'failed', ago(500), 131026), status('wamid.f2', '6281000000010', 'sent', ago(500)),
      status('wamid.f3', '6281000000011', 'failed', Math.floor(Date.UTC(2023, 5, 1) / 1000), 131026),
    ].join('\n') + '\n');
    const first = JSON.parse((await runCli(['ingest', join(dir, 'a.jsonl'), '--store', store, '--json'])).stdout);
    expect(first.ignored).toBe(0);
    // the older stop, ingested after the newer resume
    writeFileSync(join(dir, 'b.jsonl'), preference('6281000000008', 'stop', ago(200)) + '\n');
    await runCli(['ingest', join(dir, 'b.jsonl'), '--store', store, '-q']);

    const state = await dump(store);
    expect(Object.fromEntries(state.optout.map(([k, v]) => [k, JSON.parse(v).scope]))).toEqual({ '6281000000005': 'all', '6281000000006': 'all', '6281000000009': 'all' });
    expect(Object.fromEntries(state.blacklist.map(([k, v]) => [k, JSON.parse(v).reason]))).toEqual({ '6281000000004': 'changed number to +6281000000044', '6281000000010': 'undeliverable (131026)' });
    expect(state['changed-number']).toEqual([['6281000000004', JSON.stringify({ to: '6281000000044', at: new Date(changedAt * 1000).toISOString() })]]);
    expect(state.inbound.map(([k]) => k).sort()).toEqual(['6281000000001', '6281000000005', '6281000000006', '6281000000007', '6281000000009']);
    expect(state.status.map(([k]) => k)).toEqual(['+6281000000003']);

    writeFileSync(join(dir, 'campaign.csv'), [
      'id,to,template,language,param_1,text',
      '1,+6285512345678,flagged_soon,en_US,20%,',
      '2,+6285512345678,flagged_past,en_US,20%,',
      '3,+6285512345678,paused_one,en_US,20%,',
      '4,+6281000000001,,,,Thanks for calling',
      '5,+6281000000002,,,,Thanks for calling',
      '6,+6281000000004,order_update,en_US,A-1,',
    ].join('\n') + '\n');
    const dry = await runCli(['send', join(dir, 'campaign.csv'), '--dry-run', '--category', 'utility', '-o', join(dir, 'dry'), '--store', store]);
    expect(dry.code).toBe(0);
    expect(readCsv(join(dir, 'dry', 'gate.csv')).map((r) => [r.id, r.decision, r.reason])).toEqual([
      ['1', 'send', 'ok'], ['2', 'block', 'template_not_approved'], ['3', 'block', 'template_not_approved'],
      ['4', 'send', 'ok'], ['5', 'block', 'outside_care_window'], ['6', 'block', 'blacklisted'],
    ]);
  });

  it('reconciles the send journal: by our callback data, or by wamid when a status carries none', async () => {
    const dir = tempDir();
    const storeDir = join(dir, 'store');
    const store = await EmbeddedStore.open(storeDir);
    const unknown = JSON.stringify({ status: 'unknown', attempts: 1, at: '2026-11-25T10:00:00.000Z' });
    await store.set('journal', [{ key: 'c1:1', value: unknown }, { key: 'c1:2', value: unknown }, { key: 'c1:3', value: unknown }, { key: 'c1:4', value: unknown }]);
    await store.set('wamids', [{ key: 'wamid.two', value: 'c1:2' }, { key: 'wamid.three', value: 'c1:3' }, { key: 'wamid.four', value: 'c1:4' }]);
    await store.close();
    writeFileSync(join(dir, 'j.jsonl'), [
      messagesBody({ statuses: [{ id: 'wamid.one', status: 'delivered', timestamp: '1000', recipient_id: '6281111111111', biz_opaque_callback_data: 'c1:1' }] }),
      messagesBody({ statuses: [{ id: 'wamid.two', status: 'sent', timestamp: '1000', recipient_id: '6282222222222' }] }),
      messagesBody({ statuses: [{ id: 'wamid.three', status: 'failed', timestamp: '1000', recipient_id: '6283333333333', errors: [{ code: 131026, title: 'x' }] }] }),
      // empty callback data is none
      messagesBody({ statuses: [{ id: 'wamid.four', status: 'read', timestamp: '1000', recipient_id: '6284444444444', biz_opaque_callback_data: '' }] }),
    ].join('\n') + '\n');
    const result = JSON.parse((await runCli(['ingest', join(dir, 'j.jsonl'), '--store', storeDir, '--json'])).stdout);
    expect(result.changes).toMatchObject({ journal_unknown_to_sent: 3, journal_failed: 1 });
    const journal = Object.fromEntries((await dump(storeDir)).journal.map(([k, v]) => [k, JSON.parse(v)]));
    expect(journal['c1:1']).toMatchObject({ status: 'sent', wamid: 'wamid.one' });
    expect(journal['c1:2']).toMatchObject({ status: 'sent', wamid: 'wamid.two' });
    expect(journal['c1:3']).toMatchObject({ status: 'failed', wamid: 'wamid.three', code: 131026 });
    expect(journal['c1:4']).toMatchObject({ status: 'sent', wamid: 'wamid.four' });
  });
  it('reads many batches from a file or stdin alike, places a bad line, and a STOP replayed after START stays lifted', async () => {
    const dir = tempDir();
    const inbound = (id: string, from: string, ts: number, text: string) => messagesBody({ messages: [{ from, id, timestamp: String(ts), type: 'text', text: { body: text } }] });
    const lines = Array.from({ length: 4500 }, (_, i) => inbound(`wamid.in.${i}`, String(6281200000000 + i), ago(9000) + i, 'hello'));
    lines[3000] = '{"broken';
    writeFileSync(join(dir, 'many.jsonl'), lines.join('\n') + '\n');
    const fromFile = JSON.parse((await runCli(['ingest', join(dir, 'many.jsonl'), '--store', join(dir, 's1'), '--json'])).stdout);
    const fromStdin = JSON.parse((await runCli(['ingest', '-', '--store', join(dir, 's2'), '--json'], { stdin: lines.join('\n') + '\n' })).stdout);
    expect(fromFile.changes).toEqual({ care_window_opened: 4499 });
    expect(fromFile.bad_examples).toEqual([`${join(dir, 'many.jsonl')}:3001: not valid JSON`]);
    expect(fromStdin.changes).toEqual(fromFile.changes);
    expect(fromStdin.bad_examples).toEqual(['stdin:3001: not valid JSON']);

    const store = join(dir, 's3');
    const stop = inbound('wamid.stop', '447400123456', ago(2000), 'STOP');
    writeFileSync(join(dir, 'stop.jsonl'), stop + '\n');
    writeFileSync(join(dir, 'start.jsonl'), inbound('wamid.start', '447400123456', ago(1000), ' start ') + '\n');
    await runCli(['ingest', join(dir, 'stop.jsonl'), '--store', store, '-q']);
    expect((await dump(store)).optout.map(([k]) => k)).toEqual(['447400123456']);
    expect(JSON.parse((await runCli(['ingest', join(dir, 'start.jsonl'), '--store', store, '--json'])).stdout).changes).toMatchObject({ opt_out_lifted: 1 });
    const replay = JSON.parse((await runCli(['ingest', join(dir, 'stop.jsonl'), '--store', store, '--json'])).stdout);
    expect(replay.changes).toEqual({});
    expect(replay.unchanged).toBe(1);
    expect((await dump(store)).optout).toEqual([]);
  });
  it('reads a JSON array element by element, a pretty-printed body, a BOM, a FIFO, and a JSONL file whose first line is broken', async () => {
    const dir = tempDir();
    const inbound = (i: number) => JSON.parse(messagesBody({ messages: [{ from: String(6281200000000 + i), id: `wamid.in.${i}`, timestamp: String(ago(9000) + i), type: 'text', text: { body: 'hi' } }] }));
    const ingest = async (file: string, stdin?: string) => JSON.parse((await runCli(['ingest', file, '--store', join(dir, `s${Math.random()}`), '--json'], stdin === undefined ? {} : { stdin })).stdout);
    // An array of 3,000 bodies, one pretty-printed over several lines, with a
    // broken element and one that is no webhook, each placed by its own line.
    const elements = Array.from({ length: 3000 }, (_, i) => JSON.stringify(inbound(i)));
    elements[1] = JSON.stringify(inbound(1), null, 2);
    elements[5] = '{"object": "whatsapp_business_account", "entry": NaN}';
    elements[7] = '{"not": "a webhook"}';
    const array = `[\n${elements.join(',\n')}\n]\n`;
    writeFileSync(join(dir, 'array.json'), array);
    const fromArray = await ingest(join(dir, 'array.json'));
    expect(fromArray.changes).toEqual({ care_window_opened: 2998 });
    const line = (k: number) => 2 + elements.slice(0, k).reduce((n, e) => n + e.split('\n').length, 0);
    expect(fromArray.bad_examples).toEqual([`${join(dir, 'array.json')}:${line(5)}: not valid JSON`, expect.stringMatching(new RegExp(`array\\.json:${line(7)}: `))]);
    expect(await ingest('-', array)).toMatchObject({ changes: fromArray.changes, bad_lines: 2 });
    // Cut short by a crash while recording: what came before counts, the cut is named.
    writeFileSync(join(dir, 'cut.json'), array.slice(0, array.length - 200));
    const cut = await ingest(join(dir, 'cut.json'));
    expect(cut.changes.care_window_opened).toBe(2997);
    expect(cut.bad_examples.at(-1)).toMatch(/cut\.json: line \d+: unexpected end of file: the JSON array is not closed/);

    // Lines that are arrays of bodies, and one array on one line, are lines.
    writeFileSync(join(dir, 'arrays.jsonl'), [[1, 2], [3]].map((g) => JSON.stringify(g.map(inbound))).join('\n') + '\n');
    expect(await ingest(join(dir, 'arrays.jsonl'))).toMatchObject({ changes: { care_window_opened: 3 }, bad_lines: 0 });
    writeFileSync(join(dir, 'minified.json'), JSON.stringify([1, 2, 3, 4].map(inbound)));
    expect(await ingest(join(dir, 'minified.json'))).toMatchObject({ changes: { care_window_opened: 4 }, bad_lines: 0 });
    writeFileSync(join(dir, 'one.json'), '\ufeff' + JSON.stringify(inbound(1), null, 2) + '\n');
    expect(await ingest(join(dir, 'one.json'))).toMatchObject({ changes: { care_window_opened: 1 }, bad_lines: 0 });
    writeFileSync(join(dir, 'bom.jsonl'), '\ufeff' + [1, 2].map((i) => JSON.stringify(inbound(i))).join('\r\n') + '\r\n');
    expect(await ingest(join(dir, 'bom.jsonl'))).toMatchObject({ changes: { care_window_opened: 2 }, bad_lines: 0 });
    writeFileSync(join(dir, 'first.jsonl'), ['{"object": "whatsapp_business_acc', ...[1, 2, 3].map((i) => JSON.stringify(inbound(i)))].join('\n'));
    expect(await ingest(join(dir, 'first.jsonl'))).toMatchObject({ changes: { care_window_opened: 3 }, bad_examples: [`${join(dir, 'first.jsonl')}:1: not valid JSON`] });
    writeFileSync(join(dir, 'long.jsonl'), [JSON.stringify(inbound(1)), `{"x": "${'y'.repeat(5 << 20)}"}`, JSON.stringify(inbound(2))].join('\n'));
    expect(await ingest(join(dir, 'long.jsonl'))).toMatchObject({ changes: { care_window_opened: 2 }, bad_examples: [`${join(dir, 'long.jsonl')}:2: a line longer than 4 MiB`] });

    // Rotated logs are gzip'd: read as they are, in a directory too; one cut short counts up to the cut.
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify(inbound(i))).join('\n') + '\n';
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'webhooks.jsonl.1.gz'), gzipSync(lines));
    expect(await ingest(join(dir, 'logs'))).toMatchObject({ changes: { care_window_opened: 2000 }, bad_lines: 0 });
    const gz = gzipSync(lines);
    writeFileSync(join(dir, 'cut.jsonl.gz'), gz.subarray(0, gz.length >> 1));
    const half = await ingest(join(dir, 'cut.jsonl.gz'));
    expect(half.changes.care_window_opened).toBeGreaterThan(0);
    expect(half.bad_examples).toEqual([expect.stringMatching(/cut\.jsonl\.gz: not a whole gzip file \(unexpected end of file\): read up to there/)]);

    // A FIFO can be read only once: a reader that peeks and reopens loses its start.
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const writing = writeFile(join(dir, 'fifo'), array);
    const fromFifo = await ingest(join(dir, 'fifo'));
    await writing;
    expect(fromFifo).toMatchObject({ changes: fromArray.changes, bad_lines: 2 });
  });
  it('kill -9 in the middle of an ingest, then the same ingest again: the store ends as one whole ingest leaves it', async () => {
    const dir = tempDir();
    const event = (i: number): string => {
      const waId = String(628120000000 + (i % 20_000));
      const ts = String(1795600000 + i);
      const value = i % 10 < 6
        ? { statuses: [{ id: `wamid.${i}`, status: ['sent', 'delivered', 'read'][i % 3], timestamp: ts, recipient_id: waId }] }
        : i % 10 < 9
          ? { messages: [{ from: waId, id: `wamid.in.${i}`, timestamp: ts, type: 'text', text: { body: i % 10 === 8 ? 'STOP' : i % 10 === 7 ? 'start' : 'hi' } }] }
          : { statuses: [{ id: `wamid.${i}`, status: 'failed', timestamp: ts, recipient_id: waId, errors: [{ code: 131026 }] }] };
      return messagesBody(value);
    };
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, Array.from({ length: 120_000 }, (_, i) => event(i)).join('\n') + '\n');
    const started = Date.now();
    expect((await spawnCli(['ingest', file, '--store', join(dir, 'whole'), '--strikes', '2', '-q'])).code).toBe(0);
    const wholeMs = Date.now() - started;
    const child = spawn(process.execPath, [BIN, 'ingest', file, '--store', join(dir, 'killed'), '--strikes', '2', '-q'], { stdio: 'ignore' });
    children.push(child);
    // Listened for from the start: an ingest that ended before the kill would otherwise be waited for forever.
    const ended = new Promise<NodeJS.Signals | null>((r) => child.once('close', (_code, signal) => r(signal)));
    await new Promise((r) => setTimeout(r, wholeMs / 2)); // half way through, however fast this machine is
    child.kill('SIGKILL');
    expect(await ended).toBe('SIGKILL'); // killed in the middle, not after it ended
    expect((await spawnCli(['ingest', file, '--store', join(dir, 'killed'), '--strikes', '2', '-q'])).code).toBe(0);
    // Entries carry the time they were written (first_seen, expires, …): those differ, nothing else may.
    const timeless = async (store: string) => Object.fromEntries(Object.entries(await dump(store)).map(([ns, entries]) =>
      [ns, entries.map(([k, v]) => [k, v.replace(/"(at|first_seen|last_seen|expires)":"[^"]*"/g, '')])]));
    const whole = await timeless(join(dir, 'whole'));
    expect(whole.blacklist!.length + whole.strikes!.length).toBeGreaterThan(1000);
    expect(await timeless(join(dir, 'killed'))).toEqual(whole);
  });
});

describe('listen', () => {
  it('answers the verification handshake, applies a signed POST, refuses bad signatures, wrong types and huge bodies', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const { url, child } = await listen(store);
    expect(await (await fetch(`${url}/?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444`)).text()).toBe('1158201444');
    expect((await fetch(`${url}/?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`)).status).toBe(403);

    const lines = (await import('node:fs')).readFileSync(hooks, 'utf8').split('\n');
    const failed = lines[4]!; // 131026 for 6281234567890
    const stop = lines[1]!; // STOP from 447400123456
    const post = (body: string, headers: Record<string, string>) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    expect((await post(stop, { 'x-hub-signature-256': sign(stop, 'another-secret') })).status).toBe(403);
    expect((await post(stop, {})).status).toBe(401);
    expect((await fetch(url, { method: 'POST', body: stop, headers: { 'content-type': 'text/plain', 'x-hub-signature-256': sign(stop) } })).status).toBe(415);
    expect((await post('{"broken', { 'x-hub-signature-256': sign('{"broken') })).status).toBe(400);
    const huge = 'x'.repeat(10 * 1024 * 1024);
    expect((await post(huge, { 'x-hub-signature-256': sign(huge) })).status).toBe(413);
    expect((await post(failed, { 'x-hub-signature-256': sign(failed) })).status).toBe(200);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('close', r))).toBe(0);
    const state = await dump(store);
    expect(state.blacklist.map(([k]) => k)).toEqual(['6281234567890']);
    expect(state.optout).toEqual([]); // the badly signed STOP changed nothing
  });

  it('SIGTERM while one client stalls mid-request and another mid-headers: exit 0 within seconds, the event answered 200 before applied', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const { url, child } = await listen(store);
    const failed = (await import('node:fs')).readFileSync(hooks, 'utf8').split('\n')[4]!;
    expect((await fetch(url, { method: 'POST', body: failed, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(failed) } })).status).toBe(200);
    const { port } = new URL(url);
    const stalled = await Promise.all([
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"object"',
      'POST / HTTP/1.1\r\nHost: x\r\n',
    ].map(async (start) => {
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      socket.write(start);
      return socket;
    }));
    await new Promise((r) => setTimeout(r, 200));
    const at = Date.now();
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('close', r))).toBe(0);
    // Stopping cuts stalled clients off after 2 s; waiting for them would take the 10 s headers timeout at least.
    expect(Date.now() - at).toBeLessThan(8000);
    for (const socket of stalled) socket.destroy();
    expect((await dump(store)).blacklist.map(([k]) => k)).toEqual(['6281234567890']);
  });

  it.skipIf(!inject('redisUrl'))('a store that fails while applying: the event stays in the inbox and is applied once the store is back, without a restart', async () => {
    const { startRedis } = await import('./redis-server.js');
    const server = await startRedis(); // its own server: the ACL below would break every other test's
    const { Redis } = await import('ioredis');
    const admin = new Redis(server.url);
    try {
      const { url, child } = await listen(server.url, { WA_GUARD_APP_SECRET: SECRET });
      // Only the inbox may be touched: the 200 can be given, the lists cannot be written.
      await admin.call('ACL', 'SETUSER', 'default', 'resetkeys', '~wa-guard:webhook-inbox:*');
      const failed = (await import('node:fs')).readFileSync(hooks, 'utf8').split('\n')[4]!;
      const res = await fetch(url, { method: 'POST', body: failed, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(failed) } });
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      await admin.call('ACL', 'SETUSER', 'default', 'allkeys');
      let blacklisted = 0;
      for (let i = 0; i < 100 && !blacklisted; i++) {
        await new Promise((r) => setTimeout(r, 100));
        blacklisted = await admin.exists('wa-guard:blacklist:6281234567890');
      }
      expect(blacklisted).toBe(1);
      // The inbox entry is deleted after the batch is applied, in a second step: wait for it too.
      let left = await admin.keys('wa-guard:webhook-inbox:*');
      for (let i = 0; i < 50 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = await admin.keys('wa-guard:webhook-inbox:*');
      }
      expect(left).toEqual([]);
      child.kill('SIGTERM');
      expect(await new Promise((r) => child.once('close', r))).toBe(0);
    } finally {
      admin.disconnect();
      await server.stop();
    }
  });

  it('refuses to start without an app secret unless told it is a rehearsal', async () => {
    const result = await runCli(['listen', '--port', '0', '--store', join(tempDir(), 'store')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/set WA_GUARD_APP_SECRET/);
    // Unsigned POSTs are believed: never from beyond this machine.
    const open = await runCli(['listen', '--port', '0', '--host', '0.0.0.0', '--insecure-no-signature', '--store', join(tempDir(), 'store')]);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/--insecure-no-signature listens on a loopback address only .* on 0\.0\.0\.0 anyone who can reach it/);
  });

  it('kill -9 right after the 200, then a restart: the event is applied exactly once', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const failed = (await import('node:fs')).readFileSync(hooks, 'utf8').split('\n')[4]!;
    for (let round = 0; round < 2; round++) {
      const { url, child } = await listen(store, { WA_GUARD_APP_SECRET: SECRET }, ['--strikes', '5']);
      const res = await fetch(url, { method: 'POST', body: failed, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(failed) } });
      expect(res.status).toBe(200);
      child.kill('SIGKILL'); // Meta saw a 200: it will not send this one again (but it may: round 2 sends it again)
      await new Promise((r) => child.once('close', r));
    }
    const { child } = await listen(store, { WA_GUARD_APP_SECRET: SECRET }, ['--strikes', '5']);
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    const strikes = (await dump(store)).strikes;
    expect(strikes.map(([k, v]) => [k, JSON.parse(v).strikes])).toEqual([['6281234567890', 1]]);
  });

  it('rehearsal: simulator -> send -> listen; every 131026 ends blacklisted, every delivered number valid in the cache', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const { url: hookUrl, child } = await listen(store, { WA_GUARD_APP_SECRET: SECRET });
    const sim = await startSimulator({ token: 't', registeredFraction: 1, unregistered: ['+6281200000002', '+6281200000004'], webhooksUrl: hookUrl, appSecret: SECRET });
    sims.push(sim);
    const input = join(dir, 'c.csv');
    writeFileSync(input, 'id,to,template,language,param_1,param_2\n' + [1, 2, 3, 4, 5].map((i) => `${i},+628120000000${i},order_update,en_US,A,b`).join('\n') + '\n');
    const sent = await spawnCli(['send', input, '--phone-number-id', '100000000000001', '--api-url', sim.url, '--templates', join(FIXTURES, 'templates.json'),
      '-o', join(dir, 'out'), '--store', store, '--tier', 'unlimited', '-q'], { env: { WA_GUARD_TOKEN: 't' } });
    expect(sent.code).toBe(0);
    await sims.pop()!.close(); // waits for its webhook posts
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    const state = await dump(store);
    expect(state.blacklist.map(([k]) => k).sort()).toEqual(['6281200000002', '6281200000004']);
    expect(state.status.map(([k]) => k).sort()).toEqual(['+6281200000001', '+6281200000003', '+6281200000005']);
  });
});
