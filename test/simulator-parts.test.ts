import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { routeOf } from '../src/simulator/http.js';
import { SecondCounter } from '../src/simulator/state.js';
import { peak } from '../src/simulator/stats.js';
import { WebhooksOut } from '../src/simulator/webhooks-out.js';

describe('simulator parts', () => {
  it('routes requests under the names they are counted by', () => {
    expect(routeOf('GET', '/healthz')).toEqual({ name: 'healthz' });
    expect(routeOf('POST', '/healthz')).toEqual({ name: 'other' });
    expect(routeOf('GET', '/v21.0/123/message_templates')).toEqual({ name: 'templates' });
    expect(routeOf('POST', '/v21.0/123/message_templates')).toEqual({ name: 'other' });
    expect(routeOf('GET', '/v1/contacts')).toEqual({ name: 'contacts' });
    expect(routeOf('POST', '/v21.0/100000000000001/messages')).toEqual({ name: 'messages', phoneNumberId: '100000000000001' });
    expect(routeOf('POST', '/v21/abc/messages')).toEqual({ name: 'messages', phoneNumberId: 'abc' });
    expect(routeOf('POST', '/_sim/anything')).toEqual({ name: 'control' });
    expect(routeOf('GET', '/nope')).toEqual({ name: 'other' });
  });

  it('counts requests per second, starting again each second', () => {
    const counter = new SecondCounter();
    expect([0, 10, 999].map((t) => counter.add(t))).toEqual([1, 2, 3]);
    expect([1000, 1500, 3000].map((t) => counter.add(t))).toEqual([1, 2, 1]);
  });

  it('finds the busiest sliding one-second window', () => {
    expect(peak([])).toBe(0);
    expect(peak([0, 500, 999, 1000, 1001, 1002])).toBe(5);
    expect(peak([0, 1000, 2000])).toBe(1);
  });

  it('POSTs each webhook signed with the app secret, and reports a failed POST', async () => {
    const bodies: { signature: unknown; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { bodies.push({ signature: req.headers['x-hub-signature-256'], body }); res.end(); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    let failed = 0;
    const hooks = new WebhooksOut({ webhooksOut: undefined, webhooksUrl: url, appSecret: 's3cret' }, () => 1_767_225_600_000, () => failed++);
    hooks.status({ id: 'wamid.X', recipient: '6281234567890', state: 'sent', callback: 'cb' }, '100');
    await hooks.settled();
    server.close();
    const [{ signature, body }] = bodies as [{ signature: unknown; body: string }];
    expect(signature).toBe('sha256=' + createHmac('sha256', 's3cret').update(body).digest('hex'));
    expect(JSON.parse(body).entry[0].changes[0].value).toEqual({
      messaging_product: 'whatsapp', metadata: { display_phone_number: '15550000000', phone_number_id: '100' },
      statuses: [{ id: 'wamid.X', status: 'sent', timestamp: '1767225600', recipient_id: '6281234567890', biz_opaque_callback_data: 'cb' }],
    });

    const unreachable = new WebhooksOut({ webhooksOut: undefined, webhooksUrl: 'http://127.0.0.1:1/x', appSecret: undefined }, Date.now, () => failed++);
    unreachable.inbound('6281234567890', 0, 'hi', '100');
    await unreachable.settled();
    expect(failed).toBe(1);
  });
});
