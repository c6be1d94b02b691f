import { Option } from 'commander';
import type { Define } from './context.js';
import { learnOptions } from './shared.js';

export const defineListen: Define = (program, context) => {
  const listen = program
    .command('listen')
    .summary('receive Meta\'s webhooks and learn from them as they arrive')
    .description(
      'Runs an HTTP server for Meta\'s webhook subscription: answers the GET verification handshake ' +
      '(WA_GUARD_VERIFY_TOKEN), verifies each POST\'s X-Hub-Signature-256 with WA_GUARD_APP_SECRET, stores the ' +
      'event durably before answering 200, then applies it as ingest does. GET /healthz and GET /metrics (Prometheus) ' +
      'watch it. Prints its URL on stdout; runs until Ctrl-C.',
    )
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--insecure-no-signature', 'accept unsigned POSTs (local rehearsals with the simulator only)')
    .option('--json', 'log lines as JSON')
    // For tests: what a day of running does, in seconds.
    .addOption(new Option('--log-interval <duration>', 'how often the totals are looked at (default 1m)').hideHelp())
    .addOption(new Option('--request-timeout <duration>', 'how long a request may take to arrive whole (default 30s)').hideHelp());
  learnOptions(listen).action(async (options) => {
    context.longGrace();
    const { listen } = await import('../commands/listen.js');
    context.exit(await listen(options, context.io));
  });
};
