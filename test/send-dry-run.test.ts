import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gate } from '../src/gate/gate.js';
import { Plan } from '../src/gate/plan.js';
import { loadTemplates } from '../src/gate/templates.js';
import { normalizePhone } from '../src/phone.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { addOptOuts, addToBlacklist, CAPPED, CONVERSATIONS, INBOUND } from '../src/store/lists.js';
import { FIXTURES, files, readCsv, readJsonl, runCli, tempDir } from './helpers.js';

const NOW = '2026-11-24T12:00:00Z';
const campaign = join(FIXTURES, 'campaign.csv');
const templatesFile = join(FIXTURES, 'templates.json');

async function dryRun(dir: string, extra: string[] = [], input = campaign) {
  const out = join(dir, 'out');
  const result = await runCli(['send', input, '--dry-run', '-c', 'ID', '--templates', templatesFile, '--now', NOW, '-o', out, '--store', join(dir, 'store'), ...extra]);
  return { ...result, out };
}

describe('send --dry-run', () => {
  it('decides every row of the fixture campaign, with reasons', async () => {
    const dir = tempDir();
    const { code, out, stderr } = await dryRun(dir);
    expect(code).toBe(0);
    const rows = readCsv(join(out, 'gate.csv'));
    expect(rows.map((r) => [r.id, r.decision, r.reason])).toEqual([
      ['1', 'send', 'ok'],
      ['2', 'send', 'ok'],
      ['3', 'block', 'us_marketing_blocked'],
      ['4', 'block', 'auth_template_india'],
      ['5', 'send', 'ok'], // free-form text inside the window the row gives
      ['6', 'block', 'outside_care_window'],
      ['7', 'block', 'duplicate_message'],
      ['8', 'defer', 'pair_rate'],
      ['9', 'block', 'template_not_approved'],
      ['10', 'block', 'template_params_mismatch'],
      ['11', 'block', 'unknown_template'],
      ['12', 'block', 'invalid_number'],
      ['13', 'block', 'missing_content'],
      ['14', 'send', 'ok'],
      ['15', 'send', 'ok'],
    ]);
    expect(rows[7]).toMatchObject({ wa_id: '6281234567890', not_before: '2026-11-24T12:00:06.000Z' });
    expect(rows[4]!.text).toBe('Thanks for your order, Citra!'); // input columns intact
    expect(Object.keys(rows[0]!).slice(-6)).toEqual(['wa_id', 'decision', 'reason', 'detail', 'not_before', 'journal']);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.decisions).toEqual({ send: 5, defer: 1, block: 9 });
    expect(summary.conversations).toEqual({ new_outside_window: 4, already_in_last_24h: 0, tier: 250 });
    expect(summary.problems).toContain('template old_promo (en_US) blocks every row (1): template_not_approved');
    expect(stderr).toMatch(/planned duration at 80 msg\/s/);
  });

  it('uses the store: blacklist, opt-outs (marketing only too), cached invalid numbers, windows, caps and the tier', async () => {
    const dir = tempDir();
    const store = await EmbeddedStore.open(join(dir, 'store'));
    const at = new Date('2026-11-24T06:00:00Z');
    await addToBlacklist(store, [{ waId: '6281234567890', reason: 'not_on_whatsapp', source: 'send:131026' }], at);
    await addOptOuts(store, [{ waId: '6281311223344', source: 'webhook:user_preferences', scope: 'marketing' }], at);
    await addOptOuts(store, [{ waId: '447400123456', source: 'webhook:STOP' }], at);
    await store.set('status', [{ key: '+6281122334455', value: JSON.stringify({ status: 'invalid', checked_at: at.toISOString(), source: 'contacts:x' }) }]);
    await store.set(INBOUND, [{ key: '6287812345678', value: '2026-11-24T10:00:00Z' }]);
    const before = await snapshot(store);
    await store.close();

    const { code, out } = await dryRun(dir, ['--json']);
    expect(code).toBe(0);
    const byId = Object.fromEntries(readCsv(join(out, 'gate.csv')).map((r) => [r.id, r]));
    expect(byId['1']).toMatchObject({ decision: 'block', reason: 'blacklisted' });
    expect(byId['2']).toMatchObject({ decision: 'block', reason: 'opted_out' }); // marketing template, marketing opt-out
    expect(byId['14']).toMatchObject({ decision: 'block', reason: 'opted_out' });
    expect(byId['15']).toMatchObject({ decision: 'block', reason: 'not_on_whatsapp' });
    expect(byId['6']).toMatchObject({ decision: 'send', reason: 'ok' }); // the store knows the user wrote at 10:00
    // A dry run writes nothing to the store.
    const after = await EmbeddedStore.open(join(dir, 'store'));
    expect(await snapshot(after)).toEqual(before);
    await after.close();
  });

  it('defers new conversations over the tier, counting those the store saw in the last 24h', async () => {
    const dir = tempDir();
    const store = await EmbeddedStore.open(join(dir, 'store'));
    await store.set(CONVERSATIONS, Array.from({ length: 248 }, (_, i) => ({ key: String(6289900000000 + i), value: '2026-11-24T09:00:00Z' })));
    await store.set(CONVERSATIONS, [{ key: '6289911111111', value: '2026-11-23T09:00:00Z' }]); // over 24h ago: no longer counts
    await store.close();
    const { out } = await dryRun(dir);
    // New conversations, in order: rows 1, 2, 14, 15. Two fit under 250.
    const rows = readCsv(join(out, 'gate.csv'));
    expect(rows.filter((r) => ['1', '2', '14', '15'].includes(r.id!)).map((r) => r.reason)).toEqual(['ok', 'ok', 'tier_limit', 'tier_limit']);
    expect(rows.find((r) => r.id === '14')!.not_before).toBe('2026-11-25T12:00:00.000Z');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.conversations).toEqual({ new_outside_window: 2, already_in_last_24h: 248, tier: 250 });
    expect(summary.problems.join()).toMatch(/2 new conversations are over the messaging limit \(250 in 24h\)/);
  });

  it('defers marketing to a user Meta capped less than 24h ago', async () => {
    const dir = tempDir();
    const store = await EmbeddedStore.open(join(dir, 'store'));
    await store.set(CAPPED, [{ key: '6281311223344', value: '2026-11-24T02:00:00Z' }]);
    await store.close();
    const { out } = await dryRun(dir);
    expect(readCsv(join(out, 'gate.csv')).find((r) => r.id === '2')).toMatchObject({ decision: 'defer', reason: 'marketing_capped', not_before: '2026-11-25T02:00:00.000Z' });
  });

  it('flags rows that give one id to two numbers, as a live send would refuse them', async () => {
    const dir = tempDir();
    const input = join(dir, 'ids.csv');
    writeFileSync(input, 'id,to,template,language,param_1,param_2\n7,+62 812 0000 0001,order_update,en_US,A,b\n7,+62 812 0000 0002,order_update,en_US,A,b\n8,+62 812 0000 0003,order_update,en_US,A,b\n');
    const run = await runCli(['send', input, '--dry-run', '--templates', templatesFile, '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--json', '--fail-on', 'duplicate_id']);
    expect(run.code).toBe(3);
    expect(readCsv(join(dir, 'out', 'gate.csv')).map((r) => [r.id, r.decision, r.reason])).toEqual([['7', 'send', 'ok'], ['7', 'block', 'duplicate_id'], ['8', 'send', 'ok']]);
    expect(JSON.parse(run.stdout).problems.join('\n')).toMatch(/1 rows would not be sent: their id is already used/);
  });

  it('gives the same decisions as the gate API', async () => {
    const dir = tempDir();
    const { out } = await dryRun(dir);
    const now = Date.parse(NOW);
    const templates = await loadTemplates(templatesFile, '/');
    const plan = new Plan(now, 80, 0);
    const expected = readCsv(campaign).map((row) => {
      const params = [row.param_1, row.param_2].filter((p) => p !== '') as string[];
      const message = {
        to: normalizePhone(row.to!, 'ID'),
        ...(row.template ? { template: { name: row.template, language: row.language || 'en_US', params } } : {}),
        ...(row.text ? { text: row.text } : {}),
        ...(row.last_inbound_at ? { lastInboundAt: Date.parse(row.last_inbound_at) } : {}),
      };
      const decision = gate(message, {}, plan, now, { templates, tier: 250, pairIntervalMs: 6000 });
      plan.record(message, decision);
      return [decision.decision, decision.reason, decision.detail];
    });
    expect(readCsv(join(out, 'gate.csv')).map((r) => [r.decision, r.reason, r.detail])).toEqual(expected);
  });

  it('reads JSONL campaigns with a params array and writes JSONL', async () => {
    const dir = tempDir();
    const input = join(dir, 'campaign.jsonl');
    writeFileSync(input, [
      { to: '+62 812 3456 7890', template: 'order_update', params: ['A-1', 'today'] },
      { to: '+62 813 1122 3344', template: 'order_update', params: ['A-2'] },
      { to: '+62 857 1234 5678', text: 'hi' },
    ].map((m) => JSON.stringify(m)).join('\n') + '\n');
    const { code, out } = await dryRun(dir, [], input);
    expect(code).toBe(0);
    expect(readJsonl(join(out, 'gate.jsonl')).map((r) => [r.decision, r.reason, r.not_before])).toEqual([
      ['send', 'ok', null], ['block', 'template_params_mismatch', null], ['block', 'outside_care_window', null],
    ]);
  });

  it('the human summary lists each reason under its own decision (pair_rate under defer)', async () => {
    const { code, stderr } = await dryRun(tempDir());
    expect(code).toBe(0);
    expect(stderr).toMatch(/ {2}defer +1\n {4}pair_rate +1\n {2}block +9\n/);
  });

  it('--fail-on exits 3 for blocked rows; a live send without a token or sender is a usage error before anything is read', async () => {
    const dir = tempDir();
    expect((await dryRun(dir, ['--fail-on', 'unknown_template', '-q'])).code).toBe(3);
    expect((await dryRun(tempDir(), ['--fail-on', 'opted_out', '-q'])).code).toBe(0);
    const noToken = await runCli(['send', campaign, '-o', join(dir, 'live')]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/sending needs an access token: set WA_GUARD_TOKEN/);
    const noSender = await runCli(['send', campaign, '-o', join(dir, 'live')], { env: { WA_GUARD_TOKEN: 'secret-token\r\n' } });
    expect(noSender.code).toBe(2);
    expect(noSender.stderr).toMatch(/give --phone-number-id ID or set WA_GUARD_PHONE_NUMBER_ID/);
    expect(noSender.stderr).not.toMatch(/secret-token/);
    expect(files(join(dir, 'live'))).toEqual([]);
    const badTier = await runCli(['send', campaign, '--dry-run', '--tier', '300']);
    expect(badTier.code).toBe(2);
    expect(badTier.stderr).toMatch(/--tier must be one of/);
    expect(files(join(dir, 'out'))).toEqual(['gate.csv', 'summary.json']);
  });
});


/** Every entry of every list a send reads or writes. */
async function snapshot(store: { scan(ns: string): AsyncIterable<[string, string]> }): Promise<Record<string, [string, string][]>> {
  const out: Record<string, [string, string][]> = {};
  for (const ns of ['blacklist', 'optout', 'status', 'inbound', 'capped', 'conversations', 'strikes', 'journal']) {
    out[ns] = [];
    for await (const entry of store.scan(ns)) out[ns]!.push(entry);
  }
  return out;
}
