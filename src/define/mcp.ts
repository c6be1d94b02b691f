import { STORE_FLAG, type Define } from './context.js';
import { graphApiOptions, pacingOptions } from './shared.js';

export const defineMcp: Define = (program, context) => {
  const mcp = program
    .command('mcp')
    .summary('serve the compliance gate to AI agents and apps over the Model Context Protocol (stdio, or --http)')
    .description(
      'Serves the Model Context Protocol over stdio (stdout is the protocol, logs go to stderr): tools ' +
      'that check a number or a message against the same gate as send --dry-run, send one template or ' +
      'text exactly once per idempotency_key through the same journal, pacing and error table as send, ' +
      'and read or change the store (contacts, lists, message status, reports). Token from WA_GUARD_TOKEN ' +
      'only; without it (or with --read-only or --dry-run) nothing is sent.',
    )
    .option(...STORE_FLAG)
    .option('--templates <file>', 'the JSON of Meta\'s message_templates endpoint (for the template checks)')
    .option('--waba-id <id>', 'fetch the templates of this WhatsApp Business Account at start');
  graphApiOptions(mcp)
    .option('-c, --country <CC>', 'default country for national numbers (env WA_GUARD_COUNTRY)');
  pacingOptions(mcp)
    .option('--strikes <n>', '131026 answers that blacklist a number (default 1)')
    .option('--read-only', 'expose only the checks and reads: no send tool, no list changes')
    .option('--dry-run', 'send tools rehearse: decide, journal nothing, send nothing')
    .option('--max-sends <n>', 'sends this process may attempt at most (each call that reaches Meta, or could); past it the send tools refuse')
    .option('--approve', 'a send waits for a person: it returns pending_approval and a token for `wa-guard mcp approve TOKEN`')
    .option('--http <port>', 'serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio (0: any free port; the URL is printed on stdout)')
    .option('--host <addr>', 'with --http: the address to listen on (default 127.0.0.1; any other needs WA_GUARD_MCP_TOKEN, sent by clients as a bearer token)')
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', '\nExamples:\n  wa-guard mcp --templates templates.json -c ID --dry-run\n' +
      '  WA_GUARD_MCP_TOKEN=… wa-guard mcp --http 8765 --host 0.0.0.0 --templates templates.json\n' +
      '  WA_GUARD_TOKEN=… wa-guard mcp --phone-number-id 1234567890 --waba-id 987654321 --approve --max-sends 50\n' +
      '  wa-guard mcp approve 3f9c2a…      # let one pending message go (the server sends it)');
  mcp.action(async (options) => {
    context.longGrace();
    const { mcpServe } = await import('../commands/mcp.js');
    context.exit(await mcpServe(options, context.io));
  });
  for (const verb of ['approve', 'reject'] as const) {
    mcp.command(verb)
      .summary(verb === 'approve' ? 'let a pending message go: the mcp server that holds it sends it' : 'refuse a pending message: it is never sent')
      .argument('[token]', 'the token the send tool returned (none: list the pending messages)')
      .option(...STORE_FLAG)
      .option('--json', 'print JSON on stdout')
      .action(async (token: string | undefined, options: { store?: string; json?: boolean }) => {
        const { mcpDecide } = await import('../commands/mcp.js');
        // commander gives a --store written after the verb to `mcp` as well: either place names the store.
        const store = options.store ?? (mcp.opts() as { store?: string }).store;
        context.exit(await mcpDecide(verb, token, { ...options, store }, context.io));
      });
  }
};
