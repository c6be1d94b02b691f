import { createInterface } from 'node:readline';
import type { IO } from './io.js';

/**
 * Asks a yes/no question on stderr and reads the answer from stdin, when
 * stdin is a terminal; resolves undefined when it is not (a script must say
 * --yes), and false on anything but y or yes (or stdin closing).
 */
export async function confirm(io: IO, question: string): Promise<boolean | undefined> {
  if (!(io.stdin as { isTTY?: boolean }).isTTY) return undefined;
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  try {
    const answer = await new Promise<string>((done) => {
      rl.once('line', done);
      rl.once('close', () => done(''));
      io.signal?.addEventListener('abort', () => done(''), { once: true });
      io.stderr.write(`${question} [y/N] `);
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
    io.stdin.pause();
  }
}
