import { describe, expect, it } from 'vitest';
import { DEFAULT_START_WORDS, DEFAULT_STOP_WORDS, readPayload } from '../src/webhooks/payload.js';
import { learnSettings } from '../src/webhooks/settings.js';

// Replies as users type them, read the way ingest and listen read a message:
// the whole message is a stop (or start) reply however it is typed, and a
// sentence that merely contains one is not.

/** What one text message from a user is read as. */
function wordOf(body: string, stopWords?: string): string | undefined {
  const value = { messages: [{ from: '6281234567890', id: 'wamid.in', timestamp: '1795600000', type: 'text', text: { body } }] };
  const events = readPayload({ entry: [{ changes: [{ field: 'messages', value }] }] }, learnSettings({ stopWords }), { ignored: 0 });
  const e = events[0]!;
  return e.kind === 'inbound' ? e.word : undefined;
}

describe('stop and start replies', () => {
  it.each<[string, 'stop' | 'start' | undefined]>([
    // English, however typed
    ['STOP', 'stop'],
    ['stop', 'stop'],
    ['Stop!', 'stop'],
    ['STOP.', 'stop'],
    ['  stop  ', 'stop'],
    ['ＳＴＯＰ', 'stop'], // full-width
    ['stop\u200B', 'stop'], // a zero-width space after it
    ['\uFEFFStop', 'stop'], // a BOM before it
    ['S T O P', 'stop'],
    ['s.t.o.p', 'stop'],
    ['STOP 🛑', 'stop'],
    ['Stop all', 'stop'],
    ['unsubscribe', 'stop'],
    ['Unsubscribe.', 'stop'],
    ['opt out', 'stop'],
    ['opt-out', 'stop'],
    ['Opt Out!', 'stop'],
    ['please stop', 'stop'],
    ['Stop please', 'stop'],
    ['cancel', 'stop'],
    ['quit', 'stop'],
    ['Remove me', 'stop'],
    // Indonesian
    ['berhenti', 'stop'],
    ['Berhenti berlangganan', 'stop'],
    ['jangan kirim lagi', 'stop'],
    // Spanish
    ['baja', 'stop'],
    ['Dar de baja', 'stop'],
    ['No más', 'stop'],
    ['no mas', 'stop'],
    ['PARAR', 'stop'],
    // Portuguese
    ['Pare', 'stop'],
    ['sair', 'stop'],
    ['Não quero mais', 'stop'],
    ['descadastrar', 'stop'],
    // Hindi and Hinglish
    ['बंद करो', 'stop'],
    ['band karo', 'stop'],
    ['mat bhejo', 'stop'],
    // Arabic (with and without the hamza)
    ['توقف', 'stop'],
    ['إلغاء الاشتراك', 'stop'],
    ['الغاء', 'stop'],
    // Start replies
    ['START', 'start'],
    [' start ', 'start'],
    ['Start!', 'start'],
    ['unstop', 'start'],
    ['mulai', 'start'],
    ['शुरू', 'start'],
    // Not an opt-out: sentences that contain a stop word, and everyday replies
    ["don't stop the offers", undefined],
    ['When does the sale stop?', undefined],
    ['stop sending me the wrong size lol, I need an L', undefined],
    ['Can I cancel my order?', undefined],
    ['Hi, is my order ready?', undefined],
    ['Yes please', undefined],
    ['ok', undefined],
    ['Thank you!', undefined],
    ['Bus stop 5', undefined],
    ['stopwatch', undefined],
    ['terima kasih', undefined],
    ['¿Cuándo llega mi pedido?', undefined],
    ['🛑', undefined],
    ['', undefined],
    ['start the order please', undefined],
  ])('%j -> %s', (body, word) => {
    expect(wordOf(body)).toBe(word);
  });

  it('--stop-words replaces the list and "+WORD,…" adds to it, normalized the same way', () => {
    expect(wordOf('Halt!', 'halt')).toBe('stop');
    expect(wordOf('STOP', 'halt')).toBeUndefined();
    expect(wordOf('ｈａｌｔ', '+HALT, Não mais')).toBe('stop');
    expect(wordOf('nao mais', '+HALT, Não mais')).toBe('stop');
    expect(wordOf('Stop!', '+HALT')).toBe('stop');
  });

  it('no reply is both a stop and a start', () => {
    expect([...DEFAULT_STOP_WORDS].filter((w) => DEFAULT_START_WORDS.has(w))).toEqual([]);
  });
});
