import type { Message } from '../gate/gate.js';

/** The Cloud API body for a row: `to` always with its `+`, so Meta never guesses a country. */
export function messageBody(message: Message, cachedWaId: string | undefined): Record<string, unknown> {
  const to = '+' + (cachedWaId ?? (message.to as { waId: string }).waId);
  if (message.template) {
    const { name, language, params } = message.template;
    return {
      messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'template',
      template: {
        name, language: { code: language },
        ...(params.length ? { components: [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }] } : {}),
      },
    };
  }
  return { messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { preview_url: false, body: message.text } };
}
