import { blamesRecipient, codeInfo, type Action } from '../meta/codes.js';
import type { SendAnswer } from './client.js';

/** What one request came to, read once: the code table's action and what the outcome reports of it. */
export interface Answer {
  action: Action | 'accepted';
  /** Meta's error code, for error answers. */
  code?: number;
  /** Meta's error_subcode, where it changes the code's meaning (100 with 33: a wrong phone number id or token). */
  subcode?: number;
  /** The code table's title for an error; a transport failure's message; '' when accepted. */
  title: string;
  wamid?: string;
  retryAfterMs?: number;
  /** 131008/131009 naming the `to` field: the recipient's fault, not the template's. */
  blamesRecipient: boolean;
  /** No answer from any server at all (refused, a name that does not resolve, a timeout, a reset): the network's or our failure, never Meta's word. */
  unanswered: boolean;
}

export function readAnswer(answer: SendAnswer): Answer {
  const action = classify(answer);
  if (answer.kind === 'accepted') return { action, title: '', wamid: answer.wamid, blamesRecipient: false, unanswered: false };
  if (answer.kind === 'error') {
    return { action, code: answer.code, subcode: answer.subcode, title: codeInfo(answer.code, answer.subcode).title, retryAfterMs: answer.retryAfterMs, blamesRecipient: action === 'template' && blamesRecipient(answer.code, answer.details), unanswered: false };
  }
  return { action, title: answer.message, retryAfterMs: answer.retryAfterMs, blamesRecipient: false, unanswered: answer.http === undefined };
}

/** An answer as one action of the code table; transport failures by whether the request may have arrived. */
export function classify(answer: SendAnswer): Action | 'accepted' {
  if (answer.kind === 'accepted') return 'accepted';
  if (answer.kind === 'error') {
    const action = codeInfo(answer.code, answer.subcode).action;
    if (answer.http === 429 && action === 'recipient') return 'slow';
    // A server error with Meta's body but no code of its own meaning: Meta did not take the message.
    if (answer.http >= 500 && action === 'recipient') return 'retry';
    return action;
  }
  if (answer.http === 429) return 'slow';
  return answer.written ? 'unknown' : 'retry';
}
