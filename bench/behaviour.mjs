// The behaviour record (issue 20): proof that a refactor changed no behaviour.
//
//   node bench/behaviour.mjs record DIR [--bin path/to/bin/wa-guard.js]
//   node bench/behaviour.mjs compare DIR_A DIR_B
//
// `record` runs a fixed set of CLI runs with one build (default: this
// checkout's bin/wa-guard.js; build it first) and writes, for each run, its
// command line, stdout, stderr, exit code and every file it wrote into
// DIR/<run>/, plus a dump of every store it used. `compare` says whether two
// records are byte-identical, or lists the differing files with a short diff
// and exits 1. Record the code before a refactor and after it, then compare.
//
// The inputs are this checkout's fixtures/ and a 200,000-row file from
// bench/generate.mjs (seed 42; it needs this checkout's dist/), copied into a
// temporary directory that is every run's working directory, so paths given
// to the CLI are the same in every record.
//
// The clock: every process (the CLI, its worker threads, the simulator) runs
// with a preloaded Date that starts at CLOCK_START (2026-11-25T12:00:00Z,
// two hours after the events of fixtures/webhooks.jsonl) when the record
// starts and advances in real time. Without it, what the fixtures' fixed
// times mean (a cache entry's 7 days, a care window's 24 h, ingest's "more
// than a day ahead") would depend on the day the record is made, and records
// made on different days would differ for no fault of the code.
//
// What legitimately varies between two runs of the same code is rewritten by
// these rules, in every file of the record, and by nothing else:
//  1. the temporary working directory's path  -> <work>
//  2. "duration_ms", "rows_per_second", "peak_rss_mb", "cpu_ms", "achieved_mps",
//     "requests_per_second" and "late_slots_given_up" (slots the pacer woke up
//     for too late: a matter of the machine's load) in JSON -> "<varies>"; in
//     the human summaries, "in 1.23 s, 456 rows/s", "in 1.23 s" and "6 requests, 0.4 msg/s";
//     the counts in the simulator's "peak_per_second" (the busiest second: how
//     long each synced journal write took)
//  3. a time within the record's span from CLOCK_START (ISO 8601, or epoch
//     seconds or milliseconds standing alone) -> <now>; the same shifted by one
//     of the TTLs in OFFSETS -> <now+TTL>, e.g. <now+90d>. Fixed times (the
//     fixtures', --now) are outside the span and stay as they are
//  4. the simulator's port: 127.0.0.1:<port>
//  5. the random part of the simulator's message ids: wamid.<sim:PHONE_NUMBER_ID:WA_ID>
//     (the recipient stays), and inbound ids wamid.in.<random>
// Store dumps are made by this script (not the CLI): one line per entry,
// `namespace key value [expiry]`, sorted after the rules, since keys such as
// wamids sort by their random part.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLOCK_START = Date.parse('2026-11-25T12:00:00Z');
const NOW = '2026-11-20T10:00:00Z';
const GENERATED_ROWS = 200_000;
const MARKER = '_record.json';
const SECOND = 1000, DAY = 86_400_000;
/** TTLs the CLI sets from now (pair spacing's expiry, caps, cache, journal, blacklist, remembered webhooks). */
const OFFSETS = [['60s', 60 * SECOND], ['24h', DAY], ['7d', 7 * DAY], ['30d', 30 * DAY], ['90d', 90 * DAY], ['365d', 365 * DAY]];
/** Simulator settings: recipients of the live send that fail (131026 by webhook, 131050 at once); its pair interval (5 s) under send's 6 s, so no 131056 race. */
const SIMULATOR = ['simulate', '--seed', '7', '--port', '0', '--pair-interval', '5', '--unregistered', '+6281311223344', '--opted-out', '+6281122334455', '--webhooks-out', 'sim/webhooks.jsonl'];

async function record(args) {
  const binAt = args.indexOf('--bin');
  const bin = resolve(binAt >= 0 ? args[binAt + 1] ?? '' : join(root, 'bin', 'wa-guard.js'));
  const dirs = args.filter((_, i) => binAt < 0 || (i !== binAt && i !== binAt + 1));
  if (dirs.length !== 1) return fail('record takes one DIR');
  const dir = resolve(dirs[0]);
  if (!existsSync(bin)) return fail(`no CLI at ${bin}`);
  if (!existsSync(join(dirname(bin), '..', 'dist'))) return fail(`${bin}: its dist/ is missing: run npm run build there`);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, MARKER))) return fail(`${dir} is not empty and not a record: refusing to replace it`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const started = Date.now();
  const work = realpathSync(mkdtempSync(join(tmpdir(), 'wa-guard-behaviour-')));
  const recorder = new Recorder(dir, work, bin, started);
  try {
    await prepareInputs(work);
    await runAll(recorder);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  writeFileSync(join(dir, MARKER), `${JSON.stringify({ bin, node: process.version, recorded_at: new Date(started).toISOString(), seconds }, null, 2)}\n`);
  console.log(`recorded ${recorder.runs} runs with ${bin} into ${dir} in ${seconds.toFixed(1)} s`);
  return 0;
}

function fail(message) {
  console.error(`behaviour: ${message}`);
  return 2;
}

/** The fixtures, the generated file, and the clock preload, in the working directory. */
async function prepareInputs(work) {
  cpSync(join(root, 'fixtures'), join(work, 'in'), { recursive: true });
  const { generate } = await import(pathToFileURL(join(root, 'bench', 'generate.mjs')).href);
  await generate(join(work, 'in', 'generated.csv'), GENERATED_ROWS);
  mkdirSync(join(work, 'sim'));
  writeFileSync(join(work, 'clock.mjs'), `// Date starts at ${new Date(CLOCK_START).toISOString()} when the record starts (see bench/behaviour.mjs).
const SHIFT = ${CLOCK_START} - ${Date.now()};
const RealDate = Date;
const now = () => RealDate.now() + SHIFT;
globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) => Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget),
  apply: () => new RealDate(now()).toString(),
  get: (target, key, receiver) => (key === 'now' ? now : Reflect.get(target, key, receiver)),
});
`);
}

/** The fixed set of runs, in order: later runs read the stores earlier ones wrote. */
async function runAll(r) {
  const fixtures = readdirSync(join(r.work, 'in'), { recursive: true })
    .filter((f) => f !== 'generated.csv' && statSync(join(r.work, 'in', f)).isFile()).sort();
  for (const f of fixtures) {
    const name = `clean-${f.replace(/[/.]/g, '-')}`;
    await r.run(name, ['clean', `in/${f}`, '-c', 'ID', '-o', `runs/${name}`, '--store', `stores/${name}`]);
  }
  await r.run('clean-campaign-column', ['clean', 'in/campaign.csv', '-c', 'ID', '--column', 'to', '-o', 'runs/clean-campaign-column', '--store', 'stores/clean-campaign-column']);
  await r.run('clean-json-output', ['clean', 'in/contacts.csv', '-c', 'ID', '--output-format', 'json', '--json', '-o', 'runs/clean-json-output', '--store', 'stores/clean-json-output']);
  await r.run('clean-blacklist-file', ['clean', 'in/contacts.csv', '-c', 'ID', '--blacklist', 'in/blacklist.csv', '-o', 'runs/clean-blacklist-file', '--store', 'stores/clean-blacklist-file']);
  await r.run('clean-stdin', ['clean', '-', '-c', 'ID', '--output', '-', '-o', 'runs/clean-stdin', '--store', 'stores/clean-stdin'], { stdin: 'in/contacts.jsonl' });
  await r.run('clean-generated', ['clean', 'in/generated.csv', '-c', 'ID', '-o', 'runs/clean-generated', '--store', 'stores/clean-generated']);

  // The text every command prints for --help and --version, and a few refusals: message and exit code.
  await r.run('version', ['--version']);
  await r.run('help', ['--help']);
  for (const c of ['clean', 'send', 'ingest', 'listen', 'simulate', 'blacklist', 'optout', 'cache']) await r.run(`help-${c}`, [c, '--help']);
  await r.run('error-unknown-option', ['clean', 'in/contacts.csv', '--no-such-option']);
  await r.run('error-no-input', ['clean', '--store', 'stores/errors']);
  await r.run('error-missing-file', ['clean', 'in/missing.csv', '-c', 'ID', '--store', 'stores/errors']);
  await r.run('error-bad-country', ['clean', 'in/contacts.csv', '-c', 'XX', '--store', 'stores/errors']);
  await r.run('error-bad-now', ['send', 'in/campaign.csv', '--dry-run', '--now', 'yesterday', '--store', 'stores/errors']);
  await r.run('error-no-token', ['send', 'in/campaign.csv', '-c', 'ID', '--phone-number-id', '1', '--store', 'stores/errors']);
  await r.run('error-bad-number', ['blacklist', 'add', 'call me', '--store', 'stores/errors']);
  await r.run('fail-on-any', ['clean', 'in/contacts.csv', '-c', 'ID', '--fail-on', 'any', '-q', '-o', 'runs/fail-on-any', '--store', 'stores/errors']);

  // Corrections by hand, then what the lists hold.
  const lists = ['--store', 'stores/lists'];
  await r.run('blacklist-import', ['blacklist', 'import', 'in/blacklist.csv', '-c', 'ID', '--reason', 'imported', ...lists]);
  await r.run('blacklist-add', ['blacklist', 'add', '+62 812-3456-7890', '+6281311223344', '--reason', 'asked us by phone', ...lists]);
  await r.run('blacklist-remove', ['blacklist', 'remove', '0812 3456 7890', '-c', 'ID', ...lists]);
  await r.run('optout-add', ['optout', 'add', '+447400123456', '--scope', 'marketing', ...lists]);
  await r.run('optout-import', ['optout', 'import', 'in/contacts.jsonl', '-c', 'ID', ...lists]);
  await r.run('blacklist-list', ['blacklist', 'list', ...lists]);
  await r.run('optout-list', ['optout', 'list', '--json', ...lists]);
  await recordLists(r, 'lists');

  const dryRun = ['send', 'in/campaign.csv', '--dry-run', '--templates', 'in/templates.json', '-c', 'ID'];
  await r.run('dry-run', [...dryRun, '--now', NOW, '-o', 'runs/dry-run', '--store', 'stores/dry-run']);
  await r.dumpStore('dry-run'); // a dry run writes nothing to the store
  await r.run('ingest-fixture', ['ingest', 'in/webhooks.jsonl', '--store', 'stores/webhooks']);
  await r.run('ingest-fixture-again', ['ingest', 'in/webhooks.jsonl', '--json', '--store', 'stores/webhooks']);
  await r.run('dry-run-learned', [...dryRun, '--now', NOW, '-o', 'runs/dry-run-learned', '--store', 'stores/webhooks']);
  // At the clock's own time the learned care windows, opt-outs and caps are current.
  await r.run('dry-run-learned-now', [...dryRun, '--json', '-o', 'runs/dry-run-learned-now', '--store', 'stores/webhooks']);
  await recordLists(r, 'webhooks');

  const sim = await r.startSimulator();
  const live = ['send', 'in/campaign.csv', '-c', 'ID', '--templates', 'in/templates.json', '--phone-number-id', '100000000000001', '--api-url', sim.url,
    // One request at a time: the simulator's webhook file is then in a fixed order.
    '--concurrency', '1', '-o', 'runs/send-live', '--store', 'stores/live'];
  try {
    await r.run('send-live', live, { env: { WA_GUARD_TOKEN: sim.token } });
    await r.run('ingest-simulator', ['ingest', 'sim/webhooks.jsonl', '--store', 'stores/live']);
    // A second send of the same campaign sends nothing: its results come from the journal the webhooks updated.
    await r.run('send-live-resumed', live.map((a) => (a === 'runs/send-live' ? 'runs/send-live-resumed' : a)), { env: { WA_GUARD_TOKEN: sim.token } });
  } catch (err) {
    sim.child.kill();
    throw err;
  }
  await r.stopSimulator(sim);
  await recordLists(r, 'live');
}

async function recordLists(r, store) {
  for (const list of ['blacklist', 'optout', 'cache']) {
    await r.run(`${list}-export-${store}`, [list, 'export', `runs/${list}-export-${store}/${list}.csv`, '--store', `stores/${store}`]);
  }
  await r.run(`blacklist-list-${store}`, ['blacklist', 'list', '--json', '--store', `stores/${store}`]);
  await r.dumpStore(store);
}

class Recorder {
  runs = 0;

  constructor(dir, work, bin, started) {
    Object.assign(this, { dir, work, bin, started });
    this.env = { PATH: process.env.PATH, HOME: work, XDG_STATE_HOME: join(work, 'state'), TZ: 'UTC', LC_ALL: 'C.UTF-8' };
  }

  /** Runs the CLI in the working directory and records what it printed, its exit code and the files under runs/NAME. */
  async run(name, args, { stdin, env } = {}) {
    mkdirSync(join(this.work, 'runs', name), { recursive: true });
    const child = this.spawnCli(args, env, stdin ? 'pipe' : 'ignore');
    if (stdin) child.stdin.on('error', () => {}).end(readFileSync(join(this.work, stdin))); // EPIPE: the CLI may exit before reading
    const [stdout, stderr, exit] = await Promise.all([collect(child.stdout), collect(child.stderr), exited(child)]);
    const out = join(this.dir, name);
    this.write(join(out, 'command'), `wa-guard ${shellWords(args)}${stdin ? ` < ${stdin}` : ''}\n`);
    this.write(join(out, 'stdout'), stdout);
    this.write(join(out, 'stderr'), stderr);
    this.write(join(out, 'exit'), `${exit}\n`);
    const files = join(this.work, 'runs', name);
    for (const f of readdirSync(files, { recursive: true }).sort()) {
      if (statSync(join(files, f)).isFile()) this.write(join(out, 'files', f), readFileSync(join(files, f)));
    }
    this.runs++;
  }

  spawnCli(args, env, stdin) {
    const argv = ['--import', pathToFileURL(join(this.work, 'clock.mjs')).href, this.bin, ...args];
    return spawn(process.execPath, argv, { cwd: this.work, env: { ...this.env, ...env }, stdio: [stdin, 'pipe', 'pipe'] });
  }

  /** Starts `wa-guard simulate` and reads its URL (stdout's first line) and token (from its stderr). */
  async startSimulator() {
    const child = this.spawnCli(SIMULATOR, {}, 'ignore');
    const stdout = collect(child.stdout), stderr = collect(child.stderr);
    const printed = { out: '', err: '' };
    child.stdout.on('data', (b) => { printed.out += b; });
    child.stderr.on('data', (b) => { printed.err += b; });
    const exit = exited(child);
    for (let waited = 0; !/\n/.test(printed.out) || !/token: \S+/.test(printed.err); waited += 50) {
      if (waited > 10_000 || child.exitCode !== null) {
        child.kill();
        throw new Error(`the simulator did not start:\n${printed.out}${printed.err}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return { child, stdout, stderr, exit, url: printed.out.split('\n')[0].trim(), token: /token: (\S+)/.exec(printed.err)[1] };
  }

  /** Records the simulator's view (stats: requests, messages per recipient), its webhook file and its output. */
  async stopSimulator(sim) {
    const stats = await (await fetch(`${sim.url}/_sim/stats`)).json();
    sim.child.kill('SIGTERM');
    const [stdout, stderr, exit] = await Promise.all([sim.stdout, sim.stderr, sim.exit]);
    const out = join(this.dir, 'simulate');
    this.write(join(out, 'command'), `wa-guard ${shellWords(SIMULATOR)}\n`);
    this.write(join(out, 'stdout'), stdout);
    this.write(join(out, 'stderr'), stderr);
    this.write(join(out, 'exit'), `${exit}\n`);
    this.write(join(out, 'files', 'stats.json'), `${JSON.stringify(stats, null, 2)}\n`);
    this.write(join(out, 'files', 'webhooks.jsonl'), readFileSync(join(this.work, 'sim', 'webhooks.jsonl')));
  }

  /** Every entry of an embedded store, read with this checkout's lmdb, one line each. */
  async dumpStore(store) {
    const { open } = createRequire(join(root, 'package.json'))('lmdb');
    const db = open({ path: join(this.work, 'stores', store, 'wa-guard.mdb'), readOnly: true, encoding: 'binary', maxDbs: 64 });
    const lines = [];
    for (const namespace of [...db.getKeys()].map(String)) {
      for (const { key, value } of db.openDB(namespace, { encoding: 'msgpack' }).getRange()) {
        lines.push([namespace, key, ...(Array.isArray(value) ? value : [value])].map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' '));
      }
    }
    await db.close();
    const normalized = lines.map((line) => this.normalize(line)).sort();
    writeFileSync(join(mkdirs(join(this.dir, `store-${store}`)), 'dump'), normalized.map((l) => `${l}\n`).join(''));
  }

  write(path, content) {
    const text = Buffer.isBuffer(content) ? content.toString('latin1') : Buffer.from(content).toString('latin1');
    mkdirs(dirname(path));
    // latin1 maps each byte to one character and back: bytes the rules do not touch stay as they were.
    writeFileSync(path, Buffer.from(this.normalize(text), 'latin1'));
  }

  /** The rules of the header, in order. */
  normalize(text) {
    const span = Date.now() - this.started + 5 * SECOND;
    const sinceStart = (ms) => {
      for (const [label, offset] of [['', 0], ...OFFSETS]) {
        const d = ms - CLOCK_START - offset;
        if (d >= 0 && d <= span) return label ? `<now+${label}>` : '<now>';
      }
      return undefined;
    };
    return text
      .replaceAll(this.work, '<work>')
      .replace(/"(duration_ms|rows_per_second|peak_rss_mb|cpu_ms|achieved_mps|requests_per_second|late_slots_given_up)": ?[\d.]+/g, '"$1": "<varies>"')
      .replace(/"peak_per_second": \{[^}]*\}/g, (block) => block.replace(/: \d+/g, ': "<varies>"'))
      .replace(/ in \d+\.\d\d s(, [\d,]+ rows\/s)?/g, (_, rate) => ` in <s> s${rate ? ', <n> rows/s' : ''}`)
      .replace(/ requests, [\d.]+ msg\/s/g, ' requests, <n> msg/s')
      .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z/g, (iso) => sinceStart(Date.parse(iso)) ?? iso)
      .replace(/(?<![\w.])(\d{10}|\d{13})(\.\d+)?(?![\w.])/g, (digits, whole) => sinceStart(Number(whole) * (whole.length === 10 ? 1000 : 1)) ?? digits)
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
      .replace(/wamid\.in\.[0-9a-f]{12}\b/g, 'wamid.in.<random>')
      .replace(/wamid\.([\w-]+)/g, (id, b64) => {
        const parts = /^(\d+):(\d+):[0-9a-f]{12}$/.exec(Buffer.from(b64, 'base64url').toString('latin1'));
        return parts ? `wamid.<sim:${parts[1]}:${parts[2]}>` : id;
      });
  }
}

function shellWords(args) {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

function mkdirs(path) {
  mkdirSync(path, { recursive: true });
  return path;
}

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function exited(child) {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? signal));
  });
}

/** Lists the files that differ, are missing on one side, or are new, with a short diff of each; 1 if any. */
function compare(a, b) {
  for (const dir of [a, b]) if (!existsSync(join(dir, MARKER))) return fail(`${dir} is not a record (no ${MARKER})`);
  const files = (dir) => new Set(readdirSync(dir, { recursive: true }).filter((f) => f !== MARKER && statSync(join(dir, f)).isFile()));
  const inA = files(a), inB = files(b);
  const all = [...new Set([...inA, ...inB])].sort();
  let differences = 0;
  for (const f of all) {
    if (!inB.has(f)) console.log(`only in ${a}: ${f}`);
    else if (!inA.has(f)) console.log(`only in ${b}: ${f}`);
    else if (readFileSync(join(a, f)).equals(readFileSync(join(b, f)))) continue;
    else console.log(`differs: ${f}\n${shortDiff(join(a, f), join(b, f))}`);
    differences++;
  }
  if (differences === 0) console.log(`byte-identical: ${all.length} files (${relative(process.cwd(), a) || '.'} and ${relative(process.cwd(), b) || '.'})`);
  else console.log(`${differences} of ${all.length} files differ`);
  return differences === 0 ? 0 : 1;
}

function shortDiff(fileA, fileB, maxLines = 30) {
  const diff = spawnSync('diff', ['-u', fileA, fileB], { encoding: 'latin1', maxBuffer: 1 << 28 });
  if (diff.error) {
    const la = readFileSync(fileA, 'latin1').split('\n'), lb = readFileSync(fileB, 'latin1').split('\n');
    let i = 0;
    while (la[i] === lb[i]) i++;
    return `  line ${i + 1}:\n  - ${la[i] ?? '(end)'}\n  + ${lb[i] ?? '(end)'}`;
  }
  const lines = diff.stdout.replace(/\n$/, '').split('\n').slice(2);
  return lines.slice(0, maxLines).map((l) => `  ${l}`).join('\n') + (lines.length > maxLines ? `\n  … ${lines.length - maxLines} more diff lines` : '');
}

// Last, after the class above is defined.
const [command, ...rest] = process.argv.slice(2);
if (command === 'record' && rest.length >= 1) process.exitCode = await record(rest);
else if (command === 'compare' && rest.length === 2) process.exitCode = compare(resolve(rest[0]), resolve(rest[1]));
else {
  console.error('usage: node bench/behaviour.mjs record DIR [--bin path/to/bin/wa-guard.js]\n       node bench/behaviour.mjs compare DIR_A DIR_B');
  process.exitCode = 2;
}
