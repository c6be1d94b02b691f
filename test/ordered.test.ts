import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

describe('processInOrder', () => {
  // Each chunk is garbage once consumed. Racing every read against one
  // long-lived abort promise once kept every chunk of the input alive.
  it('keeps no chunk alive after it is consumed, with a signal to stop it', () => {
    const ordered = pathToFileURL(join(ROOT, 'dist', 'pipeline', 'ordered.js')).href;
    const script = `
      const { processInOrder } = await import(${JSON.stringify(ordered)});
      const CHUNKS = 400, ROW = 'x'.repeat(1300);
      async function* chunks() {
        for (let c = 0; c < CHUNKS; c++) {
          let text = '';
          for (let r = 0; r < 100; r++) text += (c * 100 + r) + ',+62 812 ' + String(c * 100 + r).padStart(8, '0') + ',' + ROW + '\\n';
          yield { bytes: Buffer.from(text), startLine: 2 + c * 100 };
        }
      }
      const config = { source: 't', format: 'csv', delimiter: ',', columns: ['id', 'phone', 'note'], phone: [1], optOut: [],
        country: 'ID', output: { format: 'csv', delimiter: ',', eol: '\\n' }, cleanedColumns: true };
      const controller = new AbortController(); // alive for the whole run, as the CLI's is
      let rows = 0;
      let arrayBuffersMb = 0;
      await processInOrder(chunks(), config, 0, controller.signal, async (r) => {
        rows += r.rows;
        if (rows < CHUNKS * 100) return;
        // The last chunk: every other one was consumed and should be garbage.
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 50));
        globalThis.gc();
        arrayBuffersMb = process.memoryUsage().arrayBuffers / 2 ** 20;
      });
      console.log(JSON.stringify({ rows, arrayBuffersMb, aborted: controller.signal.aborted }));
    `;
    const result = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const { rows, arrayBuffersMb } = JSON.parse(result.stdout);
    expect(rows).toBe(40_000);
    // 400 chunks of ~135 KB were read: ~53 MB. Kept alive, they would all be here.
    expect(arrayBuffersMb).toBeLessThan(8);
  });
});
