#!/usr/bin/env node
// The only place that touches the real process: signals and the exit code.
import module from 'node:module';

// Node 22.1+ keeps the compiled bundle in its compile cache (under the OS's
// temp directory; NODE_DISABLE_COMPILE_CACHE=1 turns it off): compiling it
// was the largest part of start-up. Node 20 has no such cache.
module.enableCompileCache?.();
const { run } = await import('../dist/bundle/cli.js');
const { processIO } = await import('../dist/bundle/io.js');

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

// stdout closed by its reader (`| head`) or failing (a full disk behind `>`):
// never an unhandled 'error' event and its stack trace. Commands writing rows
// report it themselves; a summary that could not be printed is reported here.
let stdoutFailure;
process.stdout.on('error', (err) => { stdoutFailure ??= err; });

const code = await run(process.argv.slice(2), processIO(controller.signal));
process.stdout.write('', (err) => {
  const failure = stdoutFailure ?? err; // a file's write error comes to the callback before the event
  if (failure && failure.code !== 'EPIPE' && code === 0) {
    process.stderr.write(`wa-guard: cannot write to stdout: ${failure.message}\n`);
    process.exit(1);
  }
  process.exit(code);
});
