import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT } from './errors.js';
import type { IO } from './io.js';
import { versions } from './versions.js';

export type { IO } from './io.js';

function versionText(): string {
  const v = versions();
  return `wa-guard ${v.wa_guard}\nlibphonenumber-js ${v.libphonenumber_js} (max metadata)\nnode ${v.node}`;
}

function buildProgram(io: IO, setExit: (code: number) => void): Command {
  const program = new Command('wa-guard')
    .description('Keep WhatsApp Business contact lists clean and campaigns compliant.')
    .version(versionText(), '-V, --version', 'print the version (and the libphonenumber-js version that decides validity)')
    .option('--debug', 'show stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  program
    .command('clean')
    .summary('normalize, de-duplicate and filter a contact export')
    .description(
      'Streams a contact export (CSV, JSON array or JSONL) through phone normalization,\n' +
      'de-duplication, the blacklist and opt-outs, and writes cleaned.*, purged.*,\n' +
      'blacklist.csv and summary.json to --out-dir. Use - to read stdin.',
    )
    .argument('[input]', 'the export to clean: a file path, or - for stdin')
    .option('-c, --country <CC>', 'default country for national numbers, e.g. ID (env WA_GUARD_COUNTRY)')
    .option('--column <name>', 'the phone column (default: detected from the header)')
    .option('--optout-column <name>', 'a column flagging opted-out contacts (default: detected, e.g. opt_out)')
    .addOption(new Option('--format <format>', 'input format (default: from the extension, else the content)').choices(['csv', 'json', 'jsonl', 'ndjson']))
    .option('--delimiter <char>', 'CSV delimiter (default: detected among , ; tab |)')
    .addOption(new Option('--output-format <format>', 'format of cleaned and purged files (default: the input\'s)').choices(['csv', 'json', 'jsonl', 'ndjson']))
    .option('-o, --out-dir <dir>', 'where to write the outputs', 'wa-guard-out')
    .option('--blacklist <file>', 'a CSV of numbers never to keep (any number format)')
    .option('--store <dir|url>', 'state store: a directory, or redis://host:port/db (env WA_GUARD_STORE)')
    .option('--fail-on <reasons>', 'exit 3 when rows were purged for these reasons (comma-separated, or "any")')
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(new Option('--workers <n>', 'worker threads for parsing and normalization (0: none)').hideHelp())
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', '\nExit codes: 0 ok, 1 runtime failure, 2 usage or bad input, 3 --fail-on matched, 130 interrupted.')
    .action(async (input: string | undefined, options) => {
      const { clean } = await import('./commands/clean.js');
      setExit(await clean(input, options, io));
    });

  return program;
}

/** Runs the CLI with the given arguments (without "node wa-guard") and returns the exit code. */
export async function run(argv: string[], io: IO): Promise<number> {
  const debug = argv.includes('--debug');
  let exitCode: number = EXIT.OK;
  const program = buildProgram(io, (code) => { exitCode = code; });
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT.USAGE;
    }
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
      return EXIT.USAGE;
    }
    if (err instanceof CliError) {
      io.stderr.write(`wa-guard: ${err.message}\n`);
      if (debug && err.stack) io.stderr.write(err.stack + '\n');
      return err.exitCode;
    }
    io.stderr.write(`wa-guard: unexpected error: ${(err as Error)?.message ?? String(err)}\n`);
    io.stderr.write(debug ? `${(err as Error)?.stack}\n` : 'run again with --debug to see the stack trace\n');
    return EXIT.FAILURE;
  }
}
