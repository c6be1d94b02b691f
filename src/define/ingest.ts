import type { Define } from './context.js';
import { learnOptions } from './shared.js';

export const defineIngest: Define = (program, context) => {
  const ingest = program
    .command('ingest')
    .summary('learn from recorded webhooks: failures, deliveries, replies, opt-outs')
    .description(
      'Reads recorded webhook bodies (one per line, JSON arrays of them, or a directory of .json/.jsonl files, ' +
      'such as the simulator\'s --webhooks-out file) and updates the store: 131026 strikes and the blacklist, ' +
      'opt-outs (stop words, user_preferences, 131050), 24h caps, care windows, delivered numbers in the status ' +
      'cache, template status, and the send journal. Idempotent; a bad line is reported and skipped.',
    )
    .argument('<input>', 'a file, a directory, or - for stdin')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--fail-on <reasons>', 'exit 3 (after learning the rest) when lines were skipped: bad_lines (not JSON, not a webhook), ignored (items without a number or timestamp), comma-separated, or "any"');
  learnOptions(ingest).action(async (input: string, options) => {
    const { ingest } = await import('../commands/ingest.js');
    context.exit(await ingest(input, options, context.io));
  });
};
