import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, FIXTURES, runCli, tempDir } from './helpers.js';

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
});

/** `wa-guard mcp --http 0 …` as a process; resolves with the URL it prints on stdout. */
async function serveHttp(args: string[], env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'mcp', '--http', '0', '--store', join(tempDir(), 'store'), '--templates', join(FIXTURES, 'templates.json'), '-c', 'ID', ...args], {
    env: { PATH: process.env.PATH, HOME: tempDir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const [line] = await once(child.stdout!, 'data') as [Buffer];
  return { url: String(line).trim(), child };
}

describe('wa-guard mcp --http', () => {
  it('serves the tools over Streamable HTTP, only to a client with the bearer token, and stops on SIGTERM', async () => {
    const { url, child } = await serveHttp([], { WA_GUARD_MCP_TOKEN: 'agent-secret' });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);

    const anonymous = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' }, body: '{}' });
    expect(wrong.status).toBe(401);

    const client = new Client({ name: 'wa-guard-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: 'Bearer agent-secret' } } }));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('check_message');
    const explained = await client.callTool({ name: 'explain_error', arguments: { code: 131026 } });
    expect(explained.structuredContent).toMatchObject({ code: 131026, action: 'undeliverable' });
    const checked = await client.callTool({ name: 'check_message', arguments: { to: '+6281234567890', template: { name: 'order_update', language: 'en_US', params: ['A-1', 'today'] } } });
    expect(checked.structuredContent).toMatchObject({ decision: 'send', allowed: true });
    await client.close();

    child.kill('SIGTERM');
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
  });

  it('listens on loopback by default; another address only with WA_GUARD_MCP_TOKEN (exit 2 and why)', async () => {
    const open = await runCli(['mcp', '--http', '0', '--host', '0.0.0.0', '--store', join(tempDir(), 'store')]);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/--host 0\.0\.0\.0 is reachable from other machines: set WA_GUARD_MCP_TOKEN/);
    const stray = await runCli(['mcp', '--host', '0.0.0.0', '--store', join(tempDir(), 'store')]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--host is for --http PORT/);
  });
});
