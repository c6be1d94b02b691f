import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { FIXTURES, files, readCsv, readJsonl, runCli, tempDir } from './helpers.js';

// What send's outputs tell a user: results.* with gate.*'s columns, the journal in a dry run, --output, the exit in the summary.

const TOKEN = 'test-token';
const env = { WA_GUARD_TOKEN: TOKEN };
const templates = join(FIXTURES, 'templates.json');
const running: Simulator[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.close();
});

async function simulator(): Promise<Simulator> {
  const sim = await startSimulator({ token: TOKEN, registeredFraction: 1, undeliverable: 'sync', unregistered: ['+6281200000002'] });
  running.push(sim);
  return sim;
}

/** Sent, blocked by the gate (marketing to +1), failed with 131026. */
function campaignFile(dir: string): string {
  const input = join(dir, 'c.csv');
  writeFileSync(input, [
    'id,to,template,language,param_1,param_2',
    'a,+62 812 0000 0001,order_update,en_US,A-1,today',
    'b,+1 415 555 2671,spring_sale,en_US,10%,',
    'c,+62 812 0000 0002,order_update,en_US,A-2,today',
  ].join('\n') + '\n');
  return input;
}

function live(sim: Simulator, input: string, dir: string, extra: string[] = []): string[] {
  return ['send', input, '-c', 'ID', '--phone-number-id', '100000000000001', '--api-url', sim.url, '--templates', templates,
    '--store', join(dir, 'store'), '--tier', 'unlimited', ...extra];
}

function dryRun(input: string, dir: string, extra: string[] = []): string[] {
  return ['send', input, '--dry-run', '-c', 'ID', '--templates', templates, '--store', join(dir, 'store'), '--tier', 'unlimited', ...extra];
}

const GATE = ['wa_id', 'decision', 'reason', 'detail', 'not_before', 'journal'];
const DELIVERY = ['status', 'wamid', 'error_code', 'error_title', 'attempts', 'sent_at'];

describe('send outputs', () => {
  it('results.* has gate.*\'s columns (reason a code, detail its text), then the delivery ones; JSONL the same fields', async () => {
    const dir = tempDir();
    const sim = await simulator();
    const input = campaignFile(dir);
    const run = await runCli(live(sim, input, dir, ['-o', join(dir, 'out'), '-q']), { env });
    expect(run.code).toBe(0);
    const rows = readCsv(join(dir, 'out', 'results.csv'));
    expect(Object.keys(rows[0]!)).toEqual(['id', 'to', 'template', 'language', 'param_1', 'param_2', ...GATE, ...DELIVERY]);
    expect(rows[0]).toMatchObject({ wa_id: '6281200000001', decision: 'send', reason: 'ok', detail: '', journal: '', status: 'sent', attempts: '1' });
    expect(rows[1]).toMatchObject({ wa_id: '14155552671', decision: 'block', reason: 'us_marketing_blocked', status: 'blocked', attempts: '0' });
    expect(rows[1]!.detail).toMatch(/^[A-Z]/); // the text alone, without the code before it
    expect(rows[2]).toMatchObject({ decision: 'send', reason: 'ok', status: 'failed', error_code: '131026' });
    expect(rows[2]!.detail).not.toBe('');

    const dry = await runCli(dryRun(input, tempDir(), ['-o', join(dir, 'dry'), '-q']));
    expect(Object.keys(readCsv(join(dir, 'dry', 'gate.csv'))[0]!).slice(-GATE.length)).toEqual(GATE);

    // A re-run reads every row from the journal: the column says so. JSONL: the same fields, null when empty, numbers as numbers.
    const again = await runCli(live(sim, input, dir, ['-o', join(dir, 'again'), '--output-format', 'jsonl', '-q']), { env });
    expect(again.code).toBe(0);
    const json = readJsonl(join(dir, 'again', 'results.jsonl'));
    expect(Object.keys(json[0]!)).toEqual(Object.keys(rows[0]!));
    expect(json.map((r) => [r.journal, r.status])).toEqual([['sent', 'sent'], [null, 'blocked'], ['failed', 'failed']]);
    expect(json[1]).toMatchObject({ reason: 'us_marketing_blocked', wamid: null, error_code: null, attempts: 0 });
    expect(json[2]).toMatchObject({ decision: 'block', reason: 'blacklisted', error_code: 131026 }); // the gate learned; the journal's answer stands
  });

  it('a dry run of a campaign already sent says which rows a live run would not send again: summary, human text, journal column', async () => {
    const dir = tempDir();
    const sim = await simulator();
    const input = campaignFile(dir);
    expect((await runCli(live(sim, input, dir, ['-o', join(dir, 'out'), '-q']), { env })).code).toBe(0);

    const dry = await runCli(dryRun(input, dir, ['-o', join(dir, 'dry')]));
    expect(dry.code).toBe(0);
    expect(readCsv(join(dir, 'dry', 'gate.csv')).map((r) => [r.id, r.decision, r.journal])).toEqual([['a', 'send', 'sent'], ['b', 'block', ''], ['c', 'block', 'failed']]);
    const summary = JSON.parse(readFileSync(join(dir, 'dry', 'summary.json'), 'utf8'));
    expect(summary.journal).toEqual({ campaign_id: expect.stringMatching(/^[0-9a-f]{16}$/), resolved: { sent: 1, failed: 1, unknown: 0 }, not_sent_again: { send: 1, defer: 0, block: 1 } });
    expect(dry.stderr).toMatch(/ {2}send +1 +\(1 already resolved in the journal: a live run does not send them again\)\n/);
    expect(dry.stderr).toMatch(/journal of campaign [0-9a-f]{16}: an earlier run resolved 2 rows \(sent 1, failed 1, unknown 0\)/);

    // Another campaign id is another journal: nothing resolved there.
    const other = await runCli(dryRun(input, dir, ['-o', join(dir, 'other'), '--campaign-id', 'autumn', '--json']));
    expect(JSON.parse(other.stdout).journal).toEqual({ campaign_id: 'autumn', resolved: { sent: 0, failed: 0, unknown: 0 }, not_sent_again: { send: 0, defer: 0, block: 0 } });
    expect(other.stderr).not.toMatch(/already resolved/);
  });

  it('--output - streams gate.* (or results.*) to stdout, the rest staying in --out-dir; --output FILE puts them there', async () => {
    const dir = tempDir();
    const input = campaignFile(dir);
    const piped = await runCli(dryRun(input, dir, ['--output', '-', '-o', join(dir, 'out')]));
    expect(piped.code).toBe(0);
    expect(piped.stdout.split('\n')[0]).toBe(`id,to,template,language,param_1,param_2,${GATE.join(',')}`);
    expect(piped.stdout.trim().split('\n')).toHaveLength(4);
    expect(piped.stderr).toMatch(/decisions -> stdout/);
    expect(files(join(dir, 'out'))).toEqual(['summary.json']);
    expect(JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')).outputs.gate).toBe('-');
    const both = await runCli(dryRun(input, dir, ['--output', '-', '--json', '-o', join(dir, 'both')]));
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--output - and --json both want stdout/);

    const file = await runCli(dryRun(input, dir, ['--output', join(dir, 'gate-rows.csv'), '-o', join(dir, 'out2'), '-q']));
    expect(file.code).toBe(0);
    expect(readFileSync(join(dir, 'gate-rows.csv'), 'utf8')).toBe(piped.stdout);
    expect(files(join(dir, 'out2'))).toEqual(['summary.json']);

    const sim = await simulator();
    const sent = await runCli(live(sim, input, dir, ['--output', '-', '-o', join(dir, 'live'), '-q']), { env });
    expect(sent.code).toBe(0);
    expect(sent.stdout.split('\n')[0]).toBe(`id,to,template,language,param_1,param_2,${[...GATE, ...DELIVERY].join(',')}`);
    expect(sent.stdout).toMatch(/,sent,wamid\./);
    expect(files(join(dir, 'live'))).toEqual(['summary.json']);
  });

  it('--json says the exit: ok false, exit_code 3 and the --fail-on conditions that matched (summary.json too)', async () => {
    const dir = tempDir();
    const input = campaignFile(dir);
    const hit = await runCli(dryRun(input, dir, ['--json', '--fail-on', 'us_marketing_blocked,opted_out', '-o', join(dir, 'out')]));
    expect(hit.code).toBe(3);
    const summary = JSON.parse(hit.stdout);
    expect(summary).toMatchObject({ ok: false, exit_code: 3, fail_on: { conditions: ['us_marketing_blocked', 'opted_out'], matched: ['us_marketing_blocked'] } });
    expect(JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8'))).toMatchObject({ ok: false, exit_code: 3, fail_on: summary.fail_on });
    const none = await runCli(dryRun(input, dir, ['--json', '-o', join(dir, 'none')]));
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toMatchObject({ ok: true, exit_code: 0, fail_on: { conditions: [], matched: [] } });

    const sim = await simulator();
    const sent = await runCli(live(sim, input, dir, ['--json', '--fail-on', 'any', '-o', join(dir, 'live')]), { env });
    expect(sent.code).toBe(3);
    expect(JSON.parse(sent.stdout)).toMatchObject({ ok: false, exit_code: 3, fail_on: { conditions: ['any'], matched: ['us_marketing_blocked', 'failed'] } });
  });
});
