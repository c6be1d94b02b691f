import type { Define } from './context.js';
import { dataFileOptions } from './shared.js';

export const defineClean: Define = (program, context) => {
  const clean = program
    .command('clean')
    .summary('normalize, de-duplicate and filter a contact export')
    .description(
      'Streams a contact export (CSV, JSON array or JSONL) through phone normalization, ' +
      'de-duplication, the blacklist and opt-outs, and writes cleaned.*, purged.*, ' +
      'blacklist.csv and summary.json to --out-dir. Use - to read stdin.',
    )
    .argument('[input]', 'the export to clean: a file path, or - for stdin')
    .option('-c, --country <CC>', 'default country for national numbers: a code or an English name, e.g. ID or Indonesia (env WA_GUARD_COUNTRY)')
    .option('--mobile-only', 'purge numbers that are not mobiles (landlines, VoIP, toll-free, …) as not_mobile; the line_type column says which each kept number is')
    .option('--output <file>', 'the cleaned rows: a file, or - for stdout (default: cleaned.* in --out-dir; the other outputs stay there)')
    .option('--contacts-url <url>', 'base URL of a /contacts endpoint to verify numbers with (env WA_GUARD_CONTACTS_URL; token from WA_GUARD_TOKEN)')
    .option('--verify', 'require verification (error when no endpoint is configured)')
    .option('--no-verify', 'do not verify, even when an endpoint is configured')
    .option('--batch-size <n>', 'numbers per /contacts request (default 50)')
    .option('--rate <n>', '/contacts requests per second (default 20; shared by all processes on a Redis store)')
    .option('--burst <n>', 'requests allowed at once before pacing (default: the rate; 1 spaces them evenly)')
    .option('--concurrency <n>', '/contacts requests in flight at most (default 4)')
    .option('--max-checks <n>', 'numbers sent to /contacts in this run at most; the rest stay unverified')
    .option('--ttl <duration>', 'how long answers are cached: 7d, or valid=7d,invalid=30d (default 7d)')
    .option('--timeout <duration>', 'give up on a /contacts request after this long, then retry (default 30s)');
  clean.addHelpText('after', '\nExamples:\n  wa-guard clean leads.csv --country ID\n' +
    '  wa-guard clean export.json -c BR --output-format csv -o out --fail-on invalid_number,no_country_code\n' +
    '  WA_GUARD_TOKEN=… wa-guard clean leads.csv -c ID --contacts-url https://gateway.example --verify --max-checks 5000');
  dataFileOptions(clean, 'cleaned and purged files', 'purged').action(async (input: string | undefined, options) => {
    const { clean } = await import('../commands/clean.js');
    context.exit(await clean(input, options, context.io));
  });
};
