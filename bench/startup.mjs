// npm run bench:startup: what starting wa-guard costs over a bare `node -e 0`,
// for `--help` and for a one-row `clean` (store opened, outputs written). The
// three run in turn, ROUNDS times (15 by default), so a drift in the machine's
// speed hits all alike; medians are printed. It measures the node that runs it:
// run it with another node binary to measure that one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'wa-guard.js');
const dir = join(root, 'bench', 'out', 'startup');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const input = join(dir, 'one.csv');
writeFileSync(input, 'name,phone\nJane,+62 812 3456 7890\n');
const rounds = Number(process.env.ROUNDS ?? 15);

const commands = {
  'node -e 0': ['-e', '0'],
  'wa-guard --help': [bin, '--help'],
  'wa-guard clean (1 row)': [bin, 'clean', input, '-q', '-o', join(dir, 'out'), '--store', join(dir, 'store')],
};
const times = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
for (let round = 0; round < rounds + 1; round++) {
  for (const [name, args] of Object.entries(commands)) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`${name} failed: ${result.stderr}`);
    if (round > 0) times[name].push(ms); // the first round warms the file cache (and Node's compile cache)
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const bare = median(times['node -e 0']);
console.log(`start-up, node ${process.version}, medians of ${rounds} alternating rounds`);
for (const name of Object.keys(commands)) {
  const m = median(times[name]);
  console.log(`${name.padEnd(24)} ${m.toFixed(0).padStart(5)} ms${name === 'node -e 0' ? '' : `   ${(m - bare).toFixed(0).padStart(4)} ms over bare node`}`);
}
