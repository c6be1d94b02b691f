import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { BIN, FIXTURES, tempDir } from './helpers.js';

const SECRET = 'app-secret-for-tests';
const lines = readFileSync(join(FIXTURES, 'webhooks.jsonl'), 'utf8').split('\n');
const failed = lines[4]!; // 131026 for 6281234567890
const sign = (body: string, secret = SECRET): string => 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
const children: ChildProcess[] = [];
afterEach(() => {
  while (children.length) children.pop()!.kill('SIGKILL');
});

interface Listening {
  url: string;
  child: ChildProcess;
  /** Everything it logged on stderr so far. */
  stderr: () => string;
}

/** `wa-guard listen` on a free port, logging (not --quiet). */
async function listen(store: string, extra: string[] = []): Promise<Listening> {
  const child = spawn(process.execPath, [BIN, 'listen', '--port', '0', '--store', store, ...extra], { env: { PATH: process.env.PATH, HOME: store, WA_GUARD_APP_SECRET: SECRET } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (b) => { stderr += b; });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (b) => resolve(String(b).trim()));
    child.once('close', (code) => reject(new Error(`listen exited ${code}: ${stderr}`)));
  });
  return { url, child, stderr: () => stderr };
}

/** Resolves once `ready` returns something truthy, asking every 50 ms (at most 20 s). */
async function until<T>(ready: () => T | Promise<T>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await ready();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('waited 20 s in vain');
}

const post = (url: string, body: string, headers: Record<string, string>) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

/** A metric's value in the exposition, by its name and labels as written. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function stop(child: ChildProcess): Promise<number> {
  child.kill('SIGTERM');
  return (await once(child, 'close'))[0] as number;
}

describe('listen: watched', () => {
  it('GET /metrics: events by kind, signature failures, refusals by reason, inbox depth and apply latency, in Prometheus text format', async () => {
    const { url, child } = await listen(join(tempDir(), 'store'));
    expect((await post(url, failed, { 'x-hub-signature-256': sign(failed, 'another-secret') })).status).toBe(403);
    expect((await post(url, failed, {})).status).toBe(401);
    expect((await post(url, '{"broken', { 'x-hub-signature-256': sign('{"broken') })).status).toBe(400);
    expect((await post(url, failed, { 'x-hub-signature-256': sign(failed) })).status).toBe(200);
    const text = await until(async () => {
      const res = await fetch(`${url}/metrics`);
      expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
      const body = await res.text();
      return sample(body, 'wa_guard_listen_apply_seconds_count') === 1 ? body : undefined;
    });
    expect(sample(text, 'wa_guard_listen_events_total{kind="status_failed"}')).toBe(1);
    expect(sample(text, 'wa_guard_listen_changes_total{change="blacklisted"}')).toBe(1);
    expect(sample(text, 'wa_guard_listen_bodies_accepted_total')).toBe(1);
    expect(sample(text, 'wa_guard_listen_signature_failures_total')).toBe(2);
    expect(sample(text, 'wa_guard_listen_refused_total{reason="bad_signature"}')).toBe(1);
    expect(sample(text, 'wa_guard_listen_refused_total{reason="missing_signature"}')).toBe(1);
    expect(sample(text, 'wa_guard_listen_refused_total{reason="not_a_webhook_payload"}')).toBe(1);
    expect(sample(text, 'wa_guard_listen_inbox_depth')).toBe(0);
    expect(sample(text, 'wa_guard_listen_apply_seconds_bucket{le="+Inf"}')).toBe(1);
    expect(sample(text, 'wa_guard_listen_apply_seconds_bucket{le="300"}')).toBe(1);
    // The format: every family declared once before its samples; every sample a name, labels and a number.
    const declared = new Set<string>();
    for (const line of text.trimEnd().split('\n')) {
      const type = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(line);
      if (type) declared.add(type[1]!);
      else if (!line.startsWith('# HELP ')) {
        expect(line).toMatch(/^(\w+)(\{\w+="[^"\\\n]*"\})? -?[\d.]+(e[+-]?\d+)?$/);
        expect(declared.has(line.replace(/(_bucket|_sum|_count)?[{ ].*$/, ''))).toBe(true);
      }
    }
    expect(await stop(child)).toBe(0);
  });

  it('GET /healthz: 200 with the inbox as JSON while the store answers', async () => {
    const { url, child } = await listen(join(tempDir(), 'store'));
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', store: 'ok', inbox: { depth: 0, oldest_seconds: 0, failing_since: null } });
    expect(await stop(child)).toBe(0);
  });

  it.skipIf(!inject('redisUrl'))('GET /healthz: 503 with why while the inbox cannot be applied or the store is away, 200 again once it drains', async () => {
    const { startRedis } = await import('./redis-server.js');
    const server = await startRedis(); // its own server: the ACL below would break every other test's
    const { Redis } = await import('ioredis');
    const admin = new Redis(server.url);
    try {
      const { url, child } = await listen(server.url);
      const health = async () => {
        const res = await fetch(`${url}/healthz`);
        return { status: res.status, body: (await res.json()) as { status: string; problems?: string[]; inbox: { depth: number } } };
      };
      // Only the inbox may be touched: the 200 can be given, the lists cannot be written.
      await admin.call('ACL', 'SETUSER', 'default', 'resetkeys', '~wa-guard:webhook-inbox:*');
      expect((await post(url, failed, { 'x-hub-signature-256': sign(failed) })).status).toBe(200);
      const failing = await until(async () => { const h = await health(); return h.status === 503 && h; });
      expect(failing.body).toMatchObject({ status: 'unavailable', store: 'ok', inbox: { depth: 1 } });
      expect(failing.body.problems).toEqual([expect.stringMatching(/^inbox: applying has failed since \d{4}-\d\d-\d\dT.*NOPERM/)]);
      await admin.call('ACL', 'SETUSER', 'default', 'allkeys');
      const drained = await until(async () => { const h = await health(); return h.status === 200 && h; });
      expect(drained.body).toMatchObject({ status: 'ok', inbox: { depth: 0 } });
      await server.stop();
      const away = await until(async () => { const h = await health(); return h.status === 503 && h; });
      expect(away.body.problems).toEqual([expect.stringMatching(/^store: /)]);
      child.kill('SIGKILL');
    } finally {
      admin.disconnect();
      await server.stop();
    }
  });

  it('a body that trickles in is closed at --request-timeout with a 408, logged once as a client fault, never as an internal error', async () => {
    const { url, child, stderr } = await listen(join(tempDir(), 'store'), ['--request-timeout', '1s']);
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (b) => { answer += b; });
    socket.on('error', () => undefined);
    const started = Date.now();
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: ${sign(failed)}\r\nContent-Length: ${failed.length}\r\n\r\n${failed.slice(0, 10)}`);
    const trickle = setInterval(() => socket.writable && socket.write(' '), 300); // still sending: only the whole request's time can close it
    await once(socket, 'close');
    clearInterval(trickle);
    // Node looked for late requests every 30 s, so a 30 s limit closed them after 30-60 s: well past 15 s here.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    await until(() => stderr().includes('did not send'));
    expect(await stop(child)).toBe(0);
    const logged = stderr().split('\n');
    expect(logged.filter((l) => /did not send its whole request within 1 s: answered 408 and closed \(a client fault/.test(l))).toHaveLength(1);
    expect(stderr()).not.toMatch(/request failed|internal error/);
    expect(stderr()).toMatch(/refused: request timeout 1/);
  });

  it('logs its totals when they change, not every minute; with nothing new, a heartbeat every 60 looks', async () => {
    const { url, child, stderr } = await listen(join(tempDir(), 'store'), ['--log-interval', '50ms']);
    expect((await post(url, failed, { 'x-hub-signature-256': sign(failed) })).status).toBe(200);
    await until(() => stderr().includes('still listening'));
    const logged = stderr().split('\n');
    expect(logged.filter((l) => l.startsWith('wa-guard listen: 1 events so far: status:failed 1'))).toHaveLength(1);
    expect(logged.filter((l) => l.includes('still listening'))[0]).toBe('wa-guard listen: still listening, nothing new since the last line; 1 events so far: status:failed 1');
    expect(await stop(child)).toBe(0);
  });
});
