import type { Command } from 'commander';
import type { IO } from '../io.js';

/** What a command's action needs from the runner: its streams, and where to put its exit code. */
export interface CommandContext {
  io: IO;
  exit(code: number): void;
  /** Commands that finish in-flight work after a signal (a live send, listen) get the long grace. */
  longGrace(): void;
}

/** A command's definition: its flags and help, declared on the program; its run is imported only when it runs. */
export type Define = (program: Command, context: CommandContext) => void;

export const EXIT_CODES = '\nExit codes: 0 ok, 1 runtime failure, 2 usage or bad input, 3 --fail-on matched, 4 campaign stopped by Meta, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).';

export const STORE_FLAG = ['--store <dir|url>', 'state store: a directory, or redis://host:port/db (env WA_GUARD_STORE)'] as const;
