import type { Define } from './context.js';
import { EXIT_CODES } from './context.js';

export const defineExplain: Define = (program, context) => {
  program
    .command('explain')
    .summary('what a Meta error code means, and what wa-guard does about it')
    .description(
      'The error guide for a code of Meta\'s (as send, ingest, report and results.* show them): its title, ' +
      'what it means, the common causes, what to do, whether wa-guard retries it, and what wa-guard does to ' +
      'the number or the campaign. An unknown code exits 2.',
    )
    .argument('<code>', 'the error code, e.g. 131026')
    .option('--json', 'print it as JSON on stdout')
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', '\nExamples:\n  wa-guard explain 131026\n  wa-guard explain 131049 --json\n' + EXIT_CODES)
    .action(async (code: string, options) => {
      const { explainCommand } = await import('../commands/explain.js');
      context.exit(explainCommand(code, options, context.io));
    });
};
