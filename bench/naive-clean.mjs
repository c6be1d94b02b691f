// The naive single-threaded Node baseline for bench/compare.mjs: what a user
// would write in an afternoon. csv-parse -> libphonenumber-js -> csv-stringify,
// de-duplicated by E.164, kept and purged rows in two files.
// usage: node bench/naive-clean.mjs INPUT OUT_DIR COUNTRY
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

const [input, outDir, country] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
const cleaned = stringify({ header: true, columns: ['id', 'name', 'phone', 'email', 'city', 'created_at', 'phone_e164'] });
const purged = stringify({ header: true, columns: ['id', 'name', 'phone', 'email', 'city', 'created_at', 'purge_reason'] });
cleaned.pipe(createWriteStream(join(outDir, 'cleaned.csv')));
purged.pipe(createWriteStream(join(outDir, 'purged.csv')));
const seen = new Set();
for await (const row of createReadStream(input).pipe(parse({ columns: true }))) {
  const number = parsePhoneNumberFromString(row.phone ?? '', country);
  if (!number?.isValid()) purged.write({ ...row, purge_reason: 'invalid_number' });
  else if (seen.has(number.number)) purged.write({ ...row, purge_reason: 'duplicate' });
  else {
    seen.add(number.number);
    cleaned.write({ ...row, phone_e164: number.number });
  }
}
cleaned.end();
purged.end();
