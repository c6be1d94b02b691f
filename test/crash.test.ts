import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

describe('crash and corruption trials (bench/crash.mjs, quick)', () => {
  it('kill -9 mid-send, stores truncated or flipped, Redis restarted empty, listener bursts: nothing doubled, no healthy store refused, no native crash', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bench', 'crash.mjs')], { env: { ...process.env, QUICK: '1', BURSTS: '4' }, stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (b) => { stdout += b; });
      child.on('close', (code) => resolve({ code, stdout }));
    });
    const last = stdout.trim().split('\n').pop();
    expect(last, stdout).toMatch(/^\d+ runs, 0 doubled, 0 refused healthy stores, 0 native crashes$/);
    expect(code).toBe(0);
  }, 240_000);
});
