import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, files, readCsv, readJsonl, runCli, spawnCli, tempDir } from './helpers.js';

const fixture = (name: string): string => join(FIXTURES, name);

describe('clean on the CRM fixture', () => {
  it('keeps, purges and explains every row', async () => {
    const out = tempDir();
    const result = await runCli([
      'clean', fixture('contacts.csv'), '--country', 'ID', '--blacklist', fixture('blacklist.csv'),
      '--out-dir', out, '--store', join(out, 'store'),
    ]);
    expect(result.code).toBe(0);

    const cleaned = readCsv(join(out, 'cleaned.csv'));
    expect(cleaned.map((r) => [r.id, r.phone_e164, r.wa_id, r.wa_status])).toEqual([
      ['1', '+6281234567890', '6281234567890', 'unverified'],
      ['2', '+6281311223344', '6281311223344', 'unverified'],
      ['3', '+6285712345678', '6285712345678', 'unverified'],
      ['6', '+5511987654321', '5511987654321', 'unverified'],
      ['7', '+5521998765432', '5521998765432', 'unverified'],
      ['8', '+525512345678', '525512345678', 'unverified'],
      ['9', '+523312345678', '523312345678', 'unverified'],
      ['10', '+919876543210', '919876543210', 'unverified'],
      ['12', '+14155552671', '14155552671', 'unverified'],
      ['13', '+12125550198', '12125550198', 'unverified'],
      ['14', '+4915123456789', '4915123456789', 'unverified'],
      ['15', '+447400123456', '447400123456', 'unverified'],
      ['17', '+2348031234567', '2348031234567', 'unverified'],
      ['24', '+6281377776666', '6281377776666', 'unverified'],
    ]);
    // Input columns are carried unchanged and in order, before the added ones.
    expect(Object.keys(cleaned[0]!)).toEqual([
      'id', 'first_name', 'last_name', 'company', 'Phone', 'Mobile', 'email', 'opt_out', 'notes',
      'phone_e164', 'wa_id', 'wa_status', 'line_type',
    ]);
    expect(cleaned[0]).toMatchObject({ first_name: 'Ani', Phone: '0812-3456-7890', notes: 'national Indonesian mobile' });

    const purged = readCsv(join(out, 'purged.csv'));
    expect(purged.map((r) => [r.id, r.purge_reason])).toEqual([
      ['4', 'duplicate'],
      ['5', 'invalid_number'],
      ['11', 'invalid_number'],
      ['16', 'duplicate'],
      ['18', 'invalid_number'],
      ['19', 'invalid_number'],
      ['20', 'missing_number'],
      ['21', 'invalid_number'],
      ['22', 'invalid_number'],
      ['23', 'opted_out'],
      ['25', 'duplicate'], // the Mobile column is preferred over Phone, and row 24 has that mobile
      ['26', 'blacklisted'],
    ]);
    const detail = Object.fromEntries(purged.map((r) => [r.id, r.purge_detail]));
    expect(detail['4']).toBe('+6281234567890 already on line 2');
    expect(detail['19']).toMatch(/contains letters/);
    expect(detail['21']).toMatch(/contains letters/);
    expect(detail['22']).toMatch(/scientific notation/);
    expect(detail['23']).toMatch(/opt_out/);
    expect(detail['26']).toMatch(/blacklist\.csv/);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.rows).toEqual({ input: 26, cleaned: 14, purged: 12 });
    expect(summary.purged_by_reason).toEqual({
      missing_number: 1, invalid_number: 6, no_country_code: 0, malformed_row: 0, no_optin: 0, not_mobile: 0, duplicate: 3, blacklisted: 1, opted_out: 1,
      not_on_whatsapp: 0,
    });
    expect(summary.phone_column_used).toEqual({ Mobile: 2, Phone: 12 });
    expect(summary.wa_status).toEqual({ valid: 0, cached: 0, unverified: 14 });
    expect(summary.versions.libphonenumber_js).toMatch(/^\d+\.\d+\.\d+$/);
    expect(summary.warnings.join()).toMatch(/ignored 1 entry/);
    expect(readFileSync(join(out, 'blacklist.csv'), 'utf8')).toBe('wa_id,reason,source,first_seen,last_seen,strikes,expires\n');
    expect(result.stderr).toMatch(/cleaned\s+14/);
    expect(files(out)).toEqual(['blacklist.csv', 'cleaned.csv', 'purged.csv', 'store', 'summary.json']);
  });

  it('without a default country, purges national numbers as no_country_code instead of guessing', async () => {
    const out = tempDir();
    const result = await runCli(['clean', fixture('contacts.csv'), '--out-dir', out, '--store', join(out, 'store'), '--json']);
    expect(result.code).toBe(0);
    const purged = readCsv(join(out, 'purged.csv'));
    const reasons = Object.fromEntries(purged.map((r) => [r.id, r.purge_reason]));
    expect(reasons['1']).toBe('no_country_code');
    expect(reasons['3']).toBe('no_country_code'); // digits without + are not read as international
    expect(readCsv(join(out, 'cleaned.csv')).find((r) => r.id === '7')?.wa_id).toBe('5521998765432'); // 00 needs no country
    const summary = JSON.parse(result.stdout);
    expect(summary.purged_by_reason.no_country_code).toBeGreaterThan(0);
    expect(summary.rows.cleaned + summary.rows.purged).toBe(26);
  });

  it('reads the country from WA_GUARD_COUNTRY', async () => {
    const out = tempDir();
    const result = await runCli(['clean', fixture('contacts.csv'), '--out-dir', out, '--store', join(out, 'store'), '--quiet'], {
      env: { WA_GUARD_COUNTRY: 'id' },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(readCsv(join(out, 'cleaned.csv'))).toHaveLength(15); // 14 + the number only the --blacklist file lists
  });
});

describe('clean on other export shapes', () => {
  it('keeps the dialect of a semicolon Excel CSV with BOM, CRLF and quoted newlines', async () => {
    const out = tempDir();
    const result = await runCli(['clean', fixture('excel-semicolon.csv'), '-c', 'ID', '-o', out, '--store', join(out, 'store'), '--json']);
    expect(result.code).toBe(0);
    const text = readFileSync(join(out, 'cleaned.csv'), 'utf8');
    expect(text.startsWith('\ufeffName;Phone 1 - Value;Mobile Phone;City;Notes;phone_e164;wa_id;wa_status;line_type\r\n')).toBe(true);
    // Records are copied byte for byte, quotes and embedded line break included.
    expect(text).toContain('"Budi ""BS"" Santoso";;+62 813 1122 3344;Bandung;;+6281311223344;6281311223344;unverified;mobile\r\n');
    expect(text).toContain('"first line\r\nsecond line";+6285712345678;');
    const cleaned = readCsv(join(out, 'cleaned.csv'), ';');
    expect(cleaned.map((r) => r.wa_id)).toEqual(['6281234567890', '6281311223344', '6285712345678', '4915123456789']);
    expect(cleaned[3]!.Notes).toBe('Köln; Düsseldorf');
    const purged = readCsv(join(out, 'purged.csv'), ';');
    expect(purged.map((r) => [r.Name, r.purge_reason, r.purge_detail])).toEqual([
      ['Dewi Putri', 'duplicate', '+6281234567890 already on line 2'],
      ['Eko Prasetyo', 'invalid_number', 'too short for ID: 021 555'],
    ]);
    const summary = JSON.parse(result.stdout);
    expect(summary.input).toMatchObject({ format: 'csv', delimiter: ';', phone_columns: ['Mobile Phone', 'Phone 1 - Value'] });
    expect(summary.phone_column_used).toEqual({ 'Phone 1 - Value': 3, 'Mobile Phone': 1 });
  });

  it('streams a JSON array and writes JSON', async () => {
    const out = tempDir();
    const result = await runCli(['clean', fixture('contacts.json'), '-c', 'ID', '-o', out, '--store', join(out, 'store'), '-q']);
    expect(result.code).toBe(0);
    const cleaned = JSON.parse(readFileSync(join(out, 'cleaned.json'), 'utf8'));
    expect(cleaned).toEqual([
      { name: 'Ani Wijaya', whatsapp: '+62 812-3456-7890', tags: ['vip', 'jakarta'], orders: 12, phone_e164: '+6281234567890', wa_id: '6281234567890', wa_status: 'unverified', line_type: 'mobile' },
      { name: 'Fernanda Souza', whatsapp: '+55 11 98765-4321', tags: [], orders: 3, phone_e164: '+5511987654321', wa_id: '5511987654321', wa_status: 'unverified', line_type: 'mobile' },
    ]);
    const purged = JSON.parse(readFileSync(join(out, 'purged.json'), 'utf8'));
    expect(purged.map((r: Record<string, unknown>) => [r.name, r.purge_reason])).toEqual([
      ['Jaya Sharma', 'invalid_number'], // a bare number under --country ID is read as Indonesian
      ['Ani again', 'duplicate'],
      ['No number', 'missing_number'],
    ]);
    expect(purged[1].purge_detail).toBe('+6281234567890 already on record 1');
  });

  it('reads JSONL, reports a broken line as a malformed row and carries on', async () => {
    const out = tempDir();
    const result = await runCli(['clean', fixture('contacts.jsonl'), '-c', 'ID', '-o', out, '--store', join(out, 'store'), '-q']);
    expect(result.code).toBe(0);
    expect(readJsonl(join(out, 'cleaned.jsonl')).map((r) => r.wa_id)).toEqual(['6281234567890', '525512345678', '14155552671', '4915123456789']);
    const purged = readJsonl(join(out, 'purged.jsonl'));
    expect(purged.map((r) => r.purge_reason)).toEqual(['invalid_number', 'malformed_row']);
    expect(purged[1]!.purge_detail).toMatch(/^line 5: broken JSON .*Queen Okafor/);
  });

  it('converts between formats with --output-format', async () => {
    const out = tempDir();
    const result = await runCli(['clean', fixture('contacts.json'), '-c', 'ID', '-o', out, '--store', join(out, 'store'), '-q', '--output-format', 'csv']);
    expect(result.code).toBe(0);
    const cleaned = readCsv(join(out, 'cleaned.csv'));
    expect(cleaned[0]).toEqual({ name: 'Ani Wijaya', whatsapp: '+62 812-3456-7890', tags: '["vip","jakarta"]', orders: '12', phone_e164: '+6281234567890', wa_id: '6281234567890', wa_status: 'unverified', line_type: 'mobile' });

    const out2 = tempDir();
    expect((await runCli(['clean', fixture('excel-semicolon.csv'), '-c', 'ID', '-o', out2, '--store', join(out2, 'store'), '-q', '--output-format', 'jsonl'])).code).toBe(0);
    expect(readJsonl(join(out2, 'cleaned.jsonl'))[2]).toEqual({
      Name: 'Citra Lestari', 'Phone 1 - Value': '+62 857 1234 5678', 'Mobile Phone': '', City: 'Surabaya', Notes: 'first line\r\nsecond line',
      phone_e164: '+6285712345678', wa_id: '6285712345678', wa_status: 'unverified', line_type: 'mobile',
    });
  });

  it('reads stdin with "-" and sniffs the format from the content', async () => {
    const out = tempDir();
    const jsonl = readFileSync(fixture('contacts.jsonl'));
    const result = await runCli(['clean', '-', '-c', 'ID', '-o', out, '--store', join(out, 'store'), '--json'], { stdin: jsonl });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).input).toMatchObject({ path: '-', format: 'jsonl' });
    expect(files(out)).toContain('cleaned.jsonl');
  });

  it('runs the same as a child process, as users run it', async () => {
    const out = tempDir();
    const result = await spawnCli(['clean', 'fixtures/contacts.csv', '--country', 'ID', '--out-dir', out, '--store', join(out, 'store')]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/26 rows from fixtures\/contacts.csv/);
    expect(readCsv(join(out, 'cleaned.csv'))).toHaveLength(15);
  });
});
