import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../src/store/embedded.js';
import { BIN, files, readCsv, runCli, tempDir } from './helpers.js';

const TOKEN = 'hostile-test-token-5f1c';
const env = { WA_GUARD_TOKEN: TOKEN };
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** A real HTTP server that answers /v1/contacts as the test says: the numbers asked come parsed. */
async function endpoint(answer: (asked: string[], req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (b) => { body += b; });
    req.on('end', () => {
      let asked: string[] = [];
      try { asked = JSON.parse(body).contacts; } catch { /* not JSON */ }
      answer(asked, req, res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function input(dir: string): string {
  const path = join(dir, 'in.csv');
  writeFileSync(path, 'id,phone\n1,+62 812 0000 0001\n2,+62 812 0000 0002\n3,+55 11 98765 4321\n');
  return path;
}

async function clean(url: string, dir: string, extra: string[] = []) {
  return runCli(['clean', input(dir), '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--contacts-url', url, '--json', '--timeout', '5s', ...extra], { env });
}

/** Everything the store holds in the lists an answer could poison. */
async function lists(dir: string): Promise<{ status: [string, string][]; blacklist: [string, string][] }> {
  const store = await EmbeddedStore.open(join(dir, 'store'));
  const out = { status: [] as [string, string][], blacklist: [] as [string, string][] };
  for await (const e of store.scan('status')) out.status.push(e);
  for await (const e of store.scan('blacklist')) out.blacklist.push(e);
  await store.close();
  return out;
}

describe('verification against a hostile endpoint', () => {
  it('refuses answers about numbers it did not ask: nothing cached, nothing blacklisted', async () => {
    const url = await endpoint((asked, _req, res) => json(res, 200, {
      contacts: [...asked.map((input) => ({ input, status: 'valid', wa_id: input.replace(/\D/g, '') })), { input: '+14155552671', status: 'invalid' }],
    }));
    const dir = tempDir();
    const result = await clean(url, dir);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.wa_status).toMatchObject({ valid: 0, unverified: 3 });
    expect(await lists(dir)).toEqual({ status: [], blacklist: [] });
  });

  it('refuses two different answers for one number, and a wa_id that is not the number\'s (a formula never reaches the output)', async () => {
    for (const contacts of [
      (asked: string[]) => [...asked.map((input) => ({ input, status: 'valid', wa_id: input.replace(/\D/g, '') })), { input: asked[0], status: 'invalid' }],
      (asked: string[]) => asked.map((input) => ({ input, status: 'valid', wa_id: '=HYPERLINK("http://evil")' })),
      (asked: string[]) => asked.map((input) => ({ input, status: 'valid', wa_id: '14155552671' })), // another country's number
    ]) {
      const url = await endpoint((asked, _req, res) => json(res, 200, { contacts: contacts(asked) }));
      const dir = tempDir();
      const result = await clean(url, dir, ['--verify']);
      expect(result.code).toBe(1); // --verify, and nothing could be verified
      expect(result.stderr).toMatch(/3 numbers could not be verified/);
      const cleaned = readCsv(join(dir, 'out', 'cleaned.csv'));
      expect(cleaned.map((r) => r.wa_status)).toEqual(['unverified', 'unverified', 'unverified']);
      expect(JSON.stringify(cleaned)).not.toMatch(/HYPERLINK|14155552671/);
      expect(await lists(dir)).toEqual({ status: [], blacklist: [] });
      server!.closeAllConnections();
      await new Promise((r) => server!.close(r));
      server = undefined;
    }
  });

  it('cuts off an answer larger than a few MB and treats the request as failed', async () => {
    const url = await endpoint((_asked, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"contacts":[');
      const chunk = '{"input":"+6281200000001","status":"valid","wa_id":"6281200000001"},'.repeat(2000);
      let sent = 0;
      const more = (): void => {
        while (sent < 80 && res.write(chunk)) sent++;
        if (sent < 80) res.once('drain', more);
        else res.end('{}]}');
      };
      more();
    });
    const dir = tempDir();
    const result = await clean(url, dir);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).wa_status.unverified).toBe(3);
    expect(await lists(dir)).toEqual({ status: [], blacklist: [] });
  });

  it('an endpoint nobody listens on ends the run within seconds: exit 1, the URL named, no outputs', async () => {
    const dir = tempDir();
    const started = Date.now();
    const result = await clean('http://127.0.0.1:9', dir);
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.stderr).toMatch(/^wa-guard: cannot reach the \/contacts endpoint at http:\/\/127\.0\.0\.1:9\/v1\/contacts: .*ECONNREFUSED/m);
    expect(files(join(dir, 'out'))).toEqual([]);
  });

  it('a 400 is one line with the endpoint\'s code and a hint; a token in its message is never echoed', async () => {
    const url = await endpoint((_asked, req, res) => json(res, 400, {
      error: { code: 100, message: `too many contacts for ${req.headers.authorization}; token ${TOKEN}`, type: 'OAuthException' },
    }));
    const dir = tempDir();
    const result = await clean(url, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^wa-guard: the \/contacts endpoint at .* answered HTTP 400, code 100: too many contacts for Bearer \*\*\*; token \*\*\*; if it is about the number of contacts, lower --batch-size$/m);
    expect(result.stderr).not.toContain(TOKEN);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(files(join(dir, 'out'))).toEqual([]);
  });

  it('a token read from a CRLF file is trimmed', async () => {
    const url = await endpoint((asked, req, res) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, { error: { code: 190, message: 'bad token' } });
      json(res, 200, { contacts: asked.map((input) => ({ input, status: 'valid', wa_id: input.replace(/\D/g, '') })) });
    });
    const dir = tempDir();
    const result = await runCli(['clean', input(dir), '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--contacts-url', url, '--json'], { env: { WA_GUARD_TOKEN: `${TOKEN}\r\n` } });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).wa_status.valid).toBe(3);
  });

  it('Ctrl-C during a Retry-After wait ends the run at once, not after the wait: exit 130, no outputs', async () => {
    const url = await endpoint((_asked, _req, res) => json(res, 429, { error: { code: 4, message: 'slow down' } }, { 'retry-after': '30' }));
    const dir = tempDir();
    const child = spawn(process.execPath, [BIN, 'clean', input(dir), '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--contacts-url', url],
      { env: { PATH: process.env.PATH, HOME: dir, ...env } });
    let stderr = '';
    child.stderr.on('data', (b) => { stderr += b; });
    await new Promise((r) => setTimeout(r, 1500));
    const at = Date.now();
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('close', r));
    expect(Date.now() - at).toBeLessThan(15_000); // not the 30 s Retry-After (a busy machine may take seconds to exit)
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted by SIGINT/);
    expect(stderr).not.toMatch(/unexpected error/);
    expect(files(join(dir, 'out'))).toEqual([]);
  });

  it('--fail-on unverified exits 3 when verification left numbers unsettled', async () => {
    const url = await endpoint((asked, _req, res) => json(res, 200, { contacts: asked.map((input) => ({ input, status: 'failed' })) }));
    const dir = tempDir();
    const result = await clean(url, dir, ['--fail-on', 'unverified']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/unverified \(3\)/);
  });
});
