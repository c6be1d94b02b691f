import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** The old single-process format, imported once on first open and kept as a backup. */
export const LEGACY_LOG = 'store.jsonl';

/**
 * Reads the old store.jsonl (one JSON array a line: [ns, key, value, expiresAt]
 * to set, [ns, key] to delete). A torn last line and damaged lines are skipped.
 */
export function readLegacyLog(path: string, apply: (ns: string, key: string, value: string | undefined, expires: number) => void): void {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.allocUnsafe(1 << 20);
    const decoder = new StringDecoder('utf8');
    let position = 0;
    let carry = '';
    while (position < size) {
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read === 0) break;
      position += read;
      const lines = (carry + decoder.write(buffer.subarray(0, read))).split('\n');
      carry = lines.pop()!;
      for (const line of lines) {
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          continue;
        }
        if (!Array.isArray(record) || typeof record[0] !== 'string' || typeof record[1] !== 'string') continue;
        if (record.length === 4 && typeof record[2] === 'string' && typeof record[3] === 'number') apply(record[0], record[1], record[2], record[3]);
        else if (record.length === 2) apply(record[0], record[1], undefined, 0);
      }
    }
  } finally {
    closeSync(fd);
  }
}
