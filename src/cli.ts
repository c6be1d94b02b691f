import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT, InterruptedError } from './errors.js';
import type { IO } from './io.js';
import { versions } from './versions.js';

export type { IO } from './io.js';

function versionText(): string {
  const v = versions();
  return `wa-guard ${v.wa_guard}\nlibphonenumber-js ${v.libphonenumber_js} (max metadata)\nnode ${v.node}`;
}

const FORMAT_CHOICES = ['csv', 'json', 'jsonl', 'ndjson'];

/** Options every command that reads a data file and writes to --out-dir takes. */
function dataFileOptions(command: Command, outputs: string, verb: string): Command {
  return command
    .addOption(new Option('--format <format>', 'input format (default: from the extension, else the content)').choices(FORMAT_CHOICES))
    .option('--delimiter <char>', 'CSV delimiter (default: detected among , ; tab |)')
    .option('--encoding <name>', 'the input\'s text encoding when it is not UTF-8: latin1, windows-1252, utf-16le, …')
    .option('--column <names...>', 'the phone column(s), in order of preference; repeat it or give a comma list (default: detected from the header; send: "to" first)')
    .option('--optout-column <name>', 'a column flagging opted-out contacts (default: every column like opt_out, DoNotCall, whatsapp_opt_out)')
    .option('--optin-column <name>', `rows whose value here does not say the contact opted in are ${verb} (reason no_optin)`)
    .option('--country-column <name>', 'a column with each row\'s country (ISO code or English name) for its national numbers; --country when empty')
    .addOption(new Option('--output-format <format>', `format of ${outputs} (default: the input's)`).choices(FORMAT_CHOICES))
    .option('-o, --out-dir <dir>', 'where to write the outputs', 'wa-guard-out')
    .option('--safe-csv', 'prefix CSV cells that start with = + - @ tab or CR with \' so spreadsheets do not run them as formulas (phone columns excepted)')
    .option('--blacklist <file>', 'a CSV of numbers never to keep or message (any number format)')
    .option('--store <dir|url>', 'state store: a directory, or redis://host:port/db (env WA_GUARD_STORE)')
    .option('--fail-on <reasons>', `exit 3 when rows were ${verb} for these reasons (comma-separated, or "any")`)
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(new Option('--workers <n>', 'worker threads for parsing and normalization (0: none)').hideHelp())
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', EXIT_CODES);
}

const EXIT_CODES = '\nExit codes: 0 ok, 1 runtime failure, 2 usage or bad input, 3 --fail-on matched, 4 campaign stopped by Meta, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).';

/** Options of the commands that learn from webhooks (ingest, listen). */
function learnOptions(command: Command): Command {
  return command
    .option('--store <dir|url>', 'state store: a directory, or redis://host:port/db (env WA_GUARD_STORE)')
    .option('--stop-words <words>', 'comma-separated words that opt a user out (default STOP,UNSUBSCRIBE,END,QUIT,STOPALL,CANCEL,OPTOUT; "+WORD,…" adds to them)')
    .option('--strikes <n>', '131026 failures that blacklist a number (default 1)')
    .option('--undeliverable-ttl <duration>', 'how long a 131026 blacklist entry lasts (default 90d)')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--debug', 'show stack traces on errors');
}

function buildProgram(io: IO, setExit: (code: number) => void, setGrace: (ms: number) => void): Command {
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

  const clean = program
    .command('clean')
    .summary('normalize, de-duplicate and filter a contact export')
    .description(
      'Streams a contact export (CSV, JSON array or JSONL) through phone normalization, ' +
      'de-duplication, the blacklist and opt-outs, and writes cleaned.*, purged.*, ' +
      'blacklist.csv and summary.json to --out-dir. Use - to read stdin.',
    )
    .argument('[input]', 'the export to clean: a file path, or - for stdin')
    .option('-c, --country <CC>', 'default country for national numbers, e.g. ID (env WA_GUARD_COUNTRY)')
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
    const { clean } = await import('./commands/clean.js');
    setExit(await clean(input, options, io));
  });

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
    .option('--phone-number-id <id>', 'the sending phone number id (env WA_GUARD_PHONE_NUMBER_ID)')
    .option('--api-url <url>', 'the Graph API base URL (env WA_GUARD_API_URL; default https://graph.facebook.com)')
    .option('--api-version <v>', 'Graph API version', 'v21.0')
    .option('--campaign-id <id>', 'names the campaign in the journal (default: a hash of the file), so a re-run resumes it')
    .option('-c, --country <CC>', 'default country for national numbers (env WA_GUARD_COUNTRY)')
    .option('--templates <file>', 'the JSON of Meta\'s message_templates endpoint: names, languages, categories, status, parameters')
    .option('--waba-id <id>', 'fetch the approved templates of this WhatsApp Business Account before sending')
    .option('--language <code>', 'template language when a row has none', 'en_US')
    .option('--category <category>', 'template category when neither the row nor the templates say: marketing, utility or authentication')
    .option('--tier <n>', 'messaging limit: 250, 1000, 2000, 10000, 100000 or unlimited', '250')
    .option('--pair-interval <duration>', 'least time between two messages to one user (shared through the store)', '6s')
    .option('--mps <n>', 'messages per second at most, per phone number id (shared through the store)', '80')
    .option('--concurrency <n>', 'requests in flight at most (default 32)')
    .option('--max-attempts <n>', 'tries per message for transient errors (default 5)')
    .option('--strikes <n>', '131026 answers that blacklist a number (default 1)')
    .option('--undeliverable-ttl <duration>', 'how long a 131026 blacklist entry lasts (default 90d)')
    .option('--resend-unknown', 'send again the rows whose outcome is unknown (a lost answer), except those webhooks showed were accepted')
    .option('--timeout <duration>', 'give up waiting for an answer after this long (default 30s; the outcome is then unknown)')
    .option('--now <time>', 'the clock, as an ISO 8601 time, to rehearse a scheduled send (--dry-run only)')
    .addHelpText('after', '\nExamples:\n  wa-guard send campaign.csv --dry-run --templates templates.json -c ID\n' +
      '  WA_GUARD_TOKEN=… wa-guard send campaign.csv --phone-number-id 1234567890 --waba-id 987654321 -c ID');
  dataFileOptions(send, 'gate.* or results.*', 'blocked').action(async (input: string | undefined, options) => {
    if (!options.dryRun) setGrace(LONG_GRACE_MS);
    const { send } = await import('./commands/send.js');
    setExit(await send(input, options, io));
  });

  for (const [list, what, verbs] of [
    ['blacklist', 'numbers never to keep or message', 'add|remove|list|import|export'],
    ['optout', 'users who opted out (scope: all, or marketing only)', 'add|remove|list|import|export'],
    ['cache', 'the status cache of /contacts answers', 'list|forget|clear|export'],
  ] as const) {
    const command = program
      .command(list)
      .summary(`see and correct ${what}`)
      .description(`See and correct ${what}, in the store (--store). Numbers in any format, normalized as clean does.`)
      .argument('<verb>', verbs)
      .argument('[args...]', list === 'cache' ? 'numbers (forget), or a file or - (export)' : 'numbers (add, remove), a file or - (import, export)')
      .option('--store <dir|url>', 'state store: a directory, or redis://host:port/db (env WA_GUARD_STORE)')
      .option('-c, --country <CC>', 'default country for national numbers (env WA_GUARD_COUNTRY)')
      .option('--reason <text>', list === 'cache' ? 'list: only this status' : 'add, import: the reason recorded; list: only entries whose reason contains it')
      .option('--source <text>', 'list: only entries whose source contains it')
      .option('--since <date>', 'list: only entries seen since this date')
      .option('--json', 'JSON on stdout (list, export: one object a line)')
      .option('-q, --quiet', 'print nothing but errors')
      .option('--debug', 'show stack traces on errors');
    if (list === 'optout') command.option('--scope <scope>', 'add, import: all (default) or marketing');
    if (list !== 'cache') command.option('--column <name>', 'import: the phone column (default: detected from the header)');
    command.addHelpText('after', `\nExamples:\n  wa-guard ${list} list${list === 'cache' ? ' --reason invalid' : ' --since 2026-11-01'}\n  wa-guard ${list} ${list === 'cache' ? 'forget' : 'remove'} +6281234567890\n  wa-guard ${list} export ${list}.csv`);
    command.action(async (verb: string, args: string[], options) => {
      const { listCommand } = await import('./commands/lists.js');
      setExit(await listCommand(list, verb, args, options, io));
    });
  }

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
    .option('--json', 'print the summary as JSON on stdout');
  learnOptions(ingest).action(async (input: string, options) => {
    const { ingest } = await import('./commands/webhooks.js');
    setExit(await ingest(input, options, io));
  });

  const listen = program
    .command('listen')
    .summary('receive Meta\'s webhooks and learn from them as they arrive')
    .description(
      'Runs an HTTP server for Meta\'s webhook subscription: answers the GET verification handshake ' +
      '(WA_GUARD_VERIFY_TOKEN), verifies each POST\'s X-Hub-Signature-256 with WA_GUARD_APP_SECRET, stores the ' +
      'event durably before answering 200, then applies it as ingest does. Prints its URL on stdout; runs until Ctrl-C.',
    )
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--insecure-no-signature', 'accept unsigned POSTs (local rehearsals with the simulator only)')
    .option('--json', 'log lines as JSON');
  learnOptions(listen).action(async (options) => {
    setGrace(LONG_GRACE_MS);
    const { listen } = await import('./commands/webhooks.js');
    setExit(await listen(options, io));
  });

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
    .option('--webhooks-out <file>', 'append status and inbound webhook payloads to this JSONL file')
    .option('--webhooks-url <url>', 'POST each webhook payload there, signed with WA_GUARD_APP_SECRET (e.g. a wa-guard listen)')
    .option('--debug', 'show stack traces on errors')
    .action(async (options) => {
      const { simulate } = await import('./commands/simulate.js');
      setExit(await simulate(options, io));
    });

  return program;
}

/** After a signal, how long a command may take to finish its clean-up before the run ends anyway. */
const SIGNAL_GRACE_MS = 1500;
/**
 * A live send finishes the requests in flight (bounded by --timeout) before it
 * writes its results; listen finishes applying what it has answered 200 for.
 */
const LONG_GRACE_MS = 35_000;

/**
 * Waits for the command; after a signal, at most SIGNAL_GRACE_MS more. A
 * command stuck on something that ignores signals (a server that accepts and
 * never answers) then ends as interrupted, its unfinished outputs removed.
 */
async function withGrace(command: Promise<unknown>, signal: AbortSignal | undefined, graceMs: () => number): Promise<void> {
  if (!signal) {
    await command;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  let forced = false;
  let force: (err: Error) => void = () => undefined;
  const deadline = new Promise<never>((_, reject) => { force = reject; });
  deadline.catch(() => undefined);
  const onAbort = (): void => {
    timer = setTimeout(() => {
      forced = true;
      force(new InterruptedError(String(signal.reason ?? 'SIGINT')));
    }, graceMs());
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([command, deadline]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    // Only a command that wrote outputs has leftovers, and it has loaded this module already.
    if (forced) (await import('./output/atomic.js')).removeLeftovers();
  }
}

/** Runs the CLI with the given arguments (without "node wa-guard") and returns the exit code. */
export async function run(argv: string[], io: IO): Promise<number> {
  const debug = argv.includes('--debug');
  let exitCode: number = EXIT.OK;
  let graceMs = SIGNAL_GRACE_MS;
  const program = buildProgram(io, (code) => { exitCode = code; }, (ms) => { graceMs = ms; });
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT.USAGE;
    }
    await withGrace(program.parseAsync(argv, { from: 'user' }), io.signal, () => graceMs);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help (--help, `help CMD`) and --version end with commander's exit code 0.
      if (err.exitCode === 0) return EXIT.OK;
      return EXIT.USAGE;
    }
    if (err instanceof CliError) {
      io.stderr.write(`wa-guard: ${err.message}\n`);
      if (debug && err.stack) io.stderr.write(err.stack + '\n');
      return err.exitCode;
    }
    if (io.signal?.aborted) {
      // Whatever a signal broke on its way out (a request, a wait), the run was interrupted.
      const interrupted = new InterruptedError(String(io.signal.reason ?? 'SIGINT'));
      io.stderr.write(`wa-guard: ${interrupted.message}\n`);
      if (debug) io.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      return interrupted.exitCode;
    }
    io.stderr.write(`wa-guard: unexpected error: ${(err as Error)?.message ?? String(err)}\n`);
    io.stderr.write(debug ? `${(err as Error)?.stack}\n` : 'run again with --debug to see the stack trace\n');
    return EXIT.FAILURE;
  }
}
