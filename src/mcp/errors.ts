/** Misuse of a tool (bad arguments, a key reused for another message, a limit reached): an MCP error with a message the agent can act on. */
export class McpToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpToolError';
  }
}
