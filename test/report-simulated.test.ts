import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { worldFromOptions } from '../src/commands/simulate.js';
import { startSimulator } from '../src/simulator/server.js';
import { FIXTURES, runCli, tempDir } from './helpers.js';

describe('simulate -> send -> ingest -> report', () => {
  it('the report\'s funnel is the simulator\'s own count of deliveries, reads, replies and failures', async () => {
    const dir = tempDir();
    const hooks = join(dir, 'hooks.jsonl');
    const unregistered = ['+6281200000003', '+6281200000017', '+6281200000042'];
    const sim = await startSimulator({ token: 't', seed: 7, registeredFraction: 1, unregistered, delivered: 0.9, read: 0.6, replied: 0.3, statusDelayS: 30, webhooksOut: hooks });
    const input = join(dir, 'campaign.csv');
    writeFileSync(input, 'id,to,template,language,param_1,param_2\n' +
      Array.from({ length: 120 }, (_, i) => `${i + 1},+62 812 ${String(i).padStart(8, '0')},order_update,en_US,A-${i},today`).join('\n') + '\n');
    const store = join(dir, 'store');
    const send = await runCli(['send', input, '-c', 'ID', '--phone-number-id', '100000000000001', '--api-url', sim.url, '--templates', join(FIXTURES, 'templates.json'),
      '-o', join(dir, 'out'), '--store', store, '-q', '--tier', 'unlimited', '--pair-interval', '0s'], { env: { WA_GUARD_TOKEN: 't' } });
    expect(send.code, send.stderr).toBe(0);
    const counts = sim.stats();
    await sim.close();
    expect((await runCli(['ingest', hooks, '--store', store, '-q'])).code).toBe(0);

    const r = JSON.parse((await runCli(['report', input, '--store', store, '--json'])).stdout);
    const w = counts.webhooks;
    expect(w.delivered).toBeGreaterThan(80);
    expect(w.read).toBeGreaterThan(30);
    expect(w.replies).toBeGreaterThan(5);
    expect(r.funnel).toMatchObject({ rows: 120, sent: counts.messages_accepted, delivered: w.delivered, read: w.read, replied: w.replies, failed: w.failed, awaiting: 0 });
    expect(w.failed).toBe(unregistered.length);
    expect(r.timing.to_delivered_s.p50).toBeGreaterThanOrEqual(30);
    expect(r.timing.to_read_s.p50).toBeGreaterThanOrEqual(60);
  });

  it('takes the shares and the delay as flags, and refuses a share outside 0 to 1', async () => {
    const io = { env: {}, cwd: tempDir() } as Parameters<typeof worldFromOptions>[1];
    const options = { host: '127.0.0.1', port: '0' };
    expect(await worldFromOptions({ ...options, delivered: '0.95', read: '0.6', replied: '0.1', statusDelay: '5' }, io)).toMatchObject({ delivered: 0.95, read: 0.6, replied: 0.1, statusDelayS: 5 });
    await expect(worldFromOptions({ ...options, delivered: '1.5' }, io)).rejects.toThrow(/--delivered/);
  });
});
