import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { BIN, FIXTURES, runCli, tempDir } from './helpers.js';

const TOKEN = 'test-token';
const PHONE_ID = '100000000000001';
const templates = join(FIXTURES, 'templates.json');
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close().catch(() => undefined);
});

async function client(store: string, apiUrl: string, extra: string[] = []): Promise<{ c: Client; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({
    command: process.execPath, args: [BIN, 'mcp', '--store', store, '--templates', templates, '-c', 'ID', '--phone-number-id', PHONE_ID, '--api-url', apiUrl, ...extra],
    env: { PATH: process.env.PATH ?? '', WA_GUARD_TOKEN: TOKEN }, stderr: 'pipe',
  });
  const c = new Client({ name: 'wa-guard-test', version: '1.0.0' });
  await c.connect(transport);
  open.push(c);
  return { c, transport };
}

async function call(c: Client, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await c.callTool({ name, arguments: args });
  expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
  return r.structuredContent as Record<string, unknown>;
}

const order = (to: string, key: string) => ({ to, name: 'order_update', language: 'en_US', params: ['A-1', 'today'], idempotency_key: key });

describe('wa-guard mcp safety', () => {
  it('--approve: a send waits for `wa-guard mcp approve TOKEN` from a person at a terminal; reject never sends', async () => {
    const sim = await startSimulator({ token: TOKEN, registeredFraction: 1 });
    open.push(sim);
    const store = join(tempDir(), 'store');
    const { c } = await client(store, sim.url, ['--approve']);
    const held = await call(c, 'send_template', order('+6281200000001', 'appr-1'));
    expect(held).toMatchObject({ allowed: true, status: 'pending_approval' });
    const token = String(held.approval_token);
    expect(await call(c, 'send_template', order('+6281200000001', 'appr-1'))).toMatchObject({ status: 'pending_approval', approval_token: token });
    expect(await call(c, 'get_message_status', { idempotency_key: 'appr-1' })).toMatchObject({ found: true, status: 'pending_approval', approval_token: token });
    const other = await call(c, 'send_template', order('+6281200000002', 'appr-2'));
    // An agent's text that would erase the line above and draw a fake entry on the approver's terminal.
    const forged = await call(c, 'send_template', { ...order('+6281200000003', 'appr-3'), params: ['A\n\u001b[2K\u001b[1A\u001b[2Kfake  to +6281200000009: template order_update', 'B\u202e'] });
    expect(forged).toMatchObject({ status: 'pending_approval' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(sim.stats().messages_accepted).toBe(0);

    const listed = await runCli(['mcp', 'approve', '--store', store]);
    expect(listed.stdout).toContain(token);
    expect(listed.stdout).toContain('order_update (en_US)');
    expect(listed.stdout).not.toMatch(/[\u001b\u202e]/);
    expect(listed.stdout).toContain('A\\u000a\\u001b[2K\\u001b[1A');
    expect(listed.stdout.trim().split('\n')).toHaveLength(3); // one line a message, whatever they hold
    expect((await runCli(['mcp', 'reject', String(forged.approval_token), '--store', store])).code).toBe(0);
    const approved = await runCli(['mcp', 'approve', token, '--store', store]);
    expect(approved.code, approved.stderr).toBe(0);
    expect((await runCli(['mcp', 'reject', String(other.approval_token), '--store', store])).code).toBe(0);
    const twice = await runCli(['mcp', 'approve', token, '--store', store]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('already approved');

    let status: Record<string, unknown> = {};
    for (let i = 0; i < 100 && status.status !== 'sent'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await call(c, 'get_message_status', { idempotency_key: 'appr-1' });
    }
    expect(status).toMatchObject({ found: true, status: 'sent' });
    expect(await call(c, 'send_template', order('+6281200000001', 'appr-1'))).toMatchObject({ status: 'sent', repeated: true });
    expect(await call(c, 'send_template', order('+6281200000002', 'appr-2'))).toMatchObject({ allowed: false, status: 'rejected' });
    expect(await call(c, 'get_message_status', { idempotency_key: 'appr-2' })).toMatchObject({ found: true, status: 'rejected' });
    expect(sim.stats().messages_accepted).toBe(1);
  }, 30_000);

  it('a kill -9 between Meta\'s acceptance and its answer: the same call again sends nothing and says unknown, with the key', async () => {
    // A hostile API: it takes every message (counts it) and never answers.
    let posts = 0;
    const held: import('node:http').ServerResponse[] = [];
    const api: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'POST') posts++;
        held.push(res);
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    open.push({ close: () => new Promise((r) => { for (const res of held) res.destroy(); api.close(() => r()); }) });
    const url = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
    const store = join(tempDir(), 'store');
    const first = await client(store, url);
    const pending = first.c.callTool({ name: 'send_template', arguments: order('+6281200000001', 'crash-1') }).catch(() => undefined);
    for (let i = 0; i < 100 && posts === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(posts).toBe(1);
    process.kill(first.transport.pid!, 'SIGKILL');
    await pending;

    const second = await client(store, url);
    const again = await call(second.c, 'send_template', order('+6281200000001', 'crash-1'));
    expect(again).toMatchObject({ status: 'unknown', idempotency_key: 'crash-1', repeated: true });
    expect(String(again.reason)).toContain('may have been sent');
    expect(posts).toBe(1);
    expect(await call(second.c, 'get_message_status', { idempotency_key: 'crash-1' })).toMatchObject({ found: true, status: 'in_flight' });
  }, 30_000);

  it('a stop code from Meta (190: the token) makes every later send fail with the reason until the server restarts', async () => {
    const sim = await startSimulator({ token: TOKEN, registeredFraction: 1, errors: { '+6281200000005': 190 } });
    open.push(sim);
    const store = join(tempDir(), 'store');
    const { c, transport } = await client(store, sim.url);
    let logged = '';
    transport.stderr!.on('data', (d: Buffer) => { logged += d.toString(); });
    const stopped = await call(c, 'send_template', order('+6281200000005', 'stop-1'));
    expect(stopped).toMatchObject({ status: 'failed', code: 190 });
    const after = await c.callTool({ name: 'send_template', arguments: order('+6281200000006', 'stop-2') });
    expect(after.isError).toBe(true);
    expect((after.content as { text: string }[])[0]!.text).toMatch(/sending is stopped \(190 .*\): fix it and restart wa-guard mcp/);
    expect(await call(c, 'check_message', { to: '+6281200000006', template: { name: 'order_update', language: 'en_US', params: ['A', 'B'] } })).toMatchObject({ decision: 'send' });
    expect(sim.stats().messages_accepted).toBe(0);
    await c.close();
    expect(logged).toContain('serving on stdio');
    expect(logged + JSON.stringify(stopped) + JSON.stringify(after)).not.toContain(TOKEN);
  }, 30_000);
});
