import { Command, CommanderError } from 'commander';
import { defineClean } from './define/clean.js';
import { EXIT_CODES, type CommandContext } from './define/context.js';
import { defineExplain } from './define/explain.js';
import { defineIngest } from './define/ingest.js';
import { defineLists } from './define/lists.js';
import { defineListen } from './define/listen.js';
import { defineMcp } from './define/mcp.js';
import { defineReport } from './define/report.js';
import { defineSend } from './define/send.js';
import { defineSimulate } from './define/simulate.js';
import { versions } from './versions.js';

function versionText(): string {
  const v = versions();
  return `wa-guard ${v.wa_guard}\nlibphonenumber-js ${v.libphonenumber_js} (max metadata)\nnode ${v.node}`;
}

/** The commands, in the order --help lists them. */
const COMMANDS = [defineClean, defineSend, defineLists, defineIngest, defineListen, defineReport, defineSimulate, defineExplain, defineMcp];

/** The commander program: global flags and help, then each command's definition. */
export function buildProgram(context: CommandContext): Command {
  const { io } = context;
  const program = new Command('wa-guard')
    .description('Keep WhatsApp Business contact lists clean and campaigns compliant.')
    // As commander's .version(), but the versions are looked up only when asked for, not for every run.
    .option('-V, --version', 'print the version (and the libphonenumber-js version that decides validity)')
    .on('option:version', () => {
      io.stdout.write(`${versionText()}\n`);
      throw new CommanderError(0, 'commander.version', 'version printed');
    })
    .option('--debug', 'show stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', '\nExamples:\n  wa-guard clean leads.csv --country ID            # cleaned.csv, purged.csv, summary.json in wa-guard-out/\n' +
      '  wa-guard clean export.json -c BR --output - > cleaned.json\n' +
      '  wa-guard send campaign.csv --dry-run --templates templates.json -c ID\n' +
      '  wa-guard help clean                              # every option of a command\n' + EXIT_CODES)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  for (const define of COMMANDS) define(program, context);
  return program;
}
