import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURES, files, readCsv, runCli, spawnCli, tempDir } from './helpers.js';

/** Runs clean on `text` written to a file in a new directory; the outputs go to its out/. */
async function cleanFile(name: string, text: string | Buffer, extra: string[] = []) {
  const dir = tempDir();
  const input = join(dir, name);
  writeFileSync(input, text);
  const result = await runCli(['clean', input, '-c', 'ID', '-o', join(dir, 'out'), '--store', join(dir, 'store'), ...extra]);
  return { ...result, dir, out: join(dir, 'out') };
}

describe('text encodings', () => {
  const latin1 = Buffer.from('name,phone\nAni,0812-3456-7890\nJos\xe9,0813-1122-3344\n', 'latin1');

  it('refuses a file that is not UTF-8 with the line of the first bad byte and a hint, writing nothing', async () => {
    const { code, stderr, out } = await cleanFile('latin1.csv', latin1);
    expect(code).toBe(2);
    expect(stderr).toMatch(/latin1\.csv: line 3: not valid UTF-8 \(byte 0xE9\); .*--encoding windows-1252/);
    expect(existsSync(out)).toBe(false);
  });

  it('reads it with --encoding, with nothing replaced by U+FFFD', async () => {
    const { code, out } = await cleanFile('latin1.csv', latin1, ['--encoding', 'latin1', '-q']);
    expect(code).toBe(0);
    const text = readFileSync(join(out, 'cleaned.csv'), 'utf8');
    expect(text).toContain('José,0813-1122-3344,+6281311223344');
    expect(text).not.toContain('\ufffd');
  });

  it('reads UTF-16 with --encoding utf-16le, and says how when it is missing', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name,phone\r\nAni,+62 812 3456 7890\r\n', 'utf16le')]);
    const refused = await cleanFile('u16.csv', utf16);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/UTF-16 text: give --encoding utf-16le/);
    const read = await cleanFile('u16.csv', utf16, ['--encoding', 'utf-16le', '-q']);
    expect(read.code).toBe(0);
    expect(readCsv(join(read.out, 'cleaned.csv'))).toEqual([{ name: 'Ani', phone: '+62 812 3456 7890', phone_e164: '+6281234567890', wa_id: '6281234567890', wa_status: 'unverified', line_type: 'mobile' }]);
    expect((await cleanFile('x.csv', 'phone\n1\n', ['--encoding', 'klingon'])).stderr).toMatch(/--encoding: "klingon" is not an encoding/);
  });

  it('reads lines that end in CR alone (classic Mac) instead of calling the file "only a header"', async () => {
    const { code, out } = await cleanFile('mac.csv', 'name,phone\rAni,0812-3456-7890\rBudi,0813-1122-3344\r', ['-q']);
    expect(code).toBe(0);
    expect(readCsv(join(out, 'cleaned.csv')).map((r) => r.phone_e164)).toEqual(['+6281234567890', '+6281311223344']);
  });
});

describe('JSON keys that vary from record to record', () => {
  const records = [
    { name: 'first' },
    ...Array.from({ length: 3000 }, (_, i) => ({ name: `n${i}`, phone: `+62812${String(1000000 + i)}`, note: 'x'.repeat(60) })),
    { name: 'late', mobile: '+62 857 1234 5678', extra: 1 },
  ];
  const jsonl = records.map((r) => JSON.stringify(r)).join('\n') + '\n';

  it('takes the columns from the keys of many records, not only the first', async () => {
    const { code, stdout } = await cleanFile('a.json', JSON.stringify(records.slice(0, 5)), ['--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).input.phone_columns).toEqual(['phone']);
  });

  it('--column may name a key that first appears late; keys CSV output cannot hold are counted in a warning', async () => {
    const { code, stdout, out } = await cleanFile('late.jsonl', jsonl, ['--column', 'phone,mobile', '--output-format', 'csv', '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary.phone_column_used).toEqual({ phone: 3000, mobile: 1 });
    expect(summary.warnings.join()).toMatch(/1 record\(s\) had keys .*\(extra\).*--output-format jsonl/);
    expect(readCsv(join(out, 'cleaned.csv')).at(-1)).toMatchObject({ name: 'late', mobile: '+62 857 1234 5678', phone_e164: '+6285712345678' });
    // JSON output keeps every key of every record.
    const json = await cleanFile('late.jsonl', jsonl, ['--column', 'phone,mobile', '-q']);
    expect(readFileSync(join(json.out, 'cleaned.jsonl'), 'utf8').trim().split('\n').at(-1)).toContain('"extra":1');
  });

  it('reads nested objects as API exports write them: dotted columns, found like any other, flat in CSV output', async () => {
    // HubSpot's CRM API: the fields under "properties".
    const hubspot = [
      { id: '1', properties: { firstname: 'Ani', phone: '+62 812 3456 7890', mobilephone: '0813 1122 3344' }, archived: false },
      { id: '2', properties: { firstname: 'Budi', phone: null, mobilephone: '+62 813 9999 0000' }, archived: false },
      { id: '3', properties: { firstname: 'Citra', phone: '+62 812 0000 1111', mobilephone: '', hs_whatsapp_opt_out: 'true' }, archived: false },
      { id: '4', properties: { firstname: 'Dewi', phone: '+62 812 0000 2222', address: { city: 'Bandung' } }, archived: false },
    ];
    const { code, stdout, out } = await cleanFile('contacts.json', JSON.stringify(hubspot), ['--output-format', 'csv', '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary.input.phone_columns).toEqual(['properties.mobilephone', 'properties.phone']);
    expect(summary.phone_column_used).toEqual({ 'properties.mobilephone': 2, 'properties.phone': 1 });
    const cleaned = readCsv(join(out, 'cleaned.csv'));
    expect(cleaned.at(-1)).toMatchObject({ 'properties.address.city': 'Bandung', archived: 'false' });
    expect(cleaned.map((r) => [r.id, r['properties.firstname'], r.phone_e164])).toEqual([['1', 'Ani', '+6281311223344'], ['2', 'Budi', '+6281399990000'], ['4', 'Dewi', '+6281200002222']]);
    expect(readCsv(join(out, 'purged.csv')).map((r) => [r.id, r.purge_reason, r.purge_detail])).toEqual([['3', 'opted_out', expect.stringContaining('properties.hs_whatsapp_opt_out')]]);
    // --column names a nested field by its path; JSON output keeps the records as they were.
    const named = await cleanFile('contacts.json', JSON.stringify(hubspot), ['--column', 'properties.phone', '-q']);
    expect(readFileSync(join(named.out, 'cleaned.json'), 'utf8')).toContain('"properties":{"firstname":"Ani","phone":"+62 812 3456 7890"');
  });

  it('a cell holding a list of numbers (Pipedrive\'s [{label, value, primary}]) offers each, the primary first, a mobile over a landline', async () => {
    const pipedrive = [
      { id: 1, name: 'Ani', phone: [{ label: 'work', value: '+62 21 5550 1234', primary: false }, { label: 'mobile', value: '+62 812 3456 7890', primary: true }] },
      { id: 2, name: 'Budi', phone: [{ label: 'work', value: '+62 21 5550 1234', primary: true }, { label: 'mobile', value: '+62 813 1122 3344', primary: false }] },
      { id: 3, name: 'Citra', phone: ['+62 812 0000 3333'] },
      { id: 4, name: 'Dewi', phone: [] },
      { id: 5, name: 'Eka', phone: [{ label: 'work', value: '', primary: true }] },
      { id: 6, name: 'Fajar', phone: [{ label: 'work', value: 'call me', primary: true }] },
    ];
    const { code, out } = await cleanFile('persons.json', JSON.stringify(pipedrive), ['-q']);
    expect(code).toBe(0);
    const cleaned = readFileSync(join(out, 'cleaned.json'), 'utf8');
    expect([...cleaned.matchAll(/"phone_e164":"([^"]+)"/g)].map((m) => m[1])).toEqual(['+6281234567890', '+6281311223344', '+6281200003333']);
    expect(readFileSync(join(out, 'purged.json'), 'utf8').match(/"purge_reason":"\w+"/g)).toEqual(['"purge_reason":"missing_number"', '"purge_reason":"missing_number"', '"purge_reason":"invalid_number"']);
  });

  it('an empty array says there are no records', async () => {
    const { code, stderr } = await cleanFile('empty.json', '[]');
    expect(code).toBe(2);
    expect(stderr).toMatch(/empty\.json: the file holds no records \(an empty array\)/);
  });
});

describe('outputs: no silent loss, no hang', () => {
  it('refuses to write over its input, also through a hard link, before anything is written', async () => {
    const dir = tempDir();
    const input = join(dir, 'cleaned.csv');
    writeFileSync(input, readFileSync(join(FIXTURES, 'contacts.csv')));
    const same = await runCli(['clean', input, '-c', 'ID', '-o', dir, '--store', join(dir, 'store')]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/cleaned\.csv is the input file/);
    expect(readFileSync(input, 'utf8')).toBe(readFileSync(join(FIXTURES, 'contacts.csv'), 'utf8'));
    linkSync(input, join(dir, 'copy.csv'));
    const linked = await runCli(['clean', input, '-c', 'ID', '--output', join(dir, 'copy.csv'), '-o', join(dir, 'out'), '--store', join(dir, 'store')]);
    expect(linked.code).toBe(2);
    expect(linked.stderr).toMatch(/copy\.csv is the input file \(a link to it\)/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('fails at once on an --out-dir that cannot be created: under /proc, under a file, or -', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    const started = Date.now();
    const proc = await spawnCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', '/proc/wa-guard-x', '--store', join(dir, 'store')]);
    expect(proc.code).toBe(2);
    expect(proc.stderr).toMatch(/cannot create --out-dir \/proc\/wa-guard-x/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const underFile = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'file', 'out'), '--store', join(dir, 'store')]);
    expect(underFile.stderr).toMatch(/a file is in the way/);
    const dash = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', '-', '--store', join(dir, 'store')], { cwd: dir });
    expect(dash.code).toBe(2);
    expect(dash.stderr).toMatch(/--out-dir -: stdout is not a directory; give --output -/);
    expect(existsSync(join(dir, '-'))).toBe(false);
  });

  it('--output to a device, a named pipe or a symlink leaves it what it was (never renames a file over /dev/null)', async () => {
    const dir = tempDir();
    const run = (output: string) => runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '--output', output, '-o', join(dir, 'out'), '--store', join(dir, 'store'), '-q']);
    // A null device of our own (mknod needs root, as CI runs; elsewhere this part is skipped): never the real one.
    if (spawnSync('mknod', [join(dir, 'null'), 'c', '1', '3']).status === 0) {
      expect((await run(join(dir, 'null'))).code).toBe(0);
      expect(statSync(join(dir, 'null')).isCharacterDevice()).toBe(true);
    }
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const reader = readFile(join(dir, 'fifo'), 'utf8');
    expect((await run(join(dir, 'fifo'))).code).toBe(0);
    expect((await reader).trim().split('\n')).toHaveLength(16);
    expect(statSync(join(dir, 'fifo')).isFIFO()).toBe(true);
    expect(files(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // A symlink keeps pointing where it did; the file it points to is replaced, whole.
    mkdirSync(join(dir, 'runs'));
    writeFileSync(join(dir, 'runs', 'cleaned.csv'), 'old\n');
    symlinkSync(join('runs', 'cleaned.csv'), join(dir, 'latest.csv'));
    expect((await run(join(dir, 'latest.csv'))).code).toBe(0);
    expect(lstatSync(join(dir, 'latest.csv')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'runs', 'cleaned.csv'), 'utf8').trim().split('\n')).toHaveLength(16);
  });

  it('stdout that closes early (| head) or fills a disk (> /dev/full): one line and exit 1, no stack trace, no leftovers', async () => {
    const dir = tempDir();
    const input = join(dir, 'big.csv');
    writeFileSync(input, 'name,phone\n' + Array.from({ length: 200_000 }, (_, i) => `n${i},+62 812 ${String(i).padStart(8, '0')}`).join('\n') + '\n');
    const clean = (out: string, extra: string[], stdout: 'pipe' | number) => {
      const child = spawn(process.execPath, [BIN, 'clean', input, '-o', join(dir, out), '--store', join(dir, 'store'), ...extra], { stdio: ['ignore', stdout, 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (b) => { stderr += b; });
      return { child, done: new Promise<{ code: number | null; stderr: string }>((r) => child.once('close', (code) => r({ code, stderr }))) };
    };
    // `| head -c 100`: the reader takes a little and goes away.
    const headed = clean('a', ['--output', '-'], 'pipe');
    headed.child.stdout!.once('data', () => headed.child.stdout!.destroy());
    const a = await headed.done;
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/^wa-guard: stdout was closed before all rows were written/);
    expect(a.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(existsSync(join(dir, 'a'))).toBe(false);

    const full = openSync('/dev/full', 'w');
    const b = await clean('b', ['--output', '-'], full).done;
    expect([b.code, b.stderr]).toEqual([1, 'wa-guard: cannot write to stdout: no space left on device\n']);
    expect(existsSync(join(dir, 'b'))).toBe(false);
    // The outputs are complete and kept; only the summary could not be printed.
    const c = await clean('c', ['--json'], full).done;
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/^wa-guard: cannot write to stdout: .*no space left on device/);
    expect(files(join(dir, 'c'))).toEqual(['blacklist.csv', 'cleaned.csv', 'purged.csv', 'summary.json']);
    closeSync(full);
  });

  it('--output - writes the cleaned rows to stdout and the summary to stderr; --output FILE puts them there', async () => {
    const dir = tempDir();
    const piped = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '--output', '-', '-o', join(dir, 'out'), '--store', join(dir, 'store')]);
    expect(piped.code).toBe(0);
    expect(piped.stdout.split('\n')[0]).toBe('id,first_name,last_name,company,Phone,Mobile,email,opt_out,notes,phone_e164,wa_id,wa_status,line_type');
    expect(piped.stdout.trim().split('\n')).toHaveLength(16);
    expect(piped.stderr).toMatch(/cleaned\s+15\s+-> stdout/);
    expect(files(join(dir, 'out'))).toEqual(['blacklist.csv', 'purged.csv', 'summary.json']);
    expect((await runCli(['clean', join(FIXTURES, 'contacts.csv'), '--output', '-', '--json'])).stderr).toMatch(/--output - and --json both want stdout/);

    const file = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '--output', join(dir, 'leads.csv'), '-o', join(dir, 'out2'), '--store', join(dir, 'store'), '-q']);
    expect(file.code).toBe(0);
    expect(readFileSync(join(dir, 'leads.csv'), 'utf8')).toBe(piped.stdout);
    expect(files(join(dir, 'out2'))).toEqual(['blacklist.csv', 'purged.csv', 'summary.json']);
  });

  it('--json says the exit: ok false, exit_code 3 and the --fail-on reasons that matched (summary.json too)', async () => {
    const text = 'name,phone\nAni,0812-3456-7890\nAni again,+62 812 3456 7890\nBad,12\n';
    const hit = await cleanFile('dupes.csv', text, ['--json', '--fail-on', 'duplicate,opted_out,invalid_number']);
    expect(hit.code).toBe(3);
    const summary = JSON.parse(hit.stdout);
    expect(summary).toMatchObject({ ok: false, exit_code: 3, fail_on: { conditions: ['duplicate', 'opted_out', 'invalid_number'], matched: ['invalid_number', 'duplicate'] } });
    expect(JSON.parse(readFileSync(join(hit.out, 'summary.json'), 'utf8'))).toMatchObject({ ok: false, exit_code: 3, fail_on: summary.fail_on });
    expect(hit.stderr).toMatch(/--fail-on: rows were purged for invalid_number \(1\), duplicate \(1\)/);

    const miss = await cleanFile('dupes.csv', text, ['--json', '--fail-on', 'blacklisted']);
    expect(miss.code).toBe(0);
    expect(JSON.parse(miss.stdout)).toMatchObject({ ok: true, exit_code: 0, fail_on: { conditions: ['blacklisted'], matched: [] } });
    const none = await cleanFile('dupes.csv', text, ['--json']);
    expect(JSON.parse(none.stdout)).toMatchObject({ ok: true, exit_code: 0, fail_on: { conditions: [], matched: [] } });
  });

  it('--safe-csv defuses cells a spreadsheet would run as formulas, leaving phone columns alone', async () => {
    const text = 'name,phone,note\n"=HYPERLINK(""http://x"")",+62 812 3456 7890,@sum\n-5,0813-1122-3344,+tag\nplain,0857 1234 5678,fine\n\uff1dcmd,0858 1234 5678,ok\n';
    const safe = await cleanFile('f.csv', text, ['--safe-csv', '-q']);
    expect(safe.code).toBe(0);
    expect(readCsv(join(safe.out, 'cleaned.csv')).map((r) => [r.name, r.phone, r.note])).toEqual([
      ["'=HYPERLINK(\"http://x\")", '+62 812 3456 7890', "'@sum"],
      ["'-5", '0813-1122-3344', "'+tag"],
      ['plain', '0857 1234 5678', 'fine'],
      ["'\uff1dcmd", '0858 1234 5678', 'ok'], // a full-width "=" runs too in some spreadsheets
    ]);
    const plain = await cleanFile('f.csv', text, ['-q']);
    expect(readCsv(join(plain.out, 'cleaned.csv'))[0]!.name).toBe('=HYPERLINK("http://x")');
  });

  it('help CMD exits 0; --help shows examples and every exit code', async () => {
    const help = await runCli(['help', 'clean']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:/);
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Examples:[\s\S]*143 terminated/);
  });
});
