// npm run bench: times `wa-guard clean` offline on generated CSVs of 100k and
// 1M rows and prints rows/s and peak RSS (the process's own maxRSS, which
// includes its worker threads).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'bench', 'out');
mkdirSync(dir, { recursive: true });
const sizes = (process.env.BENCH_ROWS ?? '100000,1000000').split(',').map(Number);

console.log('rows       input MB   seconds   rows/s     peak RSS MB   cleaned   purged');
for (const rows of sizes) {
  const input = join(dir, `contacts-${rows}.csv`);
  try { statSync(input); } catch { await generate(input, rows); }
  const store = join(dir, 'store');
  rmSync(store, { recursive: true, force: true });
  const started = process.hrtime.bigint();
  const out = execFileSync(process.execPath, [
    join(root, 'bin', 'wa-guard.js'), 'clean', input, '--country', 'ID', '--json',
    '--out-dir', join(dir, `out-${rows}`), '--store', store,
  ], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const summary = JSON.parse(out);
  console.log([
    String(rows).padEnd(10),
    (statSync(input).size / 1e6).toFixed(1).padStart(8),
    seconds.toFixed(2).padStart(9),
    String(Math.round(rows / seconds)).padStart(9),
    String(summary.peak_rss_mb).padStart(13),
    String(summary.rows.cleaned).padStart(9),
    String(summary.rows.purged).padStart(8),
  ].join('  '));
}
