import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { DEFAULT_TOKEN } from '../src/simulator/world.js';
import { BIN, ROOT, runCli, tempDir } from './helpers.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function call(path: string, body?: unknown, token = DEFAULT_TOKEN) {
  const res = await request(sim!.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.statusCode, headers: res.headers, text, json };
}

const PHONE_ID = '100000000000001';
const template = (to: string, name = 'hello_world', params: string[] = []) => ({
  messaging_product: 'whatsapp', to, type: 'template',
  template: { name, language: { code: 'en_US' }, components: params.length ? [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }] : [] },
});
const text = (to: string) => ({ messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { preview_url: false, body: 'Hi' } });
const send = (body: unknown, token?: string) => call(`/v21.0/${PHONE_ID}/messages`, body, token);

describe('simulator: /v1/contacts', () => {
  it('answers valid with Meta\'s wa_id, invalid, and failed for malformed input', async () => {
    sim = await startSimulator({ registered: ['+6281234567890', '+525512345678', '+5531987654321', '+5511987654321'], registeredFraction: 0 });
    const { status, json } = await call('/v1/contacts', {
      blocking: 'wait', contacts: ['+6281234567890', '+525512345678', '+55 31 98765-4321', '5511987654321', '+6281311223344', 'not a number'],
    });
    expect(status).toBe(200);
    expect(json.contacts).toEqual([
      { input: '+6281234567890', status: 'valid', wa_id: '6281234567890' },
      { input: '+525512345678', status: 'valid', wa_id: '5215512345678' }, // Mexico: 521
      { input: '+55 31 98765-4321', status: 'valid', wa_id: '553187654321' }, // Brazil, area 31+: no ninth digit
      { input: '5511987654321', status: 'valid', wa_id: '5511987654321' }, // area 11 keeps it
      { input: '+6281311223344', status: 'invalid' },
      { input: 'not a number', status: 'failed' },
    ]);
    expect(json.meta.api_status).toBe('stable');
  });

  it('no_wait answers processing for a number not checked yet, then resolves it', async () => {
    sim = await startSimulator({ registeredFraction: 1 });
    const first = await call('/v1/contacts', { blocking: 'no_wait', contacts: ['+6281234567890'] });
    expect(first.json.contacts[0].status).toBe('processing');
    const second = await call('/v1/contacts', { contacts: ['+6281234567890'] });
    expect(second.json.contacts[0]).toEqual({ input: '+6281234567890', status: 'valid', wa_id: '6281234567890' });
    const forced = await call('/v1/contacts', { contacts: ['+6281234567890'], force_check: true });
    expect(forced.json.contacts[0].status).toBe('processing');
  });

  it('always-valid mode says valid for everyone, as Meta does since v2.43', async () => {
    sim = await startSimulator({ mode: 'always-valid', registeredFraction: 0 });
    const { json } = await call('/v1/contacts', { blocking: 'wait', contacts: ['+6281311223344'] });
    expect(json.contacts[0]).toEqual({ input: '+6281311223344', status: 'valid', wa_id: '6281311223344' });
  });

  it('splits a large file by a stable hash of the number', async () => {
    sim = await startSimulator({ registeredFraction: 0.7, seed: 9 });
    const numbers = Array.from({ length: 1000 }, (_, i) => `+62812${String(i).padStart(8, '0')}`);
    const { json } = await call('/v1/contacts', { blocking: 'wait', contacts: numbers });
    const valid = json.contacts.filter((c: any) => c.status === 'valid').length;
    expect(valid).toBeGreaterThan(650);
    expect(valid).toBeLessThan(750);
    const again = await call('/v1/contacts', { blocking: 'wait', contacts: numbers });
    expect(again.json).toEqual(json);
  });

  it('limits requests per second (429, Retry-After) and numbers per request (400)', async () => {
    sim = await startSimulator({ contactsRps: 3, contactsMax: 2 });
    // Eight at once: even split across two one-second windows, at most six get through.
    const burst = await Promise.all(Array.from({ length: 8 }, () => call('/v1/contacts', { blocking: 'wait', contacts: ['+6281234567890'] })));
    const limited = burst.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(limited[0]!.headers['retry-after']).toBe('1');
    expect(limited[0]!.json.error.code).toBe(4);
    await new Promise((r) => setTimeout(r, 1100));
    const big = await call('/v1/contacts', { blocking: 'wait', contacts: ['+6281234567890', '+6281311223344', '+6285712345678'] });
    expect(big.status).toBe(400);
    expect(big.json.error.code).toBe(100);
  });

  it('refuses a wrong token with 401 and code 190', async () => {
    sim = await startSimulator({ token: 'right' });
    const contacts = await call('/v1/contacts', { contacts: ['+6281234567890'] }, 'wrong');
    expect(contacts.status).toBe(401);
    expect(contacts.json.error).toMatchObject({ code: 190, type: 'OAuthException' });
    expect((await send(template('+6281234567890'), 'wrong')).json.error.code).toBe(190);
  });
});

describe('simulator: Cloud API messages', () => {
  it('accepts a template with Meta\'s success shape', async () => {
    sim = await startSimulator({ registeredFraction: 1 });
    const { status, json } = await send(template('+52 55 1234 5678', 'order_update', ['A-1001', 'tomorrow']));
    expect(status).toBe(200);
    expect(json.messaging_product).toBe('whatsapp');
    expect(json.contacts).toEqual([{ input: '+52 55 1234 5678', wa_id: '5215512345678' }]);
    expect(json.messages[0].id).toMatch(/^wamid\./);
    expect(json.messages[0].message_status).toBe('accepted');
  });

  it.each([
    ['an unknown template', template('+6281234567890', 'nope'), 132001],
    ['wrong parameter count', template('+6281234567890', 'order_update', ['only one']), 132000],
    ['free-form text outside the care window', text('+6281234567890'), 131047],
    ['an unsupported type', { messaging_product: 'whatsapp', to: '+6281234567890', type: 'sticker' }, 131051],
    ['a bad recipient', template('12'), 131009],
    ['a missing messaging_product', { to: '+6281234567890', type: 'text' }, 100],
  ])('%s', async (_, body, code) => {
    sim = await startSimulator({ registeredFraction: 1 });
    const { status, json } = await send(body);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(json.error.code).toBe(code);
    expect(json.error.message).toMatch(new RegExp(`^\\(#${code}\\) `));
  });

  it('an unknown phone number id is refused', async () => {
    sim = await startSimulator({ registeredFraction: 1 });
    const { status, json } = await call('/v21.0/999/messages', template('+6281234567890'));
    expect(status).toBe(400);
    expect(json.error.code).toBe(100);
  });

  it('free-form text goes through after the user writes (24h window)', async () => {
    sim = await startSimulator({ registeredFraction: 1 });
    expect((await call('/_sim/inbound', { from: '+6281234567890', text: 'hello' })).json.ok).toBe(true);
    expect((await send(text('+6281234567890'))).status).toBe(200);
    const old = new Date(Date.now() - 25 * 3600 * 1000).toISOString();
    await call('/_sim/inbound', { from: '+6281311223344', at: old });
    expect((await send(text('+6281311223344'))).json.error.code).toBe(131047);
  });

  it('an unregistered number: 131026 as an error in sync mode, as a failed webhook in async mode', async () => {
    const dir = tempDir();
    const hooks = join(dir, 'webhooks.jsonl');
    sim = await startSimulator({ registeredFraction: 0, undeliverable: 'sync' });
    expect((await send(template('+6281234567890'))).json.error.code).toBe(131026);
    await sim.close();

    sim = await startSimulator({ registered: ['+6281311223344'], registeredFraction: 0, webhooksOut: hooks });
    const failed = await send(template('+6281234567890'));
    expect(failed.status).toBe(200);
    const ok = await send(template('+6281311223344'));
    await call('/_sim/inbound', { from: '+6285712345678', text: 'STOP' });
    await sim.close();
    sim = undefined;
    const events = readFileSync(hooks, 'utf8').trim().split('\n').map((l) => JSON.parse(l).entry[0].changes[0].value);
    const statuses = events.flatMap((v) => v.statuses ?? []);
    expect(statuses.map((s: any) => [s.id === failed.json.messages[0].id ? 'failed-msg' : 'ok-msg', s.status])).toEqual([
      ['failed-msg', 'failed'], ['ok-msg', 'sent'], ['ok-msg', 'delivered'],
    ]);
    expect(statuses[0]).toMatchObject({ recipient_id: '6281234567890', errors: [{ code: 131026 }] });
    expect(ok.json.messages[0].id).toBe(statuses[1].id);
    const inbound = events.find((v) => v.messages)!;
    expect(inbound.messages[0]).toMatchObject({ from: '6285712345678', type: 'text', text: { body: 'STOP' } });
  });

  it('a marketing template to an opted-out user: 131050; utility still goes', async () => {
    sim = await startSimulator({ registeredFraction: 1, optedOut: ['+6281234567890'], pairIntervalMs: 0 });
    expect((await send(template('+6281234567890', 'spring_sale', ['20%']))).json.error.code).toBe(131050);
    expect((await send(template('+6281234567890'))).status).toBe(200);
  });

  it('over --mps: 130429 with HTTP 429; the same user too often: 131056', async () => {
    sim = await startSimulator({ registeredFraction: 1, mps: 5, pairIntervalMs: 0 });
    // Twenty at once: even split across two one-second windows, at most ten get through.
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => send(template(`+62812000000${String(i).padStart(2, '0')}`))));
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    expect(limited[0]!.json.error.code).toBe(130429);
    await sim.close();

    sim = await startSimulator({ registeredFraction: 1, pairIntervalMs: 6000 });
    expect((await send(template('+6281234567890'))).status).toBe(200);
    expect((await send(template('+6281234567890'))).json.error.code).toBe(131056);
  });

  it.each([
    ['error131000', 131000, 500],
    ['error131016', 131016, 503],
  ])('injects %s', async (fault, code, status) => {
    sim = await startSimulator({ registeredFraction: 1, faults: { [fault]: 1 } as never });
    const res = await send(template('+6281234567890'));
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
  });

  it('--templates: serves a message_templates file with each template\'s own status; PAUSED is refused as Meta refuses it', async () => {
    const { worldFromOptions } = await import('../src/commands/simulate.js');
    const world = await worldFromOptions({ host: '127.0.0.1', port: '0', templates: 'fixtures/templates.json' }, { cwd: ROOT, env: {} } as never);
    sim = await startSimulator({ registeredFraction: 1, pairIntervalMs: 0, ...world });
    const listed = await call('/v21.0/1/message_templates?limit=100', undefined);
    expect(listed.json.data.map((t: { name: string; status: string }) => `${t.name}:${t.status}`)).toContain('old_promo:PAUSED');
    expect((await send(template('+6281234567890', 'old_promo', ['20%']))).json.error.code).toBe(132015);
    expect((await send(template('+6281234567890', 'spring_sale', ['20%']))).status).toBe(200);
  });

  it('injects 131049 on marketing sends only', async () => {
    sim = await startSimulator({ registeredFraction: 1, pairIntervalMs: 0, faults: { error131049: 1 } as never });
    expect((await send(template('+6281234567890', 'spring_sale', ['x']))).json.error.code).toBe(131049);
    expect((await send(template('+6281234567890'))).status).toBe(200);
  });
});

describe('simulator: faults, stats and control', () => {
  it('answers 503 with no JSON body, resets connections, and answers slowly, as configured', async () => {
    sim = await startSimulator({ faults: { serverError: 1 } as never });
    const down = await call('/v1/contacts', { contacts: ['+6281234567890'] });
    expect(down.status).toBe(503);
    expect(down.json).toBeUndefined();
    await sim.close();

    sim = await startSimulator({ faults: { reset: 1 } as never });
    await expect(call('/v1/contacts', { contacts: ['+6281234567890'] })).rejects.toThrow(/other side closed|socket|ECONNRESET/i);
    await sim.close();

    sim = await startSimulator({ faults: { slow: 1, slowMs: 300 } as never });
    const started = Date.now();
    expect((await call('/v1/contacts', { blocking: 'wait', contacts: ['+6281234567890'] })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('injects faults reproducibly for a seed', async () => {
    const outcomes = async (): Promise<number[]> => {
      sim = await startSimulator({ seed: 42, faults: { serverError: 0.5 } as never });
      const codes = [];
      for (let i = 0; i < 20; i++) codes.push((await call('/v1/contacts', { blocking: 'wait', contacts: ['+6281234567890'] })).status);
      await sim.close();
      sim = undefined;
      return codes;
    };
    const first = await outcomes();
    expect(first).toContain(503);
    expect(first).toContain(200);
    expect(await outcomes()).toEqual(first);
  });

  it('counts requests and the busiest second, and resets', async () => {
    sim = await startSimulator({ registeredFraction: 1 });
    await Promise.all(Array.from({ length: 7 }, () => call('/v1/contacts', { blocking: 'wait', contacts: ['+6281234567890', '+6281311223344'] })));
    await send(template('+6281234567890'));
    const stats = (await call('/_sim/stats')).json;
    expect(stats.requests).toMatchObject({ contacts: 7, messages: 1 });
    expect(stats.numbers_checked).toBe(14);
    expect(stats.messages_accepted).toBe(1);
    expect(stats.peak_per_second).toEqual({ contacts: 7, messages: 1 });
    await call('/_sim/reset', {});
    expect((await call('/_sim/stats')).json.requests).toEqual({ control: 1 });
    expect((await call('/healthz')).json).toEqual({ status: 'ok' });
  });
});

describe('wa-guard simulate (the command)', () => {
  it('prints its URL, serves, and stops on SIGTERM with exit 0', async () => {
    const dir = tempDir();
    const scenario = join(dir, 'scenario.json');
    // kebab-case, as the flags are written, is read as camelCase is
    writeFileSync(scenario, JSON.stringify({ registered: ['+6281234567890'], 'registered-fraction': 0, token: 'from-scenario' }));
    const child = spawn(process.execPath, [BIN, 'simulate', '--port', '0', '--scenario', scenario], { cwd: ROOT, env: { PATH: process.env.PATH } });
    let stderr = '';
    child.stderr.on('data', (b) => { stderr += b; });
    const url = await new Promise<string>((resolve) => child.stdout.once('data', (b) => resolve(String(b).trim())));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await request(`${url}/v1/contacts`, {
      method: 'POST', headers: { authorization: 'Bearer from-scenario' },
      body: JSON.stringify({ blocking: 'wait', contacts: ['+6281234567890', '+6281311223344'] }),
    });
    expect(((await res.body.json()) as any).contacts.map((c: any) => c.status)).toEqual(['valid', 'invalid']);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.on('close', r))).toBe(0);
    expect(stderr).toMatch(/Meta API simulator on http/);
  });

  it('rejects bad settings with exit 2', async () => {
    expect((await runCli(['simulate', '--registered-fraction', '2'])).stderr).toMatch(/--registered-fraction must be a number from 0 to 1/);
    expect((await runCli(['simulate', '--mode', 'sometimes'])).code).toBe(2);
    expect((await runCli(['simulate', '--scenario', '/nonexistent.json'])).stderr).toMatch(/cannot read --scenario/);
  });

  it('a scenario may set every setting a flag can: the delivery, read and reply shares and the status delay too', async () => {
    const { worldFromOptions } = await import('../src/commands/simulate.js');
    const dir = tempDir();
    writeFileSync(join(dir, 'loop.json'), JSON.stringify({ delivered: 0.9, read: 0.5, replied: 0.1, 'status-delay-s': 20 }));
    const world = await worldFromOptions({ host: '127.0.0.1', port: '0', scenario: 'loop.json' }, { cwd: dir, env: {} } as never);
    expect(world).toMatchObject({ delivered: 0.9, read: 0.5, replied: 0.1, statusDelayS: 20 });
  });

  it('refuses a scenario with an unknown key or a bad value, naming the file and the key (exit 2)', async () => {
    const dir = tempDir();
    const scenario = (name: string, content: object): string => {
      writeFileSync(join(dir, name), JSON.stringify(content));
      return join(dir, name);
    };
    // A scenario taken as valid starts a simulator: the signal stops it, so such a failure cannot hang the test.
    const simulate = (file: string) => runCli(['simulate', '--port', '0', '--scenario', file], { signal: AbortSignal.timeout(3000) });
    const typo = await simulate(scenario('typo.json', { regsitered: ['+6281234567890'] }));
    expect([typo.code, typo.stdout]).toEqual([2, '']);
    expect(typo.stderr).toMatch(/^wa-guard: --scenario \S*typo\.json: unknown key "regsitered" \(did you mean registered\?\)/);
    const nested = await simulate(scenario('nested.json', { faults: { 'slow-ms': 10, sloow: 0.5 } }));
    expect([nested.code, nested.stderr]).toEqual([2, expect.stringMatching(/nested\.json: unknown key "faults\.sloow" \(did you mean slow\?\)/)]);
    const range = await simulate(scenario('range.json', { 'registered-fraction': 2 }));
    expect([range.code, range.stderr]).toEqual([2, expect.stringMatching(/range\.json: "registered-fraction" must be a number from 0 to 1; got 2/)]);
    const twice = await simulate(scenario('twice.json', { 'contacts-rps': 1, contactsRps: 2 }));
    expect(twice.code).toBe(2);
  });
});
