import { describe, expect, it } from 'vitest';
import { DAY_MS, gate, type GateConfig, type Message, type RecipientState, type TemplateInfo } from '../src/gate/gate.js';
import { Plan } from '../src/gate/plan.js';
import { normalizePhone } from '../src/phone.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const templates = (list: TemplateInfo[]) => {
  const map = new Map<string, Map<string, TemplateInfo>>();
  for (const t of list) {
    if (!map.has(t.name)) map.set(t.name, new Map());
    map.get(t.name)!.set(t.language, t);
  }
  return map;
};
const TEMPLATES = templates([
  { name: 'order_update', language: 'en_US', category: 'utility', status: 'APPROVED', params: 2 },
  { name: 'spring_sale', language: 'en_US', category: 'marketing', status: 'APPROVED', params: 1 },
  { name: 'spring_sale', language: 'id', category: 'marketing', status: 'APPROVED', params: 1 },
  { name: 'login_code', language: 'en_US', category: 'authentication', status: 'APPROVED', params: 1 },
  { name: 'old_promo', language: 'en_US', category: 'marketing', status: 'PAUSED', params: 0 },
]);
const CONFIG: GateConfig = { templates: TEMPLATES, tier: 250, pairIntervalMs: 6000 };

const ID = '+6281234567890';
function message(overrides: Partial<Message> & { number?: string } = {}): Message {
  const { number = ID, ...rest } = overrides;
  return { to: normalizePhone(number, 'ID'), template: { name: 'order_update', language: 'en_US', params: ['A-1', 'today'] }, ...rest };
}
const decide = (m: Message, recipient: RecipientState = {}, plan = new Plan(NOW, 80, 0), config = CONFIG) => gate(m, recipient, plan, NOW, config);

describe('the gate: one reason each', () => {
  it.each<[string, Message, RecipientState, string, string]>([
    ['a good utility template', message(), {}, 'send', 'ok'],
    ['no number', message({ number: '' }), {}, 'block', 'missing_number'],
    ['a bad number', message({ number: '0812' }), {}, 'block', 'invalid_number'],
    ['no country code', { ...message(), to: normalizePhone('0812 3456 7890') }, {}, 'block', 'no_country_code'],
    ['no content', message({ template: undefined }), {}, 'block', 'missing_content'],
    ['an unknown template', message({ template: { name: 'nope', language: 'en_US', params: [] } }), {}, 'block', 'unknown_template'],
    ['a template in a missing language', message({ template: { name: 'order_update', language: 'pt_BR', params: ['a', 'b'] } }), {}, 'block', 'unknown_template'],
    ['a paused template', message({ template: { name: 'old_promo', language: 'en_US', params: [] } }), {}, 'block', 'template_not_approved'],
    ['too few parameters', message({ template: { name: 'order_update', language: 'en_US', params: ['A-1'] } }), {}, 'block', 'template_params_mismatch'],
    ['a blacklisted user', message(), { blacklisted: 'not_on_whatsapp (3 strikes)' }, 'block', 'blacklisted'],
    ['a user who opted out of everything', message(), { optedOut: { scope: 'all', detail: 'STOP' } }, 'block', 'opted_out'],
    ['marketing to a user who opted out of marketing', message({ template: { name: 'spring_sale', language: 'en_US', params: ['20%'] } }), { optedOut: { scope: 'marketing', detail: 'user_preferences' } }, 'block', 'opted_out'],
    ['a number the cache says is not on WhatsApp', message(), { notOnWhatsApp: 'contacts answered invalid' }, 'block', 'not_on_whatsapp'],
    ['marketing to +1', message({ number: '+1 415 555 2671', template: { name: 'spring_sale', language: 'en_US', params: ['20%'] } }), {}, 'block', 'us_marketing_blocked'],
    ['an authentication template to +91', message({ number: '+91 98765 43210', template: { name: 'login_code', language: 'en_US', params: ['123456'] } }), {}, 'block', 'auth_template_india'],
    ['free-form text with no user message', message({ template: undefined, text: 'Hi' }), {}, 'block', 'outside_care_window'],
    ['free-form text 25h after the user wrote', message({ template: undefined, text: 'Hi', lastInboundAt: NOW - 25 * 3600e3 }), {}, 'block', 'outside_care_window'],
    ['free-form text inside the window (row)', message({ template: undefined, text: 'Hi', lastInboundAt: NOW - 3600e3 }), {}, 'send', 'ok'],
    ['free-form text inside the window (store)', message({ template: undefined, text: 'Hi' }), { lastInboundAt: NOW - 3600e3 }, 'send', 'ok'],
    ['marketing to a user Meta capped 2h ago', message({ template: { name: 'spring_sale', language: 'en_US', params: ['20%'] } }), { cappedAt: NOW - 2 * 3600e3 }, 'defer', 'marketing_capped'],
    ['marketing to a user Meta capped 25h ago', message({ template: { name: 'spring_sale', language: 'en_US', params: ['20%'] } }), { cappedAt: NOW - 25 * 3600e3 }, 'send', 'ok'],
  ])('%s', (_, m, recipient, verdict, reason) => {
    const d = decide(m, recipient);
    expect([d.decision, d.reason]).toEqual([verdict, reason]);
    if (d.decision !== 'send') expect(d.detail).not.toBe('');
  });

  it('one id, one recipient: a later row with an earlier row\'s id and another number is blocked as duplicate_id', () => {
    const plan = new Plan(NOW, 80, 0);
    const run = (m: Message) => {
      const d = decide(m, {}, plan);
      plan.record(m, d);
      return [d.decision, d.reason];
    };
    expect(run(message({ id: 'c-7' }))).toEqual(['send', 'ok']);
    expect(run(message({ id: 'c-7', number: '+62 813 1122 3344' }))).toEqual(['block', 'duplicate_id']);
    expect(decide(message({ id: 'c-7', number: '+62 813 1122 3344' }), {}, plan).detail).toMatch(/already used in this file for \+6281234567890/);
    // the first row's number keeps the id: its other messages are judged as usual
    expect(run(message({ id: 'c-7', template: { name: 'spring_sale', language: 'en_US', params: ['20%'] } }))).toEqual(['defer', 'pair_rate']);
    expect(run(message({ id: 'c-8', number: '+62 813 1122 3344' }))).toEqual(['send', 'ok']);
    // ids are compared whole: many of them, none confused with another
    for (let i = 0; i < 50_000; i++) expect(plan.idOwner(`row-${i}`)).toBeUndefined();
  });

  it('utility to a user who opted out of marketing only still goes', () => {
    expect(decide(message(), { optedOut: { scope: 'marketing', detail: 'x' } }).decision).toBe('send');
  });

  it('without a templates file, the category comes from the row or --category', () => {
    const noTemplates = { ...CONFIG, templates: undefined };
    const unknown = message({ number: '+1 415 555 2671', template: { name: 'whatever', language: 'en_US', params: [] } });
    expect(decide(unknown, {}, undefined, noTemplates).decision).toBe('send');
    expect(decide({ ...unknown, category: 'marketing' }, {}, undefined, noTemplates).reason).toBe('us_marketing_blocked');
    expect(decide(unknown, {}, undefined, { ...noTemplates, defaultCategory: 'marketing' }).reason).toBe('us_marketing_blocked');
  });

  it('an empty template parameter is refused for its row (Meta\'s 131008 would stop the template\'s rows)', () => {
    const d = decide(message({ template: { name: 'order_update', language: 'en_US', params: ['A-1', ' '] } }));
    expect([d.reason, d.detail]).toEqual(['template_params_mismatch', 'parameter 2 of template order_update is empty: Meta refuses an empty parameter (131008)']);
    expect(decide(message({ template: { name: 'whatever', language: 'en_US', params: [''] } }), {}, undefined, { ...CONFIG, templates: undefined }).reason).toBe('template_params_mismatch');
  });

  it('a known template\'s own category wins over the row\'s (or an agent\'s)', () => {
    const sale = message({ number: '+1 415 555 2671', template: { name: 'spring_sale', language: 'en_US', params: ['20%'] }, category: 'utility' });
    expect(decide(sale).reason).toBe('us_marketing_blocked');
    expect(decide({ ...sale, to: message().to }, { optedOut: { scope: 'marketing', detail: 'x' } }).reason).toBe('opted_out');
    expect(decide({ ...sale, to: message().to }).category).toBe('marketing');
  });

  it('marketing_capped says when it may go', () => {
    const d = decide(message({ template: { name: 'spring_sale', language: 'en_US', params: ['x'] } }), { cappedAt: NOW - 2 * 3600e3 });
    expect(d.notBefore).toBe(NOW - 2 * 3600e3 + DAY_MS);
  });
});

describe('the gate: a template status Meta announced by webhook', () => {
  const PROMO = { name: 'spring_sale', language: 'en_US', params: ['20%'] };
  const announced = (event: string, disableAt?: number): GateConfig => ({ ...CONFIG, templateStatus: new Map([['spring_sale:en_US', { event, disableAt }]]) });
  it.each<[string, GateConfig, string, string]>([
    ['APPROVED: sent', announced('APPROVED'), 'send', 'ok'],
    ['FLAGGED, to be disabled in a week: still sent (a quality warning)', announced('FLAGGED', NOW + 7 * DAY_MS), 'send', 'ok'],
    ['FLAGGED without a disable date: still sent', announced('FLAGGED'), 'send', 'ok'],
    ['FLAGGED, its disable date passed: blocked', announced('FLAGGED', NOW - 1000), 'block', 'template_not_approved'],
    ['PAUSED: blocked', announced('PAUSED'), 'block', 'template_not_approved'],
    ['DISABLED: blocked', announced('DISABLED'), 'block', 'template_not_approved'],
    ['REJECTED: blocked', announced('REJECTED'), 'block', 'template_not_approved'],
    ['PENDING: blocked', announced('PENDING'), 'block', 'template_not_approved'],
    ['PENDING_DELETION: blocked', announced('PENDING_DELETION'), 'block', 'template_not_approved'],
  ])('%s', (_, config, verdict, reason) => {
    const d = decide(message({ template: PROMO }), {}, new Plan(NOW, 80, 0), config);
    expect([d.decision, d.reason]).toEqual([verdict, reason]);
  });

  it('a templates file that lists a template as FLAGGED: sent', () => {
    const flagged = templates([{ name: 'spring_sale', language: 'en_US', category: 'marketing', status: 'FLAGGED', params: 1 }]);
    expect(decide(message({ template: { name: 'spring_sale', language: 'en_US', params: ['20%'] } }), {}, new Plan(NOW, 80, 0), { ...CONFIG, templates: flagged }).decision).toBe('send');
  });

  it('says when a FLAGGED template was disabled', () => {
    const d = decide(message({ template: PROMO }), {}, new Plan(NOW, 80, 0), announced('FLAGGED', Date.parse('2026-11-20T00:00:00Z')));
    expect(d.detail).toBe('template spring_sale (en_US) is flagged (disabled since 2026-11-20T00:00:00.000Z), as a template status webhook said');
  });
});

describe('the gate: precedence when several apply', () => {
  it.each<[string, Message, RecipientState, string]>([
    ['a bad number beats missing content', message({ number: 'abc', template: undefined }), {}, 'invalid_number'],
    ['missing content beats the blacklist', message({ template: undefined }), { blacklisted: 'x' }, 'missing_content'],
    ['an unknown template beats the blacklist', message({ template: { name: 'nope', language: 'en_US', params: [] } }), { blacklisted: 'x' }, 'unknown_template'],
    ['the blacklist beats an opt-out', message(), { blacklisted: 'x', optedOut: { scope: 'all', detail: 'y' } }, 'blacklisted'],
    ['an opt-out beats not on WhatsApp', message(), { optedOut: { scope: 'all', detail: 'y' }, notOnWhatsApp: 'z' }, 'opted_out'],
    ['not on WhatsApp beats the US marketing block', message({ number: '+1 415 555 2671', template: { name: 'spring_sale', language: 'en_US', params: ['x'] } }), { notOnWhatsApp: 'z' }, 'not_on_whatsapp'],
    ['the US marketing block beats the marketing cap', message({ number: '+1 415 555 2671', template: { name: 'spring_sale', language: 'en_US', params: ['x'] } }), { cappedAt: NOW }, 'us_marketing_blocked'],
  ])('%s', (_, m, recipient, reason) => {
    expect(decide(m, recipient).reason).toBe(reason);
  });
});

describe('the gate with the campaign plan', () => {
  it('blocks the same message to the same user, spaces different ones by the pair interval', () => {
    const plan = new Plan(NOW, 80, 0);
    const first = message();
    const d1 = decide(first, {}, plan);
    const at1 = plan.record(first, d1)!;
    expect(d1.decision).toBe('send');
    expect(decide(message(), {}, plan).reason).toBe('duplicate_message');
    const other = message({ template: { name: 'order_update', language: 'en_US', params: ['A-2', 'today'] } });
    const d2 = decide(other, {}, plan);
    expect([d2.decision, d2.reason, d2.notBefore]).toEqual(['defer', 'pair_rate', at1 + 6000]);
    expect(plan.record(other, d2)).toBe(at1 + 6000);
    // Another user is not affected.
    expect(decide(message({ number: '+62 813 1122 3344' }), {}, plan).decision).toBe('send');
  });

  it('defers new conversations beyond the tier, counting what the store already saw', () => {
    const plan = new Plan(NOW, 80, 248); // 248 users reached in the last 24h
    const users = ['+62 812 0000 0001', '+62 812 0000 0002', '+62 812 0000 0003'];
    const decisions = users.map((n) => {
      const m = message({ number: n });
      const d = decide(m, {}, plan);
      plan.record(m, d);
      return d.reason;
    });
    expect(decisions).toEqual(['ok', 'ok', 'tier_limit']);
    // Users inside a care window, or already in a conversation, open nothing new.
    expect(decide(message({ number: '+62 812 0000 0004', lastInboundAt: NOW - 1000 }), {}, plan).decision).toBe('send');
    expect(decide(message({ number: '+62 812 0000 0005' }), { conversationAt: NOW - 3600e3 }, plan).decision).toBe('send');
    expect(decide(message({ number: '+62 812 0000 0001', template: { name: 'order_update', language: 'en_US', params: ['B', 'c'] } }), {}, plan).reason).toBe('pair_rate');
  });

  it('plans sends at --mps', () => {
    const plan = new Plan(NOW, 10, 0);
    const times = [1, 2, 3].map((i) => {
      const m = message({ number: `+62 812 0000 000${i}` });
      return plan.record(m, decide(m, {}, plan))! - NOW;
    });
    expect(times).toEqual([0, 100, 200]);
  });
});
