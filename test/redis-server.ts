import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Persistence settings: none (the default), or an AOF synced on every write, which a live send requires. */
export const VOLATILE = ['--save', '', '--appendonly', 'no'];
export const AOF_ALWAYS = ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];

/** A private redis-server on a free loopback port, with its data (if it keeps any) in a directory of its own. */
export async function startRedis(persistence: readonly string[] = VOLATILE, dir = mkdtempSync(join(tmpdir(), 'wa-guard-redis-'))): Promise<{ url: string; port: number; dir: string; stop: () => Promise<void>; kill: () => Promise<void> }> {
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...persistence, '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const kill = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
    }
  };
  return {
    url: `redis://127.0.0.1:${port}`, port, dir, kill,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
