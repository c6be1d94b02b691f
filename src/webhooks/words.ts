// The replies that opt a user out (or back in), for the languages of the
// countries wa-guard's users send to. A reply is an opt-out only when the whole
// message is one of them, however it is typed: "Stop!", "ＳＴＯＰ", "S T O P"
// and "stop" followed by a zero-width space all read as STOP, while
// "don't stop the offers" is a sentence, not an opt-out.

/** Stop replies by language: each list is written here once, in the form users type it. */
export const STOP_WORDS: Readonly<Record<string, readonly string[]>> = {
  en: ['STOP', 'STOP ALL', 'UNSUBSCRIBE', 'UNSUB', 'END', 'QUIT', 'CANCEL', 'OPT OUT', 'OPT-OUT', 'STOP PLEASE', 'PLEASE STOP', 'REMOVE ME', 'STOP MESSAGING ME', 'STOP SENDING'],
  id: ['BERHENTI', 'BERHENTI BERLANGGANAN', 'STOP KIRIM', 'JANGAN KIRIM LAGI', 'HENTIKAN', 'KELUAR'],
  es: ['BAJA', 'DAR DE BAJA', 'DARME DE BAJA', 'PARAR', 'ALTO', 'CANCELAR', 'NO MÁS', 'NO MAS MENSAJES', 'NO MÁS MENSAJES'],
  pt: ['PARAR', 'PARE', 'SAIR', 'CANCELAR', 'DESCADASTRAR', 'NÃO QUERO MAIS', 'NÃO ENVIE MAIS'],
  hi: ['बंद', 'बंद करो', 'बंद करें', 'रोको', 'मत भेजो', 'BAND', 'BAND KARO', 'BAND KAREN', 'MAT BHEJO', 'RUKO'],
  ar: ['توقف', 'إيقاف', 'ايقاف', 'الغاء', 'إلغاء', 'إلغاء الاشتراك', 'ستوب', 'لا ترسل'],
};

/** Start replies by language: they lift an opt-out made by a stop reply. */
export const START_WORDS: Readonly<Record<string, readonly string[]>> = {
  en: ['START', 'UNSTOP', 'SUBSCRIBE', 'RESUME'],
  id: ['MULAI', 'BERLANGGANAN'],
  es: ['ALTA', 'REANUDAR'],
  pt: ['VOLTAR', 'RETOMAR'],
  hi: ['शुरू', 'शुरू करो', 'SHURU', 'SHURU KARO'],
  ar: ['ابدأ', 'اشتراك'],
};

/** Longer replies are sentences: no reply above is this long, even spaced out. */
const MAX_REPLY = 64;
/** Invisible characters: zero-width spaces and joiners, the BOM, soft hyphens, bidi marks, variation selectors. */
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF\uFE00-\uFE0F]/gu;
/** What is ignored between letters: spaces, punctuation, symbols (emoji) and combining marks (accents, harakat). */
const IGNORED = /[\s\p{P}\p{S}\p{M}]/gu;

/**
 * A reply as it is compared: compatibility forms folded (full-width,
 * ligatures), upper case, invisible characters, spaces, punctuation and
 * accents removed. "Opt-out", "OPT OUT" and "opt out." are all "OPTOUT".
 */
export function normalizeReply(text: string): string {
  if (text.length > MAX_REPLY) return '';
  return text.normalize('NFKC').replace(INVISIBLE, '').toUpperCase().normalize('NFD').replace(IGNORED, '');
}

/** Every language's words, normalized: the set a reply is looked up in. */
export function wordSet(table: Readonly<Record<string, readonly string[]>>): Set<string> {
  return new Set(Object.values(table).flat().map(normalizeReply));
}

/** Words as --stop-words gives them ("PARAR,BERHENTI"), normalized; empty ones dropped. */
export function parseWords(text: string): string[] {
  return text.split(',').map(normalizeReply).filter(Boolean);
}
