import { isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResultResponse } from '@modelcontextprotocol/sdk/types.js';
import { expect, it } from 'vitest';
import { answerNonResponsesAtOnce } from '../src/mcp/sdk-patch.js';

/** What a server may be sent: requests, notifications, answers, and things that are none of them. */
const MESSAGES: unknown[] = [
  { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'check_message', arguments: { to: '+62812' } } },
  { jsonrpc: '2.0', id: 'a', method: 'ping' },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 1, result: {} },
  { jsonrpc: '2.0', id: 'x', result: { content: [] } },
  { jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad' } },
  { jsonrpc: '2.0', id: 1, error: { code: 'bad', message: 1 } },
  { jsonrpc: '2.0', id: 1, result: null },
  { jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'both' } },
  { jsonrpc: '2.0', id: 1, result: {}, method: 'x' },
  { jsonrpc: '1.0', id: 1, result: {} },
  { id: 1, error: { code: 1, message: 'no version' } },
  { jsonrpc: '2.0', result: {} },
  { result: undefined },
  {}, [], [{ result: {} }], null, undefined, 'result', 42, true,
];

it('answers "is it a response?" as the SDK does, for every kind of message', () => {
  const stock = MESSAGES.map((m) => [isJSONRPCResultResponse(m), isJSONRPCErrorResponse(m), isJSONRPCRequest(m)]);
  expect(stock.some(([result]) => result)).toBe(true); // the list holds both answers of each check
  expect(stock.some(([, error]) => error)).toBe(true);
  answerNonResponsesAtOnce();
  answerNonResponsesAtOnce(); // twice is once
  expect(MESSAGES.map((m) => [isJSONRPCResultResponse(m), isJSONRPCErrorResponse(m), isJSONRPCRequest(m)])).toEqual(stock);
});
