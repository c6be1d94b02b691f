import { Option, type Command } from 'commander';
import { SEND_DEFAULTS } from '../defaults.js';
import { EXIT_CODES, STORE_FLAG } from './context.js';

const FORMAT_CHOICES = ['csv', 'json', 'jsonl', 'ndjson'];

/** Options every command that reads a data file and writes to --out-dir takes. */
export function dataFileOptions(command: Command, outputs: string, verb: string): Command {
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
    .option(...STORE_FLAG)
    .option('--fail-on <reasons>', `exit 3 when rows were ${verb} for these reasons (comma-separated, or "any")`)
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(new Option('--workers <n>', 'worker threads for parsing and normalization (0: none)').hideHelp())
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', EXIT_CODES);
}

/** Options of the commands that learn from webhooks (ingest, listen). */
export function learnOptions(command: Command): Command {
  return command
    .option(...STORE_FLAG)
    .option('--stop-words <words>', 'comma-separated replies that opt a user out, compared ignoring case, spaces and punctuation (default: STOP, UNSUBSCRIBE, OPT OUT… in English, Indonesian, Spanish, Portuguese, Hindi and Arabic; "+WORD,…" adds to them)')
    .option('--strikes <n>', '131026 failures that blacklist a number (default 1)')
    .option('--undeliverable-ttl <duration>', 'how long a 131026 blacklist entry lasts, from the failure (default 90d)')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--debug', 'show stack traces on errors');
}

/** The sender on the Graph API (send, mcp). */
export function graphApiOptions(command: Command): Command {
  return command
    .option('--phone-number-id <id>', 'the sending phone number id (env WA_GUARD_PHONE_NUMBER_ID)')
    .option('--api-url <url>', 'the Graph API base URL (env WA_GUARD_API_URL; default https://graph.facebook.com)')
    .option('--api-version <v>', 'Graph API version', SEND_DEFAULTS.apiVersion);
}

/** Meta's limits the sends keep to, shared through the store (send, mcp). */
export function pacingOptions(command: Command): Command {
  return command
    .option('--tier <n>', 'messaging limit: 250, 1000, 2000, 10000, 100000 or unlimited', SEND_DEFAULTS.tier)
    .option('--pair-interval <duration>', 'least time between two messages to one user (shared through the store)', SEND_DEFAULTS.pairInterval)
    .option('--mps <n>', 'messages per second at most, per phone number id (shared through the store)', SEND_DEFAULTS.mps);
}
