import { isPlainObject } from '../input/records.js';
import { numberList } from '../phone.js';

/**
 * The numbers a phone cell lists, in order, or undefined when it holds one
 * (or none): a structured JSON value, or text listing numbers (numberList).
 */
export function cellNumbers(value: unknown): string[] | undefined {
  if (typeof value === 'object' && value !== null) return listedNumbers(value);
  return typeof value === 'string' ? numberList(value) : undefined;
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
