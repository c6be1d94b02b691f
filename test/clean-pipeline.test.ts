import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../src/store/embedded.js';
import { addOptOuts, addToBlacklist } from '../src/store/lists.js';
import { BIN, FIXTURES, ROOT, files, readCsv, runCli, spawnCli, tempDir } from './helpers.js';

/** A multi-megabyte export: quoted names with commas and line breaks, CRLF, repeats far apart, junk. */
function bigExport(rows: number): string {
  const lines = ['id,name,phone,notes'];
  for (let i = 1; i <= rows; i++) {
    // Every tenth row repeats, in another format, the number of a row 5,005 rows earlier.
    const own = i % 10 === 0 && i > 5005 ? i - 5005 : i;
    const phone = i % 97 === 0 ? 'n/a' : i % 10 === 0 ? `+62 812 ${String(own).padStart(8, '0')}` : `0812${String(own).padStart(8, '0')}`;
    const name = i % 7 === 0 ? `"Doe, ""J"" ${i}"` : `Jane ${i}`;
    const notes = i % 50 === 0 ? '"two\r\nlines"' : '';
    lines.push(`${i},${name},${phone},${notes}`);
  }
  return lines.join('\r\n') + '\r\n';
}

describe('the pipeline', () => {
  it('gives the same result with worker threads as without, in input order', async () => {
    const dir = tempDir();
    const input = join(dir, 'big.csv');
    writeFileSync(input, bigExport(60_000)); // several chunks
    const run = async (workers: string) => {
      const out = join(dir, `out-${workers}`);
      const result = await runCli(['clean', input, '-c', 'ID', '-o', out, '--store', join(dir, `store-${workers}`), '--workers', workers, '--json']);
      expect(result.code).toBe(0);
      return { out, summary: JSON.parse(result.stdout) };
    };
    const inline = await run('0');
    const threaded = await run('2');
    for (const name of ['cleaned.csv', 'purged.csv']) {
      expect(readFileSync(join(threaded.out, name)).equals(readFileSync(join(inline.out, name)))).toBe(true);
    }
    const { rows, purged_by_reason: reasons } = threaded.summary;
    expect(rows.input).toBe(60_000);
    expect(rows.cleaned + rows.purged).toBe(60_000);
    expect(reasons.invalid_number).toBe(Math.floor(60_000 / 97));
    expect(reasons.duplicate).toBeGreaterThan(5_000);
    const cleanedIds = readCsv(join(threaded.out, 'cleaned.csv')).map((r) => Number(r.id));
    expect(cleanedIds).toEqual([...cleanedIds].sort((a, b) => a - b));
    // A repeat thousands of rows later is caught, and points at the first occurrence's line.
    const purged = readCsv(join(threaded.out, 'purged.csv'));
    const repeat = purged.find((r) => r.id === '5010')!;
    expect(repeat.purge_reason).toBe('duplicate');
    expect(repeat.purge_detail).toBe('+6281200000005 already on line 6');
  });

  it('honours the blacklist and opt-outs in the store, and exports the blacklist', async () => {
    const dir = tempDir();
    const storeDir = join(dir, 'store');
    const store = await EmbeddedStore.open(storeDir);
    const now = new Date('2026-11-01T00:00:00Z');
    await addToBlacklist(store, [{ waId: '5511987654321', reason: 'not_on_whatsapp', source: 'send:131026' }], now);
    await addToBlacklist(store, [{ waId: '5511987654321', reason: 'not_on_whatsapp', source: 'send:131026' }], now);
    await addOptOuts(store, [{ waId: '14155552671', source: 'webhook:STOP' }], now);
    await store.close();

    const out = join(dir, 'out');
    const result = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', out, '--store', storeDir]);
    expect(result.code).toBe(0);
    const purged = Object.fromEntries(readCsv(join(out, 'purged.csv')).map((r) => [r.id, r]));
    expect(purged['6']).toMatchObject({ purge_reason: 'blacklisted', purge_detail: 'on the blacklist since 2026-11-01: not_on_whatsapp (send:131026, 2 strikes)' });
    expect(purged['12']).toMatchObject({ purge_reason: 'opted_out', purge_detail: 'opted out on 2026-11-01 (webhook:STOP)' });
    expect(readCsv(join(out, 'blacklist.csv'))).toEqual([{
      wa_id: '5511987654321', reason: 'not_on_whatsapp', source: 'send:131026',
      first_seen: '2026-11-01T00:00:00.000Z', last_seen: '2026-11-01T00:00:00.000Z', strikes: '2', expires: '',
    }]);
    expect(result.stderr).toMatch(/blacklist: 1 numbers/);
    expect(result.stderr).toMatch(/not verified with WhatsApp \(offline/);
  });

  it('stops cleanly on Ctrl-C: exit 130 and nothing under the final names', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const child = spawn(process.execPath, [BIN, 'clean', '-', '-c', 'ID', '-o', out, '--store', join(dir, 'store')], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (b) => { stderr += b; });
    // Enough rows to start the pipeline, then stdin stays open, as a slow upstream would.
    child.stdin.on('error', () => undefined); // the rest of the write fails once the child has exited (EPIPE)
    child.stdin.write(bigExport(30_000));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('close', r));
    child.stdin.destroy();
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted by SIGINT/);
    expect(files(out)).toEqual([]);
  });
});

describe('the command line', () => {
  it('--version names the libphonenumber-js version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^wa-guard \d+\.\d+\.\d+\nlibphonenumber-js \d+\.\d+\.\d+/);
  });

  it('--help documents clean, and no arguments prints help with exit 2', async () => {
    const help = await runCli(['clean', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--country <CC>/);
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 runtime failure, 2 usage or bad input, 3 --fail-on matched, 4 campaign stopped by Meta, 130 interrupted \(Ctrl-C\), 143 terminated/);
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage: wa-guard/);
  });

  it('clean with no input says what to give', async () => {
    const result = await runCli(['clean']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing input: give a file path, or - to read stdin/);
  });

  it('runs while another process has the store open, and sees its writes', async () => {
    const dir = tempDir();
    const store = await EmbeddedStore.open(join(dir, 'store'));
    try {
      await addToBlacklist(store, [{ waId: '5511987654321', reason: 'not_on_whatsapp', source: 'send:131026' }], new Date());
      const result = await spawnCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--json']);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).purged_by_reason.blacklisted).toBe(1);
    } finally {
      await store.close();
    }
  });
});
