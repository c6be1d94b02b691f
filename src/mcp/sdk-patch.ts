import { JSONRPCErrorResponseSchema, JSONRPCResultResponseSchema } from '@modelcontextprotocol/sdk/types.js';

/** What a failed check answers; nobody reads the error of a type guard. */
const NOT_A_RESPONSE = { success: false } as const;

/**
 * The SDK asks of every message that arrives "is it a response?" before "is
 * it a request?", each by a zod safeParse. For a request both fail, and each
 * failure builds a ZodError (an Error with a stack, its issues as JSON): a
 * third of a server's time per tool call, and most of its garbage. A message
 * with no `result` key cannot be a result, nor one with no `error` key an
 * error (both schemas require them), so those are answered at once; any other
 * goes to the SDK's own check. Applied once, before the first server starts;
 * test/mcp-sdk-patch.test.ts checks that the answers do not change.
 */
export function answerNonResponsesAtOnce(): void {
  for (const [schema, key] of [[JSONRPCResultResponseSchema, 'result'], [JSONRPCErrorResponseSchema, 'error']] as const) {
    const check = schema.safeParse as (value: unknown, params?: unknown) => unknown;
    if ((check as { patched?: boolean }).patched) continue;
    const quick = (value: unknown, params?: unknown): unknown =>
      typeof value === 'object' && value !== null && !(key in value) ? NOT_A_RESPONSE : check.call(schema, value, params);
    (schema as { safeParse: unknown }).safeParse = Object.assign(quick, { patched: true });
  }
}
