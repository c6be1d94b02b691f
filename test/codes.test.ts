import { describe, expect, it } from 'vitest';
import { codeInfo, type Action } from '../src/meta/codes.js';

// Codes seen in Meta's real answers: what each means and what wa-guard does about it.
describe('the code table', () => {
  it.each<[string, number, number | undefined, Action, RegExp]>([
    ['131030: the test number may only send to its allowed list', 131030, undefined, 'stop', /allowed list/],
    ['131053: the media could not be used; its rows stop', 131053, undefined, 'template', /Media/],
    ['613: an older rate limit; slow down', 613, undefined, 'slow', /rate limit/],
    ['131014: a message type this business may not send', 131014, undefined, 'template', /not allowed/],
    ['100 with subcode 33: the phone number id or token is wrong, not the template', 100, 33, 'stop', /phone number id/i],
    ['100 with another subcode: a parameter of the request', 100, 2494010, 'template', /Invalid parameter/],
    ['100 without one: a parameter of the request', 100, undefined, 'template', /Invalid parameter/],
    ['a subcode on a code that has none of its own: the code decides', 131026, 33, 'undeliverable', /undeliverable/],
  ])('%s', (_, code, subcode, action, title) => {
    const info = codeInfo(code, subcode);
    expect(info.action).toBe(action);
    expect(info.title).toMatch(title);
    if (action === 'stop') expect(info.hint).toBeTruthy();
  });

  it('says which id to check for 100/33', () => {
    expect(codeInfo(100, 33).hint).toMatch(/--phone-number-id.*WA_GUARD_TOKEN/);
  });
});
