import { CommanderError } from 'commander';
import { CliError, EXIT, InterruptedError } from './errors.js';
import type { IO } from './io.js';
import { buildProgram } from './program.js';

export type { IO } from './io.js';

/** After a signal, how long a command may take to finish its clean-up before the run ends anyway. */
const SIGNAL_GRACE_MS = 1500;
/**
 * A live send finishes the requests in flight (bounded by --timeout) before it
 * writes its results; listen finishes applying what it has answered 200 for.
 */
const LONG_GRACE_MS = 35_000;

/**
 * Waits for the command; after a signal, at most SIGNAL_GRACE_MS more. A
 * command stuck on something that ignores signals (a server that accepts and
 * never answers) then ends as interrupted, its unfinished outputs removed.
 */
async function withGrace(command: Promise<unknown>, signal: AbortSignal | undefined, graceMs: () => number): Promise<void> {
  if (!signal) {
    await command;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  let forced = false;
  let force: (err: Error) => void = () => undefined;
  const deadline = new Promise<never>((_, reject) => { force = reject; });
  deadline.catch(() => undefined);
  const onAbort = (): void => {
    timer = setTimeout(() => {
      forced = true;
      force(new InterruptedError(String(signal.reason ?? 'SIGINT')));
    }, graceMs());
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([command, deadline]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    // Only a command that wrote outputs has leftovers, and it has loaded this module already.
    if (forced) (await import('./output/atomic.js')).removeLeftovers();
  }
}

/** Runs the CLI with the given arguments (without "node wa-guard") and returns the exit code. */
export async function run(argv: string[], io: IO): Promise<number> {
  const debug = argv.includes('--debug');
  let exitCode: number = EXIT.OK;
  let graceMs = SIGNAL_GRACE_MS;
  const program = buildProgram({ io, exit: (code) => { exitCode = code; }, longGrace: () => { graceMs = LONG_GRACE_MS; } });
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT.USAGE;
    }
    await withGrace(program.parseAsync(argv, { from: 'user' }), io.signal, () => graceMs);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help (--help, `help CMD`) and --version end with commander's exit code 0.
      if (err.exitCode === 0) return EXIT.OK;
      return EXIT.USAGE;
    }
    if (err instanceof CliError) {
      io.stderr.write(`wa-guard: ${err.message}\n`);
      if (debug && err.stack) io.stderr.write(err.stack + '\n');
      return err.exitCode;
    }
    if (io.signal?.aborted) {
      // Whatever a signal broke on its way out (a request, a wait), the run was interrupted.
      const interrupted = new InterruptedError(String(io.signal.reason ?? 'SIGINT'));
      io.stderr.write(`wa-guard: ${interrupted.message}\n`);
      if (debug) io.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      return interrupted.exitCode;
    }
    io.stderr.write(`wa-guard: unexpected error: ${(err as Error)?.message ?? String(err)}\n`);
    io.stderr.write(debug ? `${(err as Error)?.stack}\n` : 'run again with --debug to see the stack trace\n');
    return EXIT.FAILURE;
  }
}
