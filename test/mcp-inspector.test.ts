import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { BIN, FIXTURES, ROOT, tempDir } from './helpers.js';

const run = promisify(execFile);
const INSPECTOR = join(ROOT, 'node_modules', '@modelcontextprotocol', 'inspector', 'cli', 'build', 'cli.js');
const TOKEN = 'test-token';
const canRun = existsSync(INSPECTOR);
if (!canRun) console.warn(`mcp-inspector test skipped: ${INSPECTOR} is missing (npm install the devDependency @modelcontextprotocol/inspector@0.15.0)`);

let sim: Simulator;
let store: string;
beforeAll(async () => {
  sim = await startSimulator({ token: TOKEN, registeredFraction: 1 });
  store = join(tempDir(), 'store');
});
afterAll(async () => sim?.close());

/** The official Inspector CLI against `wa-guard mcp`: its JSON answer (it exits 0 even when a tool answers isError, so the JSON is checked). */
async function inspector(method: string, tool?: { name: string; args: Record<string, unknown> }): Promise<Record<string, unknown>> {
  const args = [INSPECTOR, '--cli', process.execPath, BIN, 'mcp', '--store', store, '--templates', join(FIXTURES, 'templates.json'), '-c', 'ID',
    '--phone-number-id', '100000000000001', '--api-url', sim.url, '-e', `WA_GUARD_TOKEN=${TOKEN}`, '--method', method];
  if (tool) {
    args.push('--tool-name', tool.name);
    for (const [k, v] of Object.entries(tool.args)) args.push('--tool-arg', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  const { stdout } = await run(process.execPath, args, { timeout: 30_000, env: { PATH: process.env.PATH ?? '' } });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe.skipIf(!canRun)('the MCP Inspector CLI (a client no one here wrote)', () => {
  it('lists the tools and calls each one', async () => {
    const listed = await inspector('tools/list');
    const names = (listed.tools as { name: string }[]).map((t) => t.name);
    expect(names).toHaveLength(13);
    const calls: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['check_number', { phone: '+6281200000001' }, { valid: true, e164: '+6281200000001' }],
      ['check_message', { to: '+6281200000001', text: 'hi' }, { allowed: false, reason: 'outside_care_window' }],
      ['send_template', { to: '+6281200000001', name: 'order_update', language: 'en_US', params: ['A-1', 'today'], idempotency_key: 'insp-1' }, { status: 'sent' }],
      ['send_text', { to: '+6281200000002', body: 'hi', idempotency_key: 'insp-2' }, { allowed: false, status: 'blocked' }],
      ['get_message_status', { idempotency_key: 'insp-1' }, { found: true, status: 'sent' }],
      ['get_contact', { to: '+6281200000001' }, { wa_id: '6281200000001' }],
      ['explain_error', { code: 131047 }, { code: 131047 }],
      ['list_templates', { language: 'en_US' }, { known: true }],
      ['campaign_report', { campaign: 'mcp' }, { funnel: { sent: 1 } }],
      ['blacklist_add', { phone: '+6281200000003', reason: 'test' }, { now_listed: true }],
      ['blacklist_remove', { phone: '+6281200000003' }, { changed: true }],
      ['optout_add', { phone: '+6281200000004' }, { now_listed: true }],
      ['optout_remove', { phone: '+6281200000004' }, { changed: true }],
    ];
    expect(calls.map((c) => c[0]).sort()).toEqual([...names].sort());
    for (const [name, args, expected] of calls) {
      const r = await inspector('tools/call', { name, args });
      expect(r.isError, `${name}: ${JSON.stringify(r.content)}`).toBeFalsy();
      expect(r.structuredContent, name).toMatchObject(expected);
    }
    expect(sim.stats().messages_accepted).toBe(1);
  }, 60_000);
});
