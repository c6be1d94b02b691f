import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { openStore } from '../src/store/open.js';
import { BIN, FIXTURES, readCsv, runCli, tempDir } from './helpers.js';

const TOKEN = 'test-token';
const PHONE_ID = '100000000000001';
const templates = join(FIXTURES, 'templates.json');
const redisBase = inject('redisUrl');
const open: (Client | Simulator)[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function simulator(): Promise<Simulator> {
  const sim = await startSimulator({ token: TOKEN, registeredFraction: 1 });
  open.push(sim);
  return sim;
}

/** The SDK's own client, spawning `wa-guard mcp` over stdio. */
async function client(store: string, args: string[], env: Record<string, string> = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath, args: [BIN, 'mcp', '--store', store, '--templates', templates, '-c', 'ID', ...args],
    env: { PATH: process.env.PATH ?? '', ...env }, stderr: 'pipe',
  });
  const c = new Client({ name: 'wa-guard-test', version: '1.0.0' });
  await c.connect(transport);
  open.push(c);
  return c;
}

type Structured = Record<string, unknown>;
async function call(c: Client, name: string, args: Record<string, unknown>): Promise<Structured> {
  const r = await c.callTool({ name, arguments: args });
  expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
  return r.structuredContent as Structured;
}

/** Misuse: the SDK answers an McpError thrown by a tool as an isError result carrying its code and message. */
async function misuse(c: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const r = await c.callTool({ name, arguments: args });
  expect(r.isError).toBe(true);
  expect(r.structuredContent).toBeUndefined();
  return (r.content as { text: string }[])[0]!.text;
}

const live = (sim: Simulator): string[] => ['--phone-number-id', PHONE_ID, '--api-url', sim.url];

describe('wa-guard mcp (the SDK client over stdio)', () => {
  it('lists the tools with schemas and honest annotations, and answers each one', async () => {
    const sim = await simulator();
    const dir = tempDir();
    const c = await client(join(dir, 'store'), live(sim), { WA_GUARD_TOKEN: TOKEN });
    const { tools } = await c.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(['blacklist_add', 'blacklist_remove', 'campaign_report', 'check_message', 'check_number', 'explain_error', 'get_contact',
      'get_message_status', 'list_templates', 'optout_add', 'optout_remove', 'send_template', 'send_text']);
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema?.type).toBe('object');
      expect(t.annotations?.readOnlyHint).toBe(['check_number', 'check_message', 'get_message_status', 'get_contact', 'explain_error', 'list_templates', 'campaign_report'].includes(t.name));
    }
    expect(tools.find((t) => t.name === 'send_template')!.annotations).toMatchObject({ openWorldHint: true, idempotentHint: true });

    expect(await call(c, 'check_number', { phone: '+62 812 0000 0001' })).toMatchObject({ valid: true, e164: '+6281200000001', line_type: 'mobile', blacklist: null });
    expect(await call(c, 'check_number', { phone: '(11) 98765-4321', country: 'Brazil' })).toMatchObject({ valid: true, e164: '+5511987654321' });
    expect(await misuse(c, 'check_number', { phone: '0812', country: 'Atlantis' })).toMatch(/"Atlantis" is not a country/);
    const text = await call(c, 'check_message', { to: '+6281200000001', text: 'hi' });
    expect(text).toMatchObject({ allowed: false, decision: 'block', reason: 'outside_care_window' });
    expect(String(text.suggested_action)).toContain('order_update (en_US');
    const sent = await call(c, 'send_template', { to: '+6281200000001', name: 'order_update', language: 'en_US', params: ['A-1', 'today'], idempotency_key: 'order-A-1' });
    expect(sent).toMatchObject({ allowed: true, status: 'sent', idempotency_key: 'order-A-1' });
    const again = await call(c, 'send_template', { to: '+6281200000001', name: 'order_update', language: 'en_US', params: ['A-1', 'today'], idempotency_key: 'order-A-1' });
    expect(again).toMatchObject({ status: 'sent', wamid: sent.wamid, repeated: true });
    expect(sim.stats().messages_accepted).toBe(1);
    // The same key for another message is misuse: an MCP error the agent can act on.
    expect(await misuse(c, 'send_template', { to: '+6281200000002', name: 'order_update', language: 'en_US', params: ['A-1', 'today'], idempotency_key: 'order-A-1' }))
      .toMatch(/order-A-1.*different message/);
    const refused = await call(c, 'send_text', { to: '+6281200000003', body: 'hello', idempotency_key: 'text-1' });
    expect(refused).toMatchObject({ allowed: false, status: 'blocked', reason: 'outside_care_window' });
    expect(await call(c, 'get_message_status', { idempotency_key: 'order-A-1' })).toMatchObject({ found: true, status: 'sent', wamid: sent.wamid });
    expect(await call(c, 'get_message_status', { wamid: sent.wamid })).toMatchObject({ found: true, journal_key: 'mcp:order-A-1' });
    expect(await call(c, 'get_contact', { to: '+6281200000001' })).toMatchObject({ wa_id: '6281200000001', blacklisted: null, care_window_open_until: null });
    expect(await call(c, 'explain_error', { code: 131026 })).toMatchObject({ code: 131026, action: 'undeliverable' });
    expect(await call(c, 'explain_error', { code: '131049' })).toMatchObject({ code: 131049 }); // agents often pass codes as text
    expect((await call(c, 'list_templates', { status: 'APPROVED' })).templates).toHaveLength(4);
    expect(await call(c, 'campaign_report', { campaign: 'mcp' })).toMatchObject({ funnel: { sent: 1 } });
    expect(await call(c, 'blacklist_add', { phone: '+6281200000009', reason: 'asked us to stop' })).toMatchObject({ changed: true, now_listed: true });
    expect(await call(c, 'check_message', { to: '+6281200000009', template: { name: 'order_update', language: 'en_US', params: ['a', 'b'] } })).toMatchObject({ allowed: false, reason: 'blacklisted' });
    expect(await call(c, 'blacklist_remove', { phone: '+6281200000009' })).toMatchObject({ changed: true });
    // wa_id-shaped digits are that wa_id, as `wa-guard blacklist add` reads them (the server runs with -c ID), with a note
    expect(await call(c, 'blacklist_add', { phone: '81234567890' })).toMatchObject({ wa_id: '81234567890', note: 'read as the wa_id +81234567890; for +6281234567890 give it with its +' });
    expect(await call(c, 'blacklist_remove', { phone: '81234567890' })).toMatchObject({ wa_id: '81234567890', changed: true });
    expect(await call(c, 'optout_add', { phone: '+6281200000008', scope: 'marketing' })).toMatchObject({ now_listed: true });
    expect(await call(c, 'optout_remove', { phone: '+6281200000008' })).toMatchObject({ changed: true });
    await expect(c.callTool({ name: 'explain_error', arguments: { code: 'x' } })).resolves.toMatchObject({ isError: true });
    expect(sim.stats().messages_accepted).toBe(1);
  });

  it('--read-only exposes only checks and reads; --dry-run rehearses; --max-sends stops a looping agent', async () => {
    const sim = await simulator();
    const dir = tempDir();
    const ro = await client(join(dir, 'store'), ['--read-only', ...live(sim)], { WA_GUARD_TOKEN: TOKEN });
    const roNames = (await ro.listTools()).tools.map((t) => t.name);
    expect(roNames).not.toContain('send_template');
    expect(roNames).not.toContain('blacklist_add');
    const dry = await client(join(dir, 'store2'), ['--dry-run', ...live(sim)], { WA_GUARD_TOKEN: TOKEN });
    expect(await call(dry, 'send_template', { to: '+6281200000001', name: 'order_update', language: 'en_US', params: ['A', 'B'], idempotency_key: 'k' }))
      .toMatchObject({ allowed: true, status: 'rehearsed', decision: 'send' });
    expect(await call(dry, 'get_message_status', { idempotency_key: 'k' })).toMatchObject({ found: false });
    expect(await call(dry, 'blacklist_add', { phone: '+6281200000001' })).toMatchObject({ rehearsed: true, now_listed: false });
    expect(await call(dry, 'check_number', { phone: '+6281200000001' })).toMatchObject({ blacklist: null }); // nothing written
    const capped = await client(join(dir, 'store3'), ['--max-sends', '1', ...live(sim)], { WA_GUARD_TOKEN: TOKEN });
    await call(capped, 'send_template', { to: '+6281200000001', name: 'order_update', language: 'en_US', params: ['A', 'B'], idempotency_key: 'm1' });
    expect(await misuse(capped, 'send_template', { to: '+6281200000002', name: 'order_update', language: 'en_US', params: ['A', 'B'], idempotency_key: 'm2' }))
      .toMatch(/--max-sends 1 reached/);
    expect(sim.stats().messages_accepted).toBe(1);
  });

  it('the messaging limit counts this server\'s own sends at once, beside the conversations other processes opened', async () => {
    const sim = await simulator();
    const dir = tempDir();
    const store = join(dir, 'store');
    const other = await openStore(store, {}, dir); // a campaign sent by another process today
    const at = new Date().toISOString();
    await other.set('conversations', Array.from({ length: 998 }, (_, i) => ({ key: String(6281300000000 + i), value: at, ttlMs: 86_400_000 })));
    await other.close();
    const c = await client(store, [...live(sim), '--tier', '1000', '--pair-interval', '0s'], { WA_GUARD_TOKEN: TOKEN });
    const send = (to: string, key: string): Promise<Structured> => call(c, 'send_template', { to, name: 'order_update', language: 'en_US', params: ['A', 'B'], idempotency_key: key });
    expect(await send('+6281200000001', 'a')).toMatchObject({ status: 'sent' });
    expect(await send('+6281200000002', 'b')).toMatchObject({ status: 'sent' });
    expect(await send('+6281200000003', 'c')).toMatchObject({ allowed: false, status: 'deferred', reason: 'tier_limit' });
    const check = (to: string): Promise<Structured> => call(c, 'check_message', { to, template: { name: 'order_update', language: 'en_US', params: ['C', 'D'] } });
    expect(await check('+6281200000004')).toMatchObject({ allowed: false, reason: 'tier_limit' });
    expect(await check('+6281200000001')).toMatchObject({ allowed: true }); // a user reached today opens nothing new
    expect(sim.stats().messages_accepted).toBe(2);
  });

  it('check_message decides exactly as send --dry-run on the same store', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const c = await client(store, []);
    await call(c, 'blacklist_add', { phone: '+6281200000002', reason: 'test' });
    await call(c, 'optout_add', { phone: '+6281200000003', scope: 'marketing' });
    await call(c, 'optout_add', { phone: '+6281200000004' });
    const rows: [string, string, string, string, string, string][] = [
      ['+6281200000001', 'order_update', 'en_US', 'A', 'B', ''],
      ['+6281200000002', 'order_update', 'en_US', 'A', 'B', ''],
      ['+6281200000003', 'spring_sale', 'en_US', '20%', '', ''],
      ['+6281200000003', 'order_update', 'en_US', 'A', 'B', ''],
      ['+6281200000004', 'order_update', 'en_US', 'A', 'B', ''],
      ['+6281200000005', 'old_promo', 'en_US', '', '', ''],
      ['+6281200000006', 'order_update', 'en_US', 'A', '', ''],
      ['+6281200000007', 'nope', 'en_US', '', '', ''],
      ['+6281200000008', 'order_update', 'pt_BR', 'A', 'B', ''],
      ['+12025550123', 'spring_sale', 'en_US', '20%', '', ''],
      ['+919812345678', 'login_code', 'en_US', '123', '', ''],
      ['+6281200000009', '', '', '', '', 'hello'],
      ['12', 'order_update', 'en_US', 'A', 'B', ''],
    ];
    const csv = join(dir, 'c.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(csv, 'id,to,template,language,param_1,param_2,text\n' + rows.map((r, i) => [i, ...r].join(',')).join('\n') + '\n');
    await c.close();
    open.pop();
    const dry = await runCli(['send', csv, '--dry-run', '-c', 'ID', '--templates', templates, '-o', join(dir, 'out'), '--store', store]);
    expect(dry.code, dry.stderr).toBe(0);
    const gated = readCsv(join(dir, 'out', 'gate.csv'));
    const c2 = await client(store, []);
    for (const [i, [to, name, language, p1, p2, text]] of rows.entries()) {
      const params = [p1, p2].filter((p) => p !== '');
      const r = await call(c2, 'check_message', name ? { to, template: { name, language, params } } : { to, text });
      expect({ row: i, decision: r.decision, reason: r.reason }).toEqual({ row: i, decision: gated[i]!.decision, reason: gated[i]!.reason });
    }
    expect(new Set(gated.map((g) => g.reason)).size).toBeGreaterThan(8);
  });

  for (const backend of ['embedded', 'redis'] as const) {
    it.skipIf(backend === 'redis' && !redisBase)(`an agent retry storm on one ${backend} store: 100 calls, 20 keys, 4 servers → exactly 20 messages`, async () => {
      const sim = await simulator();
      const dir = tempDir();
      const store = backend === 'redis' ? `${redisBase}/9` : join(dir, 'store');
      if (backend === 'redis') await runCli(['cache', 'clear', '--yes', '--store', store]).catch(() => undefined);
      const clients = await Promise.all([0, 1, 2, 3].map(() => client(store, [...live(sim), '--tier', 'unlimited', '--pair-interval', '0s', '--mps', '1000'], { WA_GUARD_TOKEN: TOKEN })));
      const runId = `${Date.now()}`;
      const calls = Array.from({ length: 100 }, (_, i) => {
        const k = i % 20;
        return call(clients[i % 4]!, 'send_template', { to: `+62812${runId.slice(-4)}${String(k).padStart(4, '0')}`, name: 'order_update', language: 'en_US', params: [`O-${k}`, 'today'], idempotency_key: `storm-${runId}-${k}` })
          .then((r) => ({ k, r }));
      });
      const answers = await Promise.all(calls);
      expect(sim.stats().messages_accepted).toBe(20);
      const wamidOf = new Map<number, unknown>();
      for (const { k, r } of answers) {
        expect(r, JSON.stringify(r)).toMatchObject({ status: 'sent', idempotency_key: `storm-${runId}-${k}` });
        if (!wamidOf.has(k)) wamidOf.set(k, r.wamid);
        expect(r.wamid).toBe(wamidOf.get(k));
      }
      expect(new Set(wamidOf.values()).size).toBe(20);
    }, 60_000);
  }
});
