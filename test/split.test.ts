import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { RecordSplitter, type Chunk } from '../src/input/split.js';

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** Feeds `input` to a splitter in pieces of random size, as a stream would. */
function split(format: 'csv' | 'json' | 'jsonl', input: Buffer, chunkBytes: number, seed: number): Chunk[] {
  const next = random(seed);
  const splitter = new RecordSplitter(format, 'test', 1, chunkBytes);
  const chunks: Chunk[] = [];
  for (let at = 0; at < input.length;) {
    const size = 1 + Math.floor(next() * 40);
    chunks.push(...splitter.push(input.subarray(at, at + size)));
    at += size;
  }
  const last = splitter.end();
  if (last) chunks.push(last);
  return chunks;
}

function randomCsv(rows: number, seed: number): string {
  const next = random(seed);
  const pieces = ['a', 'b c', 'x,y', 'say "hi"', 'line\nbreak', 'crlf\r\ninside', '', '0812-3456-7890', 'ü'];
  const field = (): string => {
    const value = pieces[Math.floor(next() * pieces.length)]!;
    return /[",\r\n]/.test(value) || next() < 0.2 ? `"${value.replace(/"/g, '""')}"` : value;
  };
  return Array.from({ length: rows }, () => [field(), field(), field()].join(',')).join(next() < 0.5 ? '\n' : '\r\n') + '\n';
}

describe('RecordSplitter', () => {
  it.each([1, 2, 3, 4, 5])('cuts CSV only between records (seed %i)', (seed) => {
    const csv = randomCsv(200, seed);
    const chunks = split('csv', Buffer.from(csv), 1 + seed * 13, seed);
    expect(chunks.length).toBeGreaterThan(5);
    expect(Buffer.concat(chunks.map((c) => c.bytes)).toString()).toBe(csv);
    const options = { record_delimiter: ['\r\n', '\n'] };
    const records = chunks.flatMap((c) => parse(c.bytes, options));
    expect(records).toEqual(parse(csv, options));
    // Each chunk knows the line it starts on.
    let line = 1;
    for (const chunk of chunks) {
      expect(chunk.startLine).toBe(line);
      line += chunk.bytes.toString().split('\n').length - 1;
    }
  });

  it('cuts a JSON array between elements, whatever the strings hold', () => {
    const values = Array.from({ length: 300 }, (_, i) => ({
      i, text: i % 3 ? `a, "quoted" } ] [ { \\ ${i}` : 'plain', nested: { list: [i, { deep: ',' }] },
    }));
    const json = JSON.stringify(values, null, 2);
    const chunks = split('json', Buffer.from(json), 50, 7);
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.flatMap((c) => JSON.parse(`[${c.bytes}]`))).toEqual(values);
  });

  it.each([1, 2, 3])('with chunkBytes 0, gives each element of a JSON array alone, with its line (seed %i)', (seed) => {
    const values = Array.from({ length: 200 }, (_, i) => (i % 4 ? { i, text: `a, "b" ] } ${'\\'.repeat(i % 3)}`, list: [i, [',']] } : i));
    const json = JSON.stringify(values, null, seed);
    const chunks = split('json', Buffer.from(json), 0, seed);
    expect(chunks.map((c) => JSON.parse(c.bytes.toString()))).toEqual(values);
    // Each chunk knows the line its first byte is on.
    let at = 0;
    for (const chunk of chunks) {
      at = json.indexOf(chunk.bytes.toString(), at);
      expect(chunk.startLine).toBe(1 + json.slice(0, at).split('\n').length - 1);
    }
  });

  it('cuts JSONL at line ends', () => {
    const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ i, phone: `+62 812 ${i}` }));
    const chunks = split('jsonl', Buffer.from(lines.join('\n')), 64, 3);
    expect(chunks.map((c) => c.bytes.toString()).join('').split('\n')).toEqual(lines);
  });

  it.each([1, 4, 1000])('names the line of an unclosed quote whatever the chunk size (%i)', (chunkBytes) => {
    const csv = Buffer.from('a,b\n1,2\n3,"4\n5,6\n7,8\n');
    expect(() => split('csv', csv, chunkBytes, 1)).toThrow(/line 3: a quoted field is not closed/);
  });

  it('handles an empty JSON array', () => {
    expect(split('json', Buffer.from(' [ ] \n'), 10, 1).flatMap((c) => JSON.parse(`[${c.bytes}]`))).toEqual([]);
  });
});
