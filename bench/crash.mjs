// npm run bench:crash: crash-and-corruption trials against `wa-guard simulate`; no message may go twice.
//   kill -9 at random moments of a live send, resumed until it finishes;
//   the embedded store truncated to 0 bytes, to 99% and to 1%, and bytes flipped in it, then resumed;
//   a Redis without persistence restarted between a send and its resume (when redis-server is installed);
//   the listener burst: 12 small signed posts, then 1,000 bodies on 1,000 connections at once, then SIGTERM;
//   every later command must still open that store.
// Doubles are counted at the simulator (messages accepted per recipient). A healthy store refused, or a
// process dying of a signal it was not sent (SIGBUS, SIGSEGV, SIGABRT), fails the run.
// The last line: "N runs, 0 doubled, 0 refused healthy stores, 0 native crashes" (exit 1 otherwise).
// QUICK=1 (or --quick): a shorter variant for the test suite.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../dist/simulator/server.js';
import { readMeta } from '../dist/store/lmdb-pages.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'wa-guard.js');
const quick = process.env.QUICK === '1' || process.argv.includes('--quick');
const ROWS = quick ? 200 : 800;
const KILLS = quick ? 4 : 12;
const BURSTS = Number(process.env.BURSTS ?? (quick ? 2 : 8));
const TOKEN = 'crash-token';
const SECRET = 'crash-secret';
const work = mkdtempSync(join(tmpdir(), 'wa-guard-crash-'));
const tally = { runs: 0, refusedHealthy: 0, nativeCrashes: 0, short: 0 };
const sim = await startSimulator({ token: TOKEN, registeredFraction: 1 });
let recipients = 0;

/** Runs the CLI; `killAfterMs`: SIGKILL it then, `killAtAccepted`: once the simulator accepted that many (a crash we cause). Counts native crashes. */
function cli(args, { env = {}, killAfterMs, killAtAccepted } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH, HOME: work, WA_GUARD_TOKEN: TOKEN, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b) => { stderr += b; });
    child.stdout.resume();
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const poll = killAtAccepted === undefined ? undefined : setInterval(() => { if (sim.stats().messages_accepted >= killAtAccepted) child.kill('SIGKILL'); }, 10);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      tally.runs++;
      if ((signal && signal !== 'SIGKILL') || (code !== null && code > 128 && code !== 130 && code !== 143)) {
        tally.nativeCrashes++;
        console.log(`  native crash: ${args[0]} ended with ${signal ?? code}: ${stderr.trim().split('\n').pop()}`);
      }
      resolve({ code, signal, stderr });
    });
  });
}

/** A campaign of `rows` messages to recipients no other trial uses. */
function campaign(dir, rows) {
  const first = recipients;
  recipients += rows;
  const lines = Array.from({ length: rows }, (_, i) => `${i + 1},+62 813 ${String(first + i).padStart(8, '0')},order_update,en_US,A-${i},today`);
  writeFileSync(join(dir, 'c.csv'), `id,to,template,language,param_1,param_2\n${lines.join('\n')}\n`);
}

const sendArgs = (dir, store, extra = []) => ['send', join(dir, 'c.csv'), '-c', 'ID', '--phone-number-id', '100000000000001', '--api-url', sim.url,
  '--templates', join(root, 'fixtures', 'templates.json'), '--tier', 'unlimited', '--mps', '400', '-o', join(dir, 'out'), '--store', store, '-q', ...extra];

function trialDir(name) {
  const dir = join(work, name);
  spawnSync('mkdir', ['-p', dir]);
  return dir;
}

/** A store refused as damaged (or an open that failed) when nothing damaged it. */
function healthy(result, what) {
  if (result.code === 0) return;
  tally.refusedHealthy++;
  console.log(`  refused a healthy store (${what}): ${result.stderr.trim()}`);
}

async function killLoop() {
  const dir = trialDir('kill');
  campaign(dir, ROWS);
  const store = join(dir, 'store');
  for (let i = 0; i < KILLS; i++) {
    const r = await cli(sendArgs(dir, store), { killAfterMs: 150 + Math.floor(Math.random() * 700) });
    if (r.code === 0) break;
    if (r.signal !== 'SIGKILL') healthy(r, 'resume after kill -9');
  }
  healthy(await cli(sendArgs(dir, store)), 'last resume after kill -9');
}

/** A finished send, its store then damaged by `harm`, and the resume: refused, or run without sending anything twice. */
async function damaged(name, harm) {
  const dir = trialDir(name);
  campaign(dir, quick ? 60 : 200);
  const store = join(dir, 'store');
  healthy(await cli(sendArgs(dir, store)), `${name}: first send`);
  harm(join(store, 'wa-guard.mdb'));
  await cli(sendArgs(dir, store));
}

function flipBytes(path, count, { from = 0 } = {}) {
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  const byte = Buffer.alloc(1);
  for (let i = 0; i < count; i++) {
    const at = from + Math.floor(Math.random() * (size - from));
    readSync(fd, byte, 0, 1, at);
    byte[0] ^= 1 << Math.floor(Math.random() * 8);
    writeSync(fd, byte, 0, 1, at);
  }
  closeSync(fd);
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function redisRestart() {
  if (spawnSync('redis-server', ['--version']).status !== 0) return console.log('  redis-server not installed: the Redis trial is skipped');
  const dir = trialDir('redis');
  campaign(dir, quick ? 60 : 200);
  const port = await freePort();
  const start = () => {
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() !== 'PONG'; i++) spawnSync('sleep', ['0.05']);
    return server;
  };
  const url = `redis://127.0.0.1:${port}`;
  let server = start();
  const refused = await cli(sendArgs(dir, url));
  if (refused.code !== 2) console.log(`  a Redis without persistence was not refused: exit ${refused.code}`);
  // Killed mid-send (before any summary is written), then Redis loses everything.
  await cli(sendArgs(dir, url, ['--allow-volatile-store', '--mps', '50']), { killAtAccepted: sim.stats().messages_accepted + 10 });
  server.kill('SIGKILL');
  await new Promise((r) => server.once('exit', r));
  server = start();
  await cli(sendArgs(dir, url, ['--allow-volatile-store']));
  server.kill('SIGKILL');
  await new Promise((r) => server.once('exit', r));
}

function post(port, body, agent) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex') } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', resolve);
    req.end(body);
  });
}

const statusBody = (i) => JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'w', changes: [{ field: 'messages', value: {
  messaging_product: 'whatsapp', metadata: { phone_number_id: '100000000000001' },
  statuses: [{ id: `wamid.burst${i}`, status: 'delivered', timestamp: String(1_700_000_000 + i), recipient_id: `62814${String(i).padStart(8, '0')}` }],
} }] }] });

async function listenerBurst(n) {
  const store = join(trialDir(`burst-${n}`), 'store');
  const child = spawn(process.execPath, [bin, 'listen', '--port', '0', '--store', store, '-q'], { env: { PATH: process.env.PATH, HOME: work, WA_GUARD_APP_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise((resolve) => child.stdout.once('data', (b) => resolve(String(b).trim())));
  const port = Number(new URL(url).port);
  for (let i = 0; i < 12; i++) await post(port, statusBody(i));
  await Promise.all(Array.from({ length: 1000 }, (_, i) => post(port, statusBody(100 + i), false)));
  child.kill('SIGTERM');
  const [code, signal] = await new Promise((r) => child.once('close', (c, s) => r([c, s])));
  tally.runs++;
  if (signal || (code !== 0 && code !== 143)) { tally.nativeCrashes += signal ? 1 : 0; console.log(`  listen ended with ${signal ?? code}`); }
  if (pagesShort(join(store, 'wa-guard.mdb')) > 0) tally.short++;
  healthy(await cli(['cache', 'list', '--store', store, '--json']), 'after the listener burst');
}

/** How many pages the data file ends before the last page its newest meta names (LMDB leaves freed pages unwritten). */
function pagesShort(path) {
  const fd = openSync(path, 'r');
  try {
    const a = readMeta(fd, 0);
    const b = readMeta(fd, a.pageSize);
    const newest = a.txnId > b.txnId ? a : b;
    return Number(newest.lastPage) + 1 - Math.floor(statSync(path).size / newest.pageSize);
  } finally {
    closeSync(fd);
  }
}

const started = Date.now();
// ONLY=bursts (or kill, damage, redis): one kind of trial.
const only = process.env.ONLY;
if (!only || only === 'kill') await killLoop();
if (!only || only === 'damage') {
  await damaged('truncated-0', (path) => truncateSync(path, 0));
  await damaged('truncated-99', (path) => truncateSync(path, Math.floor(statSync(path).size * 0.99)));
  await damaged('truncated-1', (path) => truncateSync(path, Math.floor(statSync(path).size * 0.01)));
  await damaged('flipped-meta', (path) => flipBytes(path, 4, { from: 0 }));
  await damaged('flipped-data', (path) => flipBytes(path, quick ? 20 : 200, { from: 8192 }));
}
if (!only || only === 'redis') await redisRestart();
if (!only || only === 'bursts') for (let i = 0; i < BURSTS; i++) await listenerBurst(i);
const doubled = Object.values(sim.stats().sent_per_recipient).filter((n) => n > 1).length;
await sim.close();
rmSync(work, { recursive: true, force: true });
const bursts = !only || only === 'bursts' ? `; ${tally.short} of ${BURSTS} listener stores ended short of their last page, and opened` : '';
console.log(`  ${((Date.now() - started) / 1000).toFixed(1)} s${bursts}`);
console.log(`${tally.runs} runs, ${doubled} doubled, ${tally.refusedHealthy} refused healthy stores, ${tally.nativeCrashes} native crashes`);
process.exitCode = doubled || tally.refusedHealthy || tally.nativeCrashes ? 1 : 0;
