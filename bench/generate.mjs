// Writes a synthetic CRM export: 6 columns, numbers from eight countries in
// national and international formats, about 5% junk and 5% duplicates, and
// some quoted names with commas. Deterministic for a given row count.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { seededRandom as rng } from '../dist/simulator/world.js';

const digits = (r, n) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
const FORMATS = [
  (r) => `0812-${digits(r, 4)}-${digits(r, 4)}`,
  (r) => `+62 813 ${digits(r, 4)} ${digits(r, 4)}`,
  (r) => `62857${digits(r, 8)}`,
  (r) => `+55 11 9${digits(r, 4)}-${digits(r, 4)}`,
  (r) => `0055 21 9${digits(r, 4)} ${digits(r, 4)}`,
  (r) => `+52 55 ${digits(r, 4)} ${digits(r, 4)}`,
  (r) => `+91 9${digits(r, 4)} ${digits(r, 5)}`,
  (r) => `+1 (212) ${2 + Math.floor(r() * 8)}${digits(r, 2)}-${digits(r, 4)}`,
  (r) => `0049 151 ${digits(r, 8)}`,
  (r) => `+44 7911 ${digits(r, 6)}`,
  (r) => `+234 803 ${digits(r, 3)} ${digits(r, 4)}`,
];
const JUNK = ['', 'n/a', '12345', 'call me', '6.28123E+12', '+62 812', '000'];
const CITIES = ['Jakarta', 'Sao Paulo', 'Mexico City', 'Mumbai', 'New York', 'Berlin', 'London', 'Lagos'];

export async function generate(path, rows, seed = 42) {
  const r = rng(seed);
  const out = createWriteStream(path);
  out.write('id,name,phone,email,city,created_at\n');
  const recent = [];
  let batch = '';
  for (let i = 1; i <= rows; i++) {
    const pick = r();
    let phone;
    if (pick < 0.05) phone = JUNK[Math.floor(r() * JUNK.length)];
    else if (pick < 0.10 && recent.length) phone = recent[Math.floor(r() * recent.length)];
    else {
      phone = FORMATS[Math.floor(r() * FORMATS.length)](r);
      if (recent.length < 1000) recent.push(phone);
      else recent[Math.floor(r() * 1000)] = phone;
    }
    const name = r() < 0.1 ? `"Doe, Jane ${i}"` : `Jane Doe ${i}`;
    batch += `${i},${name},${phone},jane${i}@example.com,${CITIES[i % CITIES.length]},2026-0${1 + (i % 9)}-1${i % 10}\n`;
    if (batch.length > 1 << 16) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch);
  await once(out, 'finish');
}
