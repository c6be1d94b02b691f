import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, readCsv, runCli, tempDir } from './helpers.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A /messages endpoint that answers each recipient its own way: status, headers, body. */
async function endpoint(answers: Record<string, [number, string]>): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (part) => { body += part; });
    req.on('end', () => {
      const [status, text] = answers[JSON.parse(body).to] ?? [500, ''];
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 302 ? { location: 'http://127.0.0.1:1/' } : {}) });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('send against an endpoint that is not quite Meta', () => {
  it('strikes a number only for a 131026 Meta could have said: odd answers leave the row unknown and the lists untouched', async () => {
    const meta131026 = JSON.stringify({ error: { message: '(#131026) Message undeliverable', type: 'OAuthException', code: 131026 } });
    const url = await endpoint({
      '+6281200000001': [200, meta131026], // an error code on a success status
      '+6281200000002': [200, '{}'], // a success without a message id
      '+6281200000003': [200, JSON.stringify({ messages: [{ id: 'wamid.x' }], pad: 'x'.repeat(2 << 20) })], // larger than any answer of Meta's
      '+6281200000004': [400, JSON.stringify({ error: { code: '131026' } })], // a code that is not a number
      '+6281200000005': [302, ''],
      '+6281200000006': [400, meta131026], // the real thing: struck and blacklisted
    });
    const dir = tempDir();
    const input = join(dir, 'c.csv');
    writeFileSync(input, 'id,to,template,language,param_1,param_2\n' + [1, 2, 3, 4, 5, 6].map((i) => `${i},+62 812 0000 000${i},order_update,en_US,A,b`).join('\n') + '\n');
    const args = ['send', input, '--phone-number-id', '100000000000001', '--api-url', url, '--templates', join(FIXTURES, 'templates.json'),
      '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--json', '--tier', 'unlimited'];
    const run = await runCli(args, { env: { WA_GUARD_TOKEN: 't' } });
    expect(run.code).toBe(0);
    expect(readCsv(join(dir, 'out', 'results.csv')).map((r) => [r.id, r.status, r.error_code])).toEqual([
      ['1', 'unknown', ''], ['2', 'unknown', ''], ['3', 'unknown', ''], ['4', 'unknown', ''], ['5', 'unknown', ''], ['6', 'failed', '131026'],
    ]);
    expect(JSON.parse(run.stdout).sending).toMatchObject({ strikes: 1, blacklisted: 1 });
    const blacklist = JSON.parse((await runCli(['blacklist', 'list', '--store', join(dir, 'store'), '--json'])).stdout);
    expect(JSON.stringify(blacklist)).toContain('6281200000006');
    expect(JSON.stringify(blacklist)).not.toMatch(/628120000000[1-5]/);
  });
});
