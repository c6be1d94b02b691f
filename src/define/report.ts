import { EXIT_CODES, STORE_FLAG, type Define } from './context.js';

export const defineReport: Define = (program, context) => {
  program
    .command('report')
    .summary('what became of each message: the campaigns in the store, or one campaign\'s funnel and failures')
    .description(
      'Alone: the campaigns in the store, newest first (id, the file it came from, first and last send, rows, sent, ' +
      'delivered %, read %, failed, awaiting status). With a campaign id or the campaign file: the funnel (rows, blocked ' +
      'and deferred by reason, sent, delivered, read, replied), failures by code with what they mean and what wa-guard ' +
      'did, figures by template and language and by country calling code, times to delivered and read, and who was ' +
      'blacklisted or opted out because of it. Status webhooks (listen, ingest) bring the deliveries, reads and replies.',
    )
    .argument('[campaign]', 'a campaign id (as send printed it) or the campaign file')
    .option(...STORE_FLAG)
    .option('-o, --out-dir <dir>', 'write report.json, messages.csv and report.html there')
    .option('--safe-csv', 'prefix messages.csv cells that start with = + - @ tab or CR with \' so spreadsheets do not run them')
    .option('--attribution <duration>', 'a reply or opt-out counts against the campaign that last reached the user within this long after delivery', '72h')
    .option('--fail-on <conditions>', 'exit 3 when one holds (comma-separated): delivered<0.9, read<0.5, 131026>50, awaiting>0, failed>=10 …')
    .option('--json', 'print the report as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', '\nExamples:\n  wa-guard report                                   # the campaigns in the store\n' +
      '  wa-guard report campaign.csv -o report/            # report.json, messages.csv, report.html\n' +
      '  wa-guard report 3f2a9c0d1e4b5a67 --fail-on "delivered<0.9,131026>50"\n' + EXIT_CODES)
    .action(async (campaign: string | undefined, options) => {
      const { report } = await import('../commands/report.js');
      context.exit(await report(campaign, options, context.io));
    });
};
