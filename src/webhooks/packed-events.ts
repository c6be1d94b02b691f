import { STATUSES, type Event } from './payload.js';

/**
 * A batch's events as a few arrays and one string, which cross to another
 * thread several times faster than the objects (whose structured clone was a
 * twentieth of an ingest's main thread). Each event: a form (kind and its
 * word, status or choice), a time, a number (a status's code, a template's
 * disable date; NaN: none) and up to three strings
 * (length -1: none) cut from `text`.
 */
export interface PackedEvents {
  forms: Uint8Array;
  at: Float64Array;
  codes: Float64Array;
  lengths: Int32Array;
  text: string;
}

const INBOUND = 0, INBOUND_STOP = 1, INBOUND_START = 2, STATUS_FORM = 3 /* + the status's index */;
const PREFERENCE_STOP = STATUS_FORM + STATUSES.length, PREFERENCE_RESUME = PREFERENCE_STOP + 1, TEMPLATE = PREFERENCE_STOP + 2, CHANGED_NUMBER = PREFERENCE_STOP + 3;

export function packEvents(events: readonly Event[]): PackedEvents {
  const n = events.length;
  const packed = { forms: new Uint8Array(n), at: new Float64Array(n), codes: new Float64Array(n).fill(NaN), lengths: new Int32Array(3 * n).fill(-1), text: '' };
  const parts: string[] = [];
  const strings = (i: number, ...texts: (string | undefined)[]): void => {
    texts.forEach((t, j) => {
      if (t === undefined) return;
      packed.lengths[3 * i + j] = t.length;
      parts.push(t);
    });
  };
  events.forEach((e, i) => {
    packed.at[i] = e.at;
    switch (e.kind) {
      case 'inbound':
        packed.forms[i] = e.word === 'stop' ? INBOUND_STOP : e.word === 'start' ? INBOUND_START : INBOUND;
        strings(i, e.id, e.waId);
        break;
      case 'status':
        packed.forms[i] = STATUS_FORM + STATUSES.indexOf(e.status);
        if (e.code !== undefined) packed.codes[i] = e.code;
        strings(i, e.id, e.waId, e.callback);
        break;
      case 'preference':
        packed.forms[i] = e.stop ? PREFERENCE_STOP : PREFERENCE_RESUME;
        strings(i, e.waId);
        break;
      case 'template':
        packed.forms[i] = TEMPLATE;
        if (e.disableAt !== undefined) packed.codes[i] = e.disableAt;
        strings(i, e.name, e.language, e.event);
        break;
      case 'changed_number':
        packed.forms[i] = CHANGED_NUMBER;
        strings(i, e.id, e.waId, e.newWaId);
        break;
    }
  });
  packed.text = parts.join('');
  return packed;
}

export function unpackEvents(packed: PackedEvents): Event[] {
  const { forms, at, codes, lengths, text } = packed;
  const events = new Array<Event>(forms.length);
  let from = 0;
  const next = (k: number): string | undefined => {
    const length = lengths[k]!;
    if (length < 0) return undefined;
    from += length;
    return text.slice(from - length, from);
  };
  for (let i = 0; i < forms.length; i++) {
    const form = forms[i]!;
    const k = 3 * i;
    if (form <= INBOUND_START) {
      events[i] = { kind: 'inbound', id: next(k)!, waId: next(k + 1)!, at: at[i]!, word: form === INBOUND_STOP ? 'stop' : form === INBOUND_START ? 'start' : undefined };
    } else if (form < PREFERENCE_STOP) {
      const code = codes[i]!;
      events[i] = { kind: 'status', id: next(k)!, status: STATUSES[form - STATUS_FORM]!, waId: next(k + 1)!, at: at[i]!, callback: next(k + 2), code: Number.isNaN(code) ? undefined : code };
    } else if (form < TEMPLATE) {
      events[i] = { kind: 'preference', waId: next(k)!, at: at[i]!, stop: form === PREFERENCE_STOP };
    } else if (form === TEMPLATE) {
      const disableAt = codes[i]!;
      events[i] = { kind: 'template', name: next(k)!, language: next(k + 1)!, event: next(k + 2)!, at: at[i]!, disableAt: Number.isNaN(disableAt) ? undefined : disableAt };
    } else {
      events[i] = { kind: 'changed_number', id: next(k)!, waId: next(k + 1)!, newWaId: next(k + 2)!, at: at[i]! };
    }
  }
  return events;
}
