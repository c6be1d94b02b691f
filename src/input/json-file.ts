import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError, describeFsError } from '../errors.js';

/** A whole JSON file a flag names (--templates, --scenario): one line naming the flag and the file when it cannot be read or parsed. */
export async function readJsonFile(path: string, cwd: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), 'utf8');
  } catch (err) {
    throw new UsageError(describeFsError(err, `cannot read ${flag}`, path));
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag} ${path}: not valid JSON: ${(err as Error).message}`);
  }
}
