import { SEND_DEFAULTS } from '../defaults.js';
import type { Define } from './context.js';
import { dataFileOptions, graphApiOptions, pacingOptions } from './shared.js';

export const defineSend: Define = (program, context) => {
  const send = program
    .command('send')
    .summary('send a campaign through the Cloud API, or rehearse it (--dry-run)')
    .description(
      'Sends a campaign file (CSV, JSON or JSONL; one message per row: to, template + language + ' +
      'param_1..n or params, or text; optional category, last_inbound_at, id) through the WhatsApp ' +
      'Cloud API: the compliance gate decides every row first, exactly as --dry-run does; what it ' +
      'allows is sent, paced, exactly once across crashes and re-runs (a journal in the store). ' +
      'Writes results.* and summary.json to --out-dir. With --dry-run nothing is sent or stored and ' +
      'gate.* says what would be sent, deferred or blocked, and why. Token from WA_GUARD_TOKEN only.',
    )
    .argument('[input]', 'the campaign file: a path, or - for stdin (live sends from stdin need --campaign-id)')
    .option('--dry-run', 'decide without sending or storing anything')
    .option('--output <file>', 'the data rows (gate.* or results.*): a file, or - for stdout (default: in --out-dir; summary.json stays there)');
  graphApiOptions(send)
    .option('--campaign-id <id>', 'names the campaign in the journal (default: a hash of the file), so a re-run resumes it; a dry run reads that journal')
    .option('-c, --country <CC>', 'default country for national numbers (env WA_GUARD_COUNTRY)')
    .option('--templates <file>', 'the JSON of Meta\'s message_templates endpoint: names, languages, categories, status, parameters')
    .option('--waba-id <id>', 'fetch the approved templates of this WhatsApp Business Account before sending')
    .option('--language <code>', 'template language when a row has none', SEND_DEFAULTS.language)
    .option('--category <category>', 'template category when neither the row nor the templates say: marketing, utility or authentication');
  pacingOptions(send)
    .option('--concurrency <n>', 'requests in flight at most (default 32)')
    .option('--max-attempts <n>', 'tries per message for transient errors (default 5)')
    .option('--strikes <n>', '131026 answers that blacklist a number (default 1)')
    .option('--undeliverable-ttl <duration>', 'how long a 131026 blacklist entry lasts, from the failure (default 90d)')
    .option('--resend-unknown', 'send again the rows whose outcome is unknown (a lost answer), except those webhooks showed were accepted (a dry run counts them so)')
    .option('--retry-failed', 'send again the rows that failed for a retryable reason (131016, 133004, a rate limit), never a recipient\'s (131026, opt-outs)')
    .option('--throttle-timeout <duration>', 'stop the campaign (exit 4) after rate limits this long with no message accepted (default 2m); its rows wait for the next run')
    .option('--allow-volatile-store', 'send even though the store may lose its journal in a crash (Redis without a synced AOF): a crash of the store may send rows twice')
    .option('--timeout <duration>', 'give up waiting for an answer after this long (default 30s; the outcome is then unknown)')
    .option('--now <time>', 'the clock, as an ISO 8601 time, to rehearse a scheduled send (--dry-run only)')
    .addHelpText('after', '\nExamples:\n  wa-guard send campaign.csv --dry-run --templates templates.json -c ID\n' +
      '  WA_GUARD_TOKEN=… wa-guard send campaign.csv --phone-number-id 1234567890 --waba-id 987654321 -c ID');
  dataFileOptions(send, 'gate.* or results.*', 'blocked').action(async (input: string | undefined, options) => {
    if (!options.dryRun) context.longGrace();
    const { send } = await import('../commands/send.js');
    context.exit(await send(input, options, context.io));
  });
};
