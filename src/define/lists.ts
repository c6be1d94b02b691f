import { STORE_FLAG, type Define } from './context.js';

export const defineLists: Define = (program, context) => {
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
      .option(...STORE_FLAG)
      .option('-c, --country <CC>', 'default country for national numbers (env WA_GUARD_COUNTRY)')
      .option('--reason <text>', list === 'cache' ? 'list: only this status' : 'add, import: the reason recorded (import: over a reason column); list: only entries whose reason contains it')
      .option('--source <text>', 'list: only entries whose source contains it')
      .option('--since <date>', 'list: only entries seen since this date')
      .option('--limit <n>', 'list: rows the table shows (default 200; 0: all)')
      .option('--json', 'JSON on stdout (list, export: one object a line)')
      .option('-q, --quiet', 'print nothing but errors')
      .option('--debug', 'show stack traces on errors');
    if (list === 'optout') command.option('--scope <scope>', 'add, import: all (default) or marketing, over a scope column; list: only this scope');
    if (list !== 'cache') {
      command
        .option('--column <name>', 'import: the phone column (default: wa_id, else detected from the header)')
        .option('--rejects <file>', 'import: write the skipped rows to this CSV, with a reject_reason column');
    } else {
      command.option('-y, --yes', 'clear: do not ask (needed when stdin is not a terminal)');
    }
    const example = list === 'cache'
      ? 'cache list --reason invalid\n  wa-guard cache forget 6281234567890\n  wa-guard cache clear --yes'
      : `${list} list --since 2026-11-01 --limit 0\n  wa-guard ${list} remove "+62 812-3456-7890"   # quote a number written with spaces\n  wa-guard ${list} export ${list}.csv && wa-guard ${list} import ${list}.csv --rejects rejected.csv`;
    command.addHelpText('after', `\nNumbers: a wa_id (country code first, digits only, as every list writes it) needs no --country.\n\nExamples:\n  wa-guard ${example}`);
    command.action(async (verb: string, args: string[], options) => {
      const { listCommand } = await import('../commands/lists.js');
      context.exit(await listCommand(list, verb, args, options, context.io));
    });
  }
};
