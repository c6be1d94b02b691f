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
      const { listCommand } = await import('../commands/lists.js');
      context.exit(await listCommand(list, verb, args, options, context.io));
    });
  }
};
