import { isPlainObject } from '../input/records.js';

/** What exports put between the numbers of one field: Google Contacts' " ::: ", ";", "|", ",", "/", a line break. */
const SEPARATOR = /\s*(?::::|[;|,/\n\r])\s*/;
const MAY_HOLD_SEPARATOR = /[:;|,/\n\r]/;
/** Digits of any script (full-width ones too). */
const DIGITS = /\p{Nd}/gu;

/**
 * The numbers a phone cell lists, in order, or undefined when it holds one
 * (or none): a structured JSON value, or text with two or more numbers (six
 * digits or more each) joined by a separator. "021/5550202" is one number.
 */
export function cellNumbers(value: unknown): string[] | undefined {
  if (typeof value === 'object' && value !== null) return listedNumbers(value);
  if (typeof value !== 'string' || !MAY_HOLD_SEPARATOR.test(value)) return undefined;
  const parts = value.split(SEPARATOR).filter((part) => part.trim() !== '');
  return parts.filter((part) => (part.match(DIGITS)?.length ?? 0) >= 6).length > 1 ? parts : undefined;
}

/**
 * The numbers in a structured JSON cell: a list of strings, or of objects
 * whose `value` (`number`, `phone`) is one, as CRM APIs write them; one
 * marked `primary` first. Anything else holds no number.
 */
function listedNumbers(value: object): string[] {
  const items = Array.isArray(value) ? value : [value];
  const numbers: string[] = [];
  for (const item of items) {
    const text = typeof item === 'string' || typeof item === 'number' ? String(item)
      : isPlainObject(item) ? [item.value, item.number, item.phone].find((v) => typeof v === 'string' || typeof v === 'number') : undefined;
    if (text === undefined || String(text).trim() === '') continue;
    if (isPlainObject(item) && item.primary === true) numbers.unshift(String(text));
    else numbers.push(String(text));
  }
  return numbers;
}
