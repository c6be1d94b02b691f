#!/usr/bin/env node
// The only place that touches the real process: signals and the exit code.
import { run } from '../dist/bundle/cli.js';
import { processIO } from '../dist/bundle/io.js';

const controller = new AbortController();
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // A second signal means "now": skip the clean-up.
    if (++signals > 1) process.exit(signal === 'SIGTERM' ? 143 : 130);
    controller.abort(signal);
  });
}

// A failure that escaped its caller still ends in one line and exit 1, not a stack trace.
// lmdb also rejects its own pending commit promises after a failed commit, which the
// failing call has already reported: those are ignored.
process.on('unhandledRejection', (err) => {
  if (err && typeof err === 'object' && 'commitError' in err) return;
  process.stderr.write(`wa-guard: unexpected error: ${err?.message ?? String(err)}\n`);
  if (process.argv.includes('--debug')) process.stderr.write(`${err?.stack ?? ''}\n`);
  process.exit(1);
});

const code = await run(process.argv.slice(2), processIO(controller.signal));
process.stdout.write('', () => process.exit(code));
