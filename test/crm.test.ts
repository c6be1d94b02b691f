import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { chooseColumns, phoneRank } from '../src/input/columns.js';
import { countryFromText, normalizePhone } from '../src/phone.js';
import { FIXTURES, readCsv, runCli, tempDir } from './helpers.js';

const crm = (name: string): string => join(FIXTURES, 'crm', name);

/** Each CRM-shaped export, the flags a user would give, and every row's expected outcome: an E.164 number kept, or a purge reason. */
const EXPORTS: { file: string; args: string[]; id: string; rows: Record<string, string> }[] = [
  {
    file: 'hubspot.csv', args: ['--country-column', 'Country/Region', '--optin-column', 'WhatsApp opt in'], id: 'Record ID',
    rows: {
      1001: '+6281234567890', // the mobile column over a Jakarta landline
      1002: '+6285712345678', // the WhatsApp column first; "Unsubscribed from all email" is not a WhatsApp opt-out
      1003: '+5511987654321', // a national number read in the row's country (Brazil)
      1004: 'no_optin', 1005: 'duplicate', 1006: 'missing_number', 1007: 'invalid_number', 1008: 'no_optin',
      1009: 'no_country_code', // "Narnia" is not a country; a national number cannot be read
      1010: 'no_country_code', // no country in the row and no --country
    },
  },
  {
    file: 'google-contacts.csv', args: ['-c', 'ID'], id: 'Name',
    rows: {
      'Ani Wijaya': '+6281234567890',
      'Budi Santoso': '+6281311223344', // Phone 1 is a landline, Phone 2 a mobile: the mobile wins
      'Carla Souza': '+5511987654321', // two numbers joined with " ::: ": the first, a mobile
      'Dewi Lestari': '+6285712345678', // full-width digits
      'Eko Prasetyo': 'invalid_number',
      'Farid Hassan': '+971501234567',
      'Gita Sari': '+6281122334455', // wrapped in LRM/RLM marks
    },
  },
  {
    file: 'outlook.csv', args: ['-c', 'GB'], id: 'First Name',
    rows: {
      Anna: '+4915123456789', // Mobile Phone over Business Phone; Business Fax never read
      Ben: '+442079460958', // "+44 (0)20 …"
      Chloe: '+33612342437', // "(+33) 6 …"
      David: 'missing_number', // only a fax number
      Emma: '+447400123456', // two mobiles: Home Phone comes before Primary Phone in the header
    },
  },
  {
    file: 'shopify.csv', args: ['--country-column', 'Default Address Country Code'], id: 'Customer ID',
    rows: {
      7001: '+6281234567890', // Shopify's leading apostrophe
      7002: '+6281311223344', 7003: '+5511987654321', 7004: '+14155552672', 7005: 'missing_number',
      7006: 'invalid_number', // 6.01234E+10: a spreadsheet's damage
    },
  },
  {
    file: 'pipedrive.csv', args: ['-c', 'ID'], id: 'Person - Name',
    rows: {
      'Ani Wijaya': '+6281234567890', 'Budi Santoso': '+622155550202',
      'Carla Souza': '+5511987654321', // two numbers joined with ", ": tried in turn
      'Dewi Lestari': '+6285712345678', // tel: URI
      'Eko Prasetyo': '+628120000999',
    },
  },
  {
    file: 'salesforce.csv', args: ['--country-column', 'MailingCountry'], id: 'Id',
    rows: {
      '0035g00000A1': '+6281234567890', '0035g00000A2': 'opted_out', '0035g00000A3': 'opted_out',
      '0035g00000A4': '+14155552671', '0035g00000A5': '+447400123456', '0035g00000A6': '+2348031234567',
      '0035g00000A7': '+525512345678', // Mexico's retired mobile 1, read as today's number
    },
  },
  {
    file: 'woocommerce.csv', args: ['--country-column', 'billing_country'], id: 'customer_id',
    rows: {
      501: '+6281234567890', 502: 'opted_out', 503: '+5511987654321', 504: '+6285712345678', 505: 'invalid_number',
      506: '+971501234567', // Arabic-Indic digits
    },
  },
];

describe('clean on exports shaped like real CRMs', () => {
  it.each(EXPORTS)('$file: every row kept or purged as expected', async ({ file, args, id, rows }) => {
    const dir = tempDir();
    const result = await runCli(['clean', crm(file), ...args, '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const got: Record<string, string> = {};
    for (const r of readCsv(join(dir, 'out', 'cleaned.csv'))) got[r[id]!] = r.phone_e164!;
    for (const r of readCsv(join(dir, 'out', 'purged.csv'))) got[r[id]!] = r.purge_reason!;
    expect(got).toEqual(Object.fromEntries(Object.entries(rows).map(([k, v]) => [String(k), v])));
  });

  it('names the column that flagged an opt-out, and counts which phone column each number came from', async () => {
    const dir = tempDir();
    const result = await runCli(['clean', crm('salesforce.csv'), '--country-column', 'MailingCountry', '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--json']);
    const summary = JSON.parse(result.stdout);
    expect(summary.input).toMatchObject({ phone_columns: ['MobilePhone', 'Phone', 'HomePhone', 'OtherPhone'], optout_columns: ['DoNotCall', 'WhatsApp_Opt_Out__c'], country_column: 'MailingCountry' });
    expect(summary.phone_column_used).toEqual({ MobilePhone: 4, Phone: 1, HomePhone: 0, OtherPhone: 0 });
    const purged = Object.fromEntries(readCsv(join(dir, 'out', 'purged.csv')).map((r) => [r.Id, r.purge_detail]));
    expect(purged).toEqual({ '0035g00000A2': 'flagged in column DoNotCall', '0035g00000A3': 'flagged in column WhatsApp_Opt_Out__c' });
  });

  it('--column takes several names, repeated or as a comma list, in order of preference', async () => {
    const dir = tempDir();
    const run = (extra: string[]) => runCli(['clean', crm('outlook.csv'), '-c', 'GB', ...extra, '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--json']);
    const repeated = JSON.parse((await run(['--column', 'Business Phone', '--column', 'Mobile Phone'])).stdout);
    const listed = JSON.parse((await run(['--column', 'Business Phone,Mobile Phone'])).stdout);
    expect(repeated.input.phone_columns).toEqual(['Business Phone', 'Mobile Phone']);
    expect(listed.input.phone_columns).toEqual(['Business Phone', 'Mobile Phone']);
    // Anna's Business Phone is a landline and her Mobile Phone a mobile: the mobile still wins within the named columns.
    expect(repeated.phone_column_used).toEqual({ 'Business Phone': 1, 'Mobile Phone': 2 });
    const missing = await run(['--column', 'Business Phone,Pager']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no column named "Pager" \(--column\)/);
  });

  it('send --dry-run honours the same opt-out and opt-in columns in a campaign file', async () => {
    const dir = tempDir();
    const input = join(dir, 'campaign.csv');
    writeFileSync(input, [
      'id,WhatsApp Number,template,language,param_1,param_2,DoNotCall,Accepts WhatsApp',
      '1,0812-3456-7890,order_update,en_US,A-1,today,false,yes',
      '2,0813-1122-3344,order_update,en_US,A-2,today,true,yes',
      '3,0857-1234-5678,order_update,en_US,A-3,today,false,no',
    ].join('\n') + '\n');
    const result = await runCli(['send', input, '--dry-run', '-c', 'ID', '--optin-column', 'Accepts WhatsApp', '--templates', join(FIXTURES, 'templates.json'), '-o', join(dir, 'out'), '--store', join(dir, 'store'), '-q']);
    expect(result.code, result.stderr).toBe(0);
    expect(readCsv(join(dir, 'out', 'gate.csv')).map((r) => [r.id, r.decision, r.reason])).toEqual([
      ['1', 'send', 'ok'], ['2', 'block', 'opted_out'], ['3', 'block', 'no_optin'],
    ]);
  });
});

describe('phone columns the way CRMs name them', () => {
  it.each([
    ['WhatsApp Phone Number', 0], ['whatsapp_number', 0], ['WA Number', 0], ['wa_id', 0],
    ['Mobile Phone Number', 1], ['MobilePhone', 1], ['Person - Phone - Mobile', 1], ['Cell', 1], ['cellphone', 1], ['No. HP', 1], ['Celular', 1], ['Handphone', 1],
    ['Phone', 2], ['Phone 2 - Value', 2], ['Business Phone', 2], ['Default Address Phone', 2], ['billing_phone', 2], ['Telephone', 2], ['Teléfono', 2], ['Telefone', 2], ['tel', 2], ['Primary Phone', 2], ['Contact Number', 2],
    ['Fax', undefined], ['Business Fax', undefined], ['Phone 1 - Type', undefined], ['Phone 1 - Label', undefined], ['phone_country_code', undefined],
    ['whatsapp_opt_out', undefined], ['Phone Opt In', undefined], ['Email', undefined], ['Telegram', undefined], ['Order Number', undefined], ['Total Spent', undefined],
  ])('%j -> rank %s', (header, rank) => {
    expect(phoneRank(header)).toBe(rank);
  });

  it('detects opt-out columns but not email unsubscribes', () => {
    const headers = ['Phone', 'DoNotCall', 'sms_opt_out', 'whatsapp_opt_out', 'Unsubscribed from all email', 'HasOptedOutOfEmail', 'Opted Out'];
    expect(chooseColumns(headers, 'x').optOut.map((i: number) => headers[i])).toEqual(['DoNotCall', 'sms_opt_out', 'whatsapp_opt_out', 'Opted Out']);
  });

  it.each([['ID', 'ID'], ['id', 'ID'], ['Indonesia', 'ID'], ['United Kingdom', 'GB'], ['UK', 'GB'], ['USA', 'US'], ['United States', 'US'], ['Brasil', 'BR'], ['  brazil ', 'BR'], ['Côte d’Ivoire', 'CI'], ['Narnia', undefined], ['XX', undefined]])('country %j -> %s', (text, code) => {
    expect(countryFromText(text)).toBe(code);
  });
});

/**
 * The libphonenumber comparison: every phone cell of every fixture, read in
 * the country its file is cleaned with. Whatever libphonenumber-js validates,
 * wa-guard accepts as the same number, except what wa-guard refuses on
 * purpose (README): extra words, two numbers in one field, a "+" in the middle.
 */
describe('wa-guard accepts at least what libphonenumber validates', () => {
  const ON_PURPOSE = /contains letters|two numbers in one field|not at the start|not part of a number/;
  const cells: { raw: string; country: CountryCode | undefined; where: string }[] = [];
  const files: [string, CountryCode | undefined, string | undefined][] = [
    ['contacts.csv', 'ID', undefined], ['excel-semicolon.csv', 'ID', undefined], ['campaign.csv', 'ID', undefined],
    ['crm/hubspot.csv', undefined, 'Country/Region'], ['crm/google-contacts.csv', 'ID', undefined], ['crm/outlook.csv', 'GB', undefined],
    ['crm/shopify.csv', undefined, 'Default Address Country Code'], ['crm/pipedrive.csv', 'ID', undefined],
    ['crm/salesforce.csv', undefined, 'MailingCountry'], ['crm/woocommerce.csv', undefined, 'billing_country'],
  ];
  for (const [file, fallback, countryColumn] of files) {
    const text = readFileSync(join(FIXTURES, file), 'utf8').replace(/^\ufeff/, '');
    const delimiter = file.includes('semicolon') ? ';' : ',';
    const records = parse(text, { columns: true, delimiter, relax_column_count: true }) as Record<string, string>[];
    const headers = Object.keys(records[0]!);
    const phone = chooseColumns(headers, file, file === 'campaign.csv' ? { phone: ['to'] } : {}).phone.map((i: number) => headers[i]!);
    records.forEach((r, n) => {
      const country = (countryColumn && r[countryColumn] ? countryFromText(r[countryColumn]!) : undefined) ?? fallback;
      for (const column of phone) if (r[column]) cells.push({ raw: r[column]!, country, where: `${file} row ${n + 1} ${column}` });
    });
  }

  it(`holds for all ${cells.length} phone cells of the fixtures`, () => {
    expect(cells.length).toBeGreaterThan(80);
    const disagreements: string[] = [];
    for (const { raw, country, where } of cells) {
      const theirs = parsePhoneNumberFromString(raw, country);
      if (!theirs?.isValid()) continue;
      const ours = normalizePhone(raw, country);
      if (ours.ok && ours.e164 === theirs.number) continue;
      if (!ours.ok && ON_PURPOSE.test(ours.detail)) continue;
      disagreements.push(`${where}: ${JSON.stringify(raw)} libphonenumber ${theirs.number}, wa-guard ${ours.ok ? ours.e164 : ours.detail}`);
    }
    expect(disagreements).toEqual([]);
  });
});
