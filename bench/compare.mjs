// npm run bench:compare: wa-guard clean beside a naive single-threaded Node
// pipeline (bench/naive-clean.mjs) and, when Debian's python3-phonenumbers is
// installed, a plain Python script (bench/peer_clean.py), on one generated
// export (ROWS, 1,000,000 by default). They run in turn, ROUNDS times (3 by
// default), so a drift in the machine's speed hits all of them alike; the
// medians, rates and ratios are printed, with each run's peak RSS.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'bench', 'out', 'compare');
mkdirSync(dir, { recursive: true });
const rows = Number(process.env.ROWS ?? 1_000_000);
const rounds = Number(process.env.ROUNDS ?? 3);
const input = join(root, 'bench', 'out', `contacts-${rows}.csv`);
if (!existsSync(input)) await generate(input, rows);

/** A python3 that has phonenumbers: Debian's, or the one on PATH. */
const python = ['/usr/bin/python3', 'python3'].find((py) => spawnSync(py, ['-c', 'import phonenumbers'], { stdio: 'ignore' }).status === 0);
const time = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const contenders = [
  { name: 'wa-guard clean', cmd: [process.execPath, join(root, 'bin', 'wa-guard.js'), 'clean', input, '-c', 'ID', '-q', '-o', join(dir, 'wa-guard'), '--store', join(dir, 'store')] },
  { name: 'naive Node pipeline', cmd: [process.execPath, join(root, 'bench', 'naive-clean.mjs'), input, join(dir, 'naive'), 'ID'] },
  ...(python ? [{ name: 'Python peer', cmd: [python, join(root, 'bench', 'peer_clean.py'), input, join(dir, 'python'), 'ID'] }] : []),
];
if (!python) console.log('(the Python peer is skipped: no python3 with phonenumbers; on Debian: apt-get install python3-phonenumbers)');

/** Peak RSS in MB, from the last line /usr/bin/time -f %M printed (KB). */
const peakMb = (result) => Math.round(Number(result.stderr.trim().split('\n').at(-1)) / 1024);

const runs = new Map(contenders.map((c) => [c.name, []]));
for (let round = 0; round < rounds; round++) {
  for (const c of contenders) {
    rmSync(join(dir, 'store'), { recursive: true, force: true });
    const argv = time ? [time, '-f', '%M', ...c.cmd] : c.cmd;
    const started = process.hrtime.bigint();
    const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 24 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status !== 0) throw new Error(`${c.name} failed: ${result.stderr}`);
    const rssMb = time ? peakMb(result) : undefined;
    runs.get(c.name).push({ seconds, rssMb });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rate = (name) => rows / median(runs.get(name).map((r) => r.seconds));
console.log(`${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${rows.toLocaleString('en-US')} rows (${(statSync(input).size / 1e6).toFixed(0)} MB), median of ${rounds} alternating rounds`);
console.log('contender                 seconds    rows/s   peak RSS MB   vs Python   vs naive Node');
for (const c of contenders) {
  const r = rate(c.name);
  console.log([
    c.name.padEnd(22),
    median(runs.get(c.name).map((x) => x.seconds)).toFixed(2).padStart(9),
    String(Math.round(r)).padStart(9),
    String(median(runs.get(c.name).map((x) => x.rssMb ?? 0)) || '-').padStart(13),
    (python ? (r / rate('Python peer')).toFixed(2) + 'x' : '-').padStart(11),
    ((r / rate('naive Node pipeline')).toFixed(2) + 'x').padStart(15),
  ].join(' '));
}

// Memory flat as the input grows: wa-guard's peak RSS on a tenth of the rows.
if (time && rows >= 100_000) {
  const small = join(root, 'bench', 'out', `contacts-${rows / 10}.csv`);
  if (!existsSync(small)) await generate(small, rows / 10);
  rmSync(join(dir, 'store'), { recursive: true, force: true });
  const cmd = contenders[0].cmd.map((arg) => (arg === input ? small : arg));
  const result = spawnSync(time, ['-f', '%M', ...cmd], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`wa-guard clean failed: ${result.stderr}`);
  console.log(`wa-guard clean peak RSS: ${peakMb(result)} MB on ${(rows / 10).toLocaleString('en-US')} rows, ${median(runs.get('wa-guard clean').map((r) => r.rssMb))} MB on ${rows.toLocaleString('en-US')}`);
}
