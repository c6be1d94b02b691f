import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, files, tempDir } from './helpers.js';
import { hasRedisServer, startRedis } from './redis-server.js';

/** Spawns the CLI, sends SIGINT or SIGTERM after `afterMs`, and says how it ended and how fast. */
async function interrupt(args: string[], afterMs: number, signal: NodeJS.Signals = 'SIGINT', env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: tempDir(), ...env } });
  let stderr = '';
  child.stderr.on('data', (b) => { stderr += b; });
  await new Promise((r) => setTimeout(r, afterMs));
  const at = Date.now();
  child.kill(signal);
  const code = await new Promise<number | null>((r) => child.once('close', r));
  return { code, stderr, ms: Date.now() - at };
}

function numbers(dir: string, count: number): string {
  const path = join(dir, 'in.csv');
  writeFileSync(path, 'id,phone\n' + Array.from({ length: count }, (_, i) => `${i},+62 812 ${String(i).padStart(8, '0')}`).join('\n') + '\n');
  return path;
}

async function listening(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

describe('signals at every wait point end the run at once', () => {
  it('while a /contacts answer trickles in one byte at a time: SIGTERM exits 143, no outputs', async () => {
    const server = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 300);
      res.on('close', () => clearInterval(timer));
    });
    const port = await listening(server);
    const dir = tempDir();
    const result = await interrupt(['clean', numbers(dir, 5), '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--contacts-url', `http://127.0.0.1:${port}`],
      1500, 'SIGTERM', { WA_GUARD_TOKEN: 't' });
    server.closeAllConnections();
    server.close();
    expect(result.code).toBe(143);
    expect(result.ms).toBeLessThan(15_000); // not the 30 s --timeout (a busy machine may take seconds to exit)
    expect(result.stderr).toMatch(/interrupted by SIGTERM/);
    expect(files(join(dir, 'out'))).toEqual([]);
  });

  it('while a Redis store accepts the connection and never answers: exit 130 at once', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent = createTcpServer((socket) => { sockets.add(socket); socket.resume(); });
    const port = await listening(silent);
    const dir = tempDir();
    const result = await interrupt(['clean', numbers(dir, 5), '-o', join(dir, 'out'), '--store', `redis://127.0.0.1:${port}/0`], 800);
    for (const s of sockets) s.destroy();
    silent.close();
    expect(result.code).toBe(130);
    expect(result.ms).toBeLessThan(8000); // not the 10 s a Redis command may wait for its answer
    expect(files(join(dir, 'out'))).toEqual([]);
  });

  it.skipIf(!hasRedisServer())('Redis lost in the middle of a large run: one line, exit 1, no outputs', async () => {
    const redis = await startRedis();
    const dir = tempDir();
    const child = spawn(process.execPath, [BIN, 'clean', numbers(dir, 400_000), '-o', join(dir, 'out'), '--store', `${redis.url}/0`, '-q'],
      { env: { PATH: process.env.PATH, HOME: dir } });
    let stderr = '';
    child.stderr.on('data', (b) => { stderr += b; });
    await new Promise((r) => setTimeout(r, 1200));
    await redis.stop();
    const code = await new Promise((r) => child.once('close', r));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^wa-guard: the Redis store at redis:\/\/127\.0\.0\.1:\d+\/0 failed/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(files(dir).filter((f) => f !== 'in.csv')).toEqual([]);
  });
});
