import type { Define } from './context.js';

export const defineSimulate: Define = (program, context) => {
  program
    .command('simulate')
    .summary('run a local Meta API simulator for rehearsals and tests')
    .description(
      'Serves Meta\'s /v1/contacts (On-Premises shape) and Cloud API /messages on loopback, ' +
      'with a scriptable world: who is on WhatsApp, opt-outs, rate limits and faults. ' +
      'Prints its URL on stdout and runs until Ctrl-C.',
    )
    .option('--port <n>', 'port to listen on (0: any free port)', '8090')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--templates <file>', 'the templates to serve, in Meta\'s message_templates shape (send --templates reads the same file), each with its own status: PAUSED, DISABLED, REJECTED or PENDING ones are refused as Meta refuses them')
    .option('--scenario <file>', 'a JSON file with any of the settings below (flags win)')
    .option('--token <token>', 'the bearer token to accept (default: WA_GUARD_TOKEN, else a fixed test token)')
    .option('--mode <mode>', 'contacts answers: truthful, or always-valid (as Meta\'s endpoint since v2.43)')
    .option('--seed <n>', 'seed for the registered-number hash and for fault injection')
    .option('--registered-fraction <f>', 'share of numbers on WhatsApp, by a stable hash (default 0.8)')
    .option('--registered <numbers>', 'comma-separated numbers that are on WhatsApp')
    .option('--unregistered <numbers>', 'comma-separated numbers that are not')
    .option('--opted-out <numbers>', 'comma-separated numbers that stopped marketing messages')
    .option('--phone-number-id <id...>', 'phone number ids that may send (default 100000000000001)')
    .option('--mps <n>', 'messages per second before 130429 (default 80)')
    .option('--pair-interval <s>', 'seconds between messages to one user before 131056 (default 6)')
    .option('--contacts-rps <n>', '/contacts requests per second before 429 (default: no limit)')
    .option('--contacts-max <n>', 'numbers per /contacts request before 400 (default 1000)')
    .option('--processing-first', 'answer "processing" the first time a number is checked, even for blocking "wait"')
    .option('--undeliverable <how>', '131026 as an error response (sync) or as a failed status webhook (async, default)')
    .option('--fault-reset <f>', 'share of requests whose connection is reset')
    .option('--fault-5xx <f>', 'share of requests answered 503 with no JSON body')
    .option('--fault-slow <f>', 'share of requests answered after --slow-ms')
    .option('--slow-ms <ms>', 'delay of slow responses (default 2000)')
    .option('--error-131000 <f>', 'share of sends failing with 131000 (unknown outcome)')
    .option('--error-131016 <f>', 'share of sends failing with 131016 (service unavailable)')
    .option('--error-131049 <f>', 'share of marketing sends failing with 131049')
    .option('--fault-reset-after <f>', 'share of sends accepted, then answered with a reset connection (unknown outcomes)')
    .option('--error-for <list>', 'NUMBER=CODE pairs: sends to these numbers fail with that Meta error code')
    .option('--delivered <f>', 'share of messages to numbers on WhatsApp that are delivered (default 1)')
    .option('--read <f>', 'share of delivered messages that are read (default 0)')
    .option('--replied <f>', 'share of read messages the user answers (default 0)')
    .option('--status-delay <s>', 'seconds, in Meta\'s timestamps, from sent to delivered, delivered to read, read to the reply (default 0)')
    .option('--webhooks-out <file>', 'append status and inbound webhook payloads to this JSONL file')
    .option('--webhooks-url <url>', 'POST each webhook payload there, signed with WA_GUARD_APP_SECRET (e.g. a wa-guard listen)')
    .option('--debug', 'show stack traces on errors')
    .action(async (options) => {
      const { simulate } = await import('../commands/simulate.js');
      context.exit(await simulate(options, context.io));
    });
};
