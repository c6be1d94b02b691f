import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseColumns } from '../src/input/columns.js';
import { FIXTURES, readCsv, readJsonl, runCli, tempDir } from './helpers.js';

/** Cleans `file` into a fresh directory; the outputs by id column, and the summary. */
async function clean(file: string, args: string[], id: string) {
  const dir = tempDir();
  const result = await runCli(['clean', file, ...args, '-o', join(dir, 'out'), '--store', join(dir, 'store')]);
  expect(result.code, result.stderr).toBe(0);
  const delimiter = readFileSync(file, 'latin1').split('\n')[0]!.includes(';') ? ';' : ',';
  const cleaned = Object.fromEntries(readCsv(join(dir, 'out', 'cleaned.csv'), delimiter).map((r) => [r[id], r]));
  const purged = Object.fromEntries(readCsv(join(dir, 'out', 'purged.csv'), delimiter).map((r) => [r[id], r]));
  const summary = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8'));
  return { dir, stderr: result.stderr, cleaned, purged, summary };
}

function csvFile(text: string | Buffer, name = 'in.csv'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

describe('yes/no columns are never phone columns (issue 23, item 10)', () => {
  it('an Indonesian Excel export: "Punya WA" and "Berhenti WA" hold ya/tidak; "Berhenti WA" opts contacts out', async () => {
    const { cleaned, purged, summary, stderr } = await clean(join(FIXTURES, 'crm', 'excel-indonesia.csv'), ['-c', 'ID'], 'Nama');
    expect(summary.input.phone_columns).toEqual(['No. HP']);
    expect(summary.input.optout_columns).toEqual(['Berhenti WA']);
    expect(stderr).toMatch(/phone column: No\. HP\n/);
    expect(cleaned['Ani Wijaya']!.phone_e164).toBe('+6281234567890');
    expect(purged['Budi Santoso']).toMatchObject({ purge_reason: 'opted_out', purge_detail: 'flagged in column Berhenti WA' });
    expect(purged['Eka Putri']).toMatchObject({ purge_reason: 'opted_out' });
    // No number at all: not "contains letters: ya".
    expect(purged['Dedi Kurniawan']).toMatchObject({ purge_reason: 'missing_number', purge_detail: 'the phone field is empty' });
  });

  it.each([
    ['English', ['Yes', 'No', '', 'yes']], ['Indonesian', ['ya', 'tidak', 'Tidak', 'YA']], ['Spanish', ['sí', 'no', 'Si']],
    ['Portuguese', ['sim', 'não', 'Nao']], ['booleans', [true, false]],
  ])('%s answers in a column named like a phone column', (_, answers) => {
    const headers = ['Name', 'WhatsApp', 'Mobile'];
    const sample = answers.map((answer, i) => ['x', answer, `0812345678${i}`]);
    expect(chooseColumns(headers, 'x', {}, sample).phone).toEqual([2]);
    // Numbers among the answers: it may be a phone column after all.
    expect(chooseColumns(headers, 'x', {}, [...sample, ['x', '0812 1111 2222', '']]).phone).toEqual([1, 2]);
  });

  it('says so when the only phone-like column holds answers', () => {
    expect(() => chooseColumns(['Name', 'WhatsApp'], 'in.csv', {}, [['Ani', 'yes'], ['Budi', 'no']]))
      .toThrow(/found no phone column \("WhatsApp" holds yes\/no answers, not numbers\)/);
  });

  it('opts out the rows whose flag says yes in any of those languages, and keeps consent given as a date', async () => {
    const file = csvFile([
      'Nama,No HP,Berhenti WA,WhatsApp consent',
      'Ani,0812-3456-7801,Tidak,2026-03-01T10:00:00Z',
      'Budi,0812-3456-7802,Iya,2026-03-01',
      'Carla,0812-3456-7803,Sí,yes',
      'Dedi,0812-3456-7804,,opted out',
    ].join('\n') + '\n');
    const { cleaned, purged } = await clean(file, ['-c', 'ID', '--optin-column', 'WhatsApp consent'], 'Nama');
    expect(Object.keys(cleaned)).toEqual(['Ani']);
    expect(purged['Budi']).toMatchObject({ purge_reason: 'opted_out', purge_detail: 'flagged in column Berhenti WA' });
    expect(purged['Carla']).toMatchObject({ purge_reason: 'opted_out' });
    expect(purged['Dedi']).toMatchObject({ purge_reason: 'no_optin' }); // a withdrawn consent is no consent
  });

  it('reads opt-out headers in Indonesian, Spanish and Portuguese', () => {
    const headers = ['Phone', 'Berhenti WA', 'Jangan Hubungi', 'Dar de baja', 'No contactar', 'Descadastrado', 'Não enviar', 'STOP WhatsApp', 'Kota'];
    expect(chooseColumns(headers, 'x').optOut.map((i) => headers[i])).toEqual(headers.slice(1, -1));
  });
});

describe('the country column (issue 23, item 11)', () => {
  it('is detected as phone columns are, said in the summary and on stderr', async () => {
    const { cleaned, purged, summary, stderr } = await clean(join(FIXTURES, 'crm', 'hubspot.csv'), ['--optin-column', 'WhatsApp opt in'], 'Record ID');
    expect(summary.input).toMatchObject({ country_column: 'Country/Region', country_column_detected: true });
    expect(stderr).toContain('country column: Country/Region (detected; --country-column to name another)');
    expect(cleaned['1003']!.phone_e164).toBe('+5511987654321'); // a national number read in the row's country (Brazil)
    expect(purged['1009']!.purge_detail).toMatch(/column Country\/Region has "Narnia", not a country this tool knows/);
  });

  it('is detected in other CRMs\' exports, and only when its values are countries', async () => {
    const dir = tempDir();
    const file = csvFile([
      'name,phone,Country,Country Code,Negara',
      'Ani,0812-3456-7890,Indonesia,62,Jakarta',
      'Fernanda,(11) 98765-4321,Brazil,55,Sao Paulo',
      'Lim,8123 4567,Singapore,65,',
      'Budi,0813-1122-3344,Singapore,65,', // lives abroad, kept his Indonesian number: read in --country
    ].join('\n') + '\n');
    const result = await runCli(['clean', file, '--country', 'Indonesia', '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.input.country_column).toBe('Country');
    expect(summary.country).toBe('ID');
    expect(readCsv(join(dir, 'out', 'cleaned.csv')).map((r) => r.phone_e164)).toEqual(['+6281234567890', '+5511987654321', '+6581234567', '+6281311223344']);
    // "Country Code" holds calling codes and "Negara" cities: neither is taken.
    expect(chooseColumns(['phone', 'Country Code', 'Negara'], 'x', {}, [['1', '62', 'Jakarta'], ['2', '55', 'Bandung']]).country).toBeUndefined();
  });

  it('--country takes a country\'s name as well as its code, and still refuses what is neither', async () => {
    const dir = tempDir();
    const file = csvFile('name,phone\nAni,0812-3456-7890\n');
    const named = await runCli(['clean', file, '--country', 'Indonesia', '-o', join(dir, 'a'), '--store', join(dir, 'store'), '--json']);
    expect(named.code, named.stderr).toBe(0);
    expect(JSON.parse(named.stdout).country).toBe('ID');
    const bad = await runCli(['clean', file, '--country', 'Atlantis', '-o', join(dir, 'b'), '--store', join(dir, 'store')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--country: "Atlantis" is not a known ISO 3166 country code or country name/);
  });
});

describe('several numbers in one field (issue 23, item 12)', () => {
  it('are tried one by one, as JSON lists are: " ::: ", " / ", ";", line breaks, "or"', async () => {
    const file = csvFile([
      'name,phone',
      'Carla,+55 11 3333-4444 ::: +55 11 98765-4321', // a landline first: the mobile after it wins
      'Fajar,0857-1234-5678 / 0857-9876-5432',
      'Gita,"+62 21 5555 0101; 0811 2233 4455"',
      'Hadi,"0813 9999 0000\n0813 9999 1111"',
      'Indra,021/5550202', // one number written with a slash
      'Lia,0812 3456 7801 atau 0813 1122 3344', // "or" in Indonesian
      'Maya,+55 11 3333-4444 or +55 11 98765-4322',
      'Joko,0812 or 0813', // not a list: too short
    ].join('\n') + '\n');
    const { cleaned, purged } = await clean(file, ['-c', 'ID'], 'name');
    expect(Object.fromEntries(Object.entries(cleaned).map(([name, r]) => [name, r.phone_e164]))).toEqual({
      Carla: '+5511987654321', Fajar: '+6285712345678', Gita: '+6281122334455', Hadi: '+6281399990000', Indra: '+62215550202',
      Lia: '+6281234567801', Maya: '+5511987654322',
    });
    expect(Object.keys(purged)).toEqual(['Joko']);
  });

  it('a list with no valid number is purged for the first number\'s problem', async () => {
    const { purged } = await clean(csvFile('name,phone\nEko,021 555 ::: 021 556 777\n'), ['-c', 'ID'], 'name');
    expect(purged.Eko).toMatchObject({ purge_reason: 'invalid_number', purge_detail: 'too short for ID: 021 555' });
  });
});

describe('line types (issue 23, item 13)', () => {
  const rows = ['name,phone', 'Ani,+62 812-3456-7890', 'Toko,+62 22 4201234', 'Sam,+1 415 555 2671', 'Help,+1 800 555 0199'].join('\n') + '\n';

  it('a line_type column, and the count of each type in the summary', async () => {
    const { cleaned, summary, stderr } = await clean(csvFile(rows), [], 'name');
    expect(Object.fromEntries(Object.entries(cleaned).map(([name, r]) => [name, r.line_type]))).toEqual({
      Ani: 'mobile', Toko: 'fixed_line', Sam: 'fixed_line_or_mobile', Help: 'toll_free',
    });
    expect(summary.line_types).toEqual({ mobile: 1, fixed_line: 1, fixed_line_or_mobile: 1, toll_free: 1 });
    expect(stderr).toMatch(/line types: mobile 1, fixed_line 1, fixed_line_or_mobile 1, toll_free 1/);
  });

  it('--mobile-only purges what is not a mobile as not_mobile, and keeps fixed_line_or_mobile', async () => {
    const { cleaned, purged, summary } = await clean(csvFile(rows), ['--mobile-only'], 'name');
    expect(Object.keys(cleaned)).toEqual(['Ani', 'Sam']);
    expect(purged.Toko).toMatchObject({ purge_reason: 'not_mobile', purge_detail: '+62224201234 is a fixed_line number, not a mobile (--mobile-only)' });
    expect(purged.Help).toMatchObject({ purge_reason: 'not_mobile' });
    expect(summary.purged_by_reason.not_mobile).toBe(2);
  });

  it('prefers a mobile in a later column to a toll-free number or a landline, and says so in JSON output', async () => {
    const dir = tempDir();
    const file = join(dir, 'in.jsonl');
    writeFileSync(file, '{"name":"Ani","phone":"+1 800 555 0199","mobile":"+62 812-3456-7890"}\n{"name":"Toko","phone":["+62 22 4201234"]}\n');
    const result = await runCli(['clean', file, '-o', join(dir, 'out'), '--store', join(dir, 'store'), '-q']);
    expect(result.code, result.stderr).toBe(0);
    expect(readJsonl(join(dir, 'out', 'cleaned.jsonl')).map((r) => [r.name, r.phone_e164, r.line_type])).toEqual([
      ['Ani', '+6281234567890', 'mobile'], ['Toko', '+62224201234', 'fixed_line'],
    ]);
  });
});

describe('encodings of the outputs (issue 23, item 14)', () => {
  it('a windows-1252 input gives CSV outputs with a UTF-8 BOM, so Excel shows "naïve" again', async () => {
    const dir = tempDir();
    const file = csvFile(Buffer.from('name,phone\nna\xefve caf\xe9,0812-3456-7890\nJos\xe9,\n', 'latin1'));
    const result = await runCli(['clean', file, '-c', 'ID', '--encoding', 'windows-1252', '-o', join(dir, 'out'), '--store', join(dir, 'store'), '-q']);
    expect(result.code, result.stderr).toBe(0);
    const cleaned = readFileSync(join(dir, 'out', 'cleaned.csv'));
    expect([...cleaned.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(cleaned.toString('utf8')).toContain('naïve café,0812-3456-7890,+6281234567890');
    expect(readFileSync(join(dir, 'out', 'purged.csv'), 'utf8')).toMatch(/^\ufeffname,phone,purge_reason,purge_detail\nJosé,/);
  });

  it('a UTF-8 input keeps what it had: a BOM, or none; JSON with a BOM gives CSV with one', async () => {
    const dir = tempDir();
    const run = async (name: string, text: string, extra: string[] = []) => {
      const out = join(dir, name + '-out');
      expect((await runCli(['clean', csvFile(text, name), '-c', 'ID', '-o', out, '--store', join(dir, 'store'), '-q', ...extra])).code).toBe(0);
      return readFileSync(join(out, 'cleaned.csv'), 'utf8').startsWith('\ufeff');
    };
    expect(await run('plain.csv', 'name,phone\nAni,0812-3456-7890\n')).toBe(false);
    expect(await run('bom.csv', '\ufeffname,phone\nAni,0812-3456-7890\n')).toBe(true);
    expect(await run('bom.json', '\ufeff[{"name":"Ani","phone":"0812-3456-7890"}]', ['--output-format', 'csv'])).toBe(true);
  });
});
