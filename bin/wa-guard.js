#!/usr/bin/env node
// The only place that touches the real process: signals and the exit code.
import { run } from '../dist/cli.js';
import { processIO } from '../dist/io.js';

const controller = new AbortController();
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // A second signal means "now": skip the clean-up.
    if (++signals > 1) process.exit(signal === 'SIGTERM' ? 143 : 130);
    controller.abort(signal);
  });
}

const code = await run(process.argv.slice(2), processIO(controller.signal));
process.stdout.write('', () => process.exit(code));
