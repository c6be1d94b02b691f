import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, files, runCli, tempDir } from './helpers.js';

/** Runs clean on a file with the given content; returns the result and what the out-dir holds. */
async function cleanText(content: string | Buffer, extra: string[] = [], name = 'input.csv') {
  const dir = tempDir();
  const input = join(dir, name);
  writeFileSync(input, content);
  const out = join(dir, 'out');
  const result = await runCli(['clean', input, '-c', 'ID', '-o', out, '--store', join(dir, 'store'), ...extra]);
  return { ...result, outputs: files(out), out };
}

describe('bad input is refused with a clear message, exit 2 and no outputs', () => {
  it.each([
    ['an empty file', '', /input\.csv: the file is empty/],
    ['a file of blank lines', '\n\n  \n', /the file is empty/],
    ['a header and no rows', 'name,phone\n', /no data rows \(only a header\)/],
    ['no phone column', 'name,email\nAni,a@x\n', /found no phone column; the headers are: "name", "email"/],
    ['its own output', 'name,phone,phone_e164,wa_id,wa_status\nAni,0812-3456-7890,+6281234567890,6281234567890,unverified\n', /already has the columns phone_e164, wa_id, wa_status that clean adds/],
    ['binary junk', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), /not a CSV or JSON file; it looks like binary data/],
    ['a gzip file', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]), /gzip archive/],
    ['an xlsx workbook', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64, 0x41)]), /an \.xlsx workbook\?\): export it as CSV/],
    ['UTF-16 text', Buffer.from('\ufeffname,phone\n', 'utf16le'), /UTF-16 text: give --encoding utf-16le \(or save it as UTF-8\)/],
    ['a 10 MB field', `name,phone,notes\nAni,0812-3456-7890,"${'x'.repeat(10 << 20)}"\n`, /line 2: a record is longer than 4 MiB \(an unclosed quote\?\)/],
    ['an unclosed quote at the end', 'name,phone\nAni,"0812-3456-7890\n', /line 2: a quoted field is not closed before the end of the file/],
    ['a stray quote inside a field', 'name,phone\nAni,0812"3456\nBudi,0813 1122 3344\n', /line 2: a quoted field is not closed/],
    ['a quote in the middle of a field', 'name,phone\nAni,"0812"34"56"\nBudi,0813 1122 3344\n', /line 2: not valid CSV: invalid Closing Quote/],
  ])('%s', async (_, content, message) => {
    const { code, stderr, outputs } = await cleanText(content);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
    expect(outputs).toEqual([]);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
  });

  it('broken JSON names the line', async () => {
    const json = '[\n  {"name": "Ani", "phone": "0812-3456-7890"},\n  {"name": "Budi", "phone": }\n]\n';
    const { code, stderr, outputs } = await cleanText(json, [], 'input.json');
    expect(code).toBe(2);
    expect(stderr).toMatch(/input\.json: line 3: broken JSON/);
    expect(outputs).toEqual([]);
  });

  it.each([
    ['a JSON array that never closes', '[{"phone":"0812-3456-7890"},\n{"phone":"0813 1122 3344"}', /line 2: unexpected end of file: the JSON array is not closed/],
    ['a JSON object instead of an array', '{"contacts": [{"phone": "0812-3456-7890"}]}', /expected a JSON array of objects/],
    ['data after the array', '[{"phone":"0812-3456-7890"}] trailing', /unexpected data after the end of the JSON array/],
  ])('%s', async (_, json, message) => {
    const { code, stderr, outputs } = await cleanText(json, [], 'input.json');
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
    expect(outputs).toEqual([]);
  });

  it('a broken file found deep into the input leaves no partial output behind', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => `row ${i},+62 812 ${String(i).padStart(8, '0')}`);
    rows.push('bad,"unclosed', 'more,0812');
    const { code, stderr, outputs } = await cleanText(`name,phone\n${rows.join('\n')}\n`);
    expect(code).toBe(2);
    expect(stderr).toMatch(/line 50002/);
    expect(outputs).toEqual([]);
  });

  it('a wrong --delimiter hints at the problem', async () => {
    const { code, stderr } = await cleanText('name;phone\nAni;0812-3456-7890\n', ['--delimiter', ',']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/the header is a single column: is --delimiter right\?/);
  });

  it('an unreadable path', async () => {
    const dir = tempDir();
    const result = await runCli(['clean', join(dir, 'missing.csv'), '-o', join(dir, 'out')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read .*missing\.csv: no such file or directory/);
    expect(files(dir)).toEqual([]);
    const asDir = await runCli(['clean', dir, '-o', join(dir, 'out')]);
    expect(asDir.code).toBe(2);
    expect(asDir.stderr).toMatch(/is a directory/);
  });

  it('an --out-dir that cannot be written', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'taken'), 'a file, not a directory');
    const result = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'taken'), '--store', join(dir, 'store')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot create --out-dir .*taken/);
  });

  it.each([
    [['--country', 'XX'], /--country: "XX" is not a known ISO 3166 country code/],
    [['--fail-on', 'duplicates'], /--fail-on: unknown reason duplicates/],
    [['--delimiter', ';;'], /--delimiter must be one character/],
    [['--format', 'xml'], /argument 'xml' is invalid/],
    [['--no-such-flag'], /unknown option '--no-such-flag'/],
  ])('bad arguments %j', async (args, message) => {
    const result = await runCli(['clean', join(FIXTURES, 'contacts.csv'), ...args, '-o', join(tempDir(), 'out')]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
  });

  it('--debug shows the stack trace', async () => {
    const { stderr } = await cleanText('', ['--debug']);
    expect(stderr).toMatch(/\n\s+at /);
  });
});

describe('bad rows are reported, not fatal', () => {
  it('rows with too many or too few fields', async () => {
    const { code, out, stderr } = await cleanText('name,phone,city\nAni,0812-3456-7890,Jakarta,extra\nBudi,0813 1122 3344\n');
    expect(code).toBe(0);
    const { readCsv } = await import('./helpers.js');
    const purged = readCsv(join(out, 'purged.csv'));
    expect(purged).toEqual([{
      name: '', phone: '', city: '', purge_reason: 'malformed_row',
      purge_detail: 'line 2 has 4 fields but the header has 3: Ani,0812-3456-7890,Jakarta,extra',
    }]);
    expect(readCsv(join(out, 'cleaned.csv'))).toEqual([{ name: 'Budi', phone: '0813 1122 3344', city: '', phone_e164: '+6281311223344', wa_id: '6281311223344', wa_status: 'unverified', line_type: 'mobile' }]);
    expect(stderr).toMatch(/1 row\(s\) had fewer fields than the header/);
  });
});

describe('--fail-on', () => {
  it('exits 3 when rows were purged for a listed reason, after writing every output', async () => {
    const dir = tempDir();
    const args = ['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'out'), '--store', join(dir, 'store')];
    const hit = await runCli([...args, '--fail-on', 'duplicate,opted_out']);
    expect(hit.code).toBe(3);
    expect(hit.stderr).toMatch(/--fail-on: rows were purged for duplicate \(3\), opted_out \(1\)/);
    expect(files(join(dir, 'out'))).toEqual(['blacklist.csv', 'cleaned.csv', 'purged.csv', 'summary.json']);
    expect((await runCli([...args, '--fail-on', 'blacklisted'])).code).toBe(0);
    expect((await runCli([...args, '--fail-on', 'any', '-q'])).code).toBe(3);
  });
});
