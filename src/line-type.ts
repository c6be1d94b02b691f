import { Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * What kind of line a valid number is (libphonenumber's number types, from
 * the 'max' metadata, as phone.ts loads it), as written in the line_type
 * column. `unknown`: a valid number of no type (non-geographic numbers).
 */
export const LINE_TYPES = [
  'unknown', 'mobile', 'fixed_line', 'fixed_line_or_mobile', 'voip', 'toll_free', 'premium_rate', 'shared_cost',
  'personal_number', 'pager', 'uan', 'voicemail',
] as const;
export type LineType = (typeof LINE_TYPES)[number];

/** An index into LINE_TYPES (what the workers pass back per row). */
export type LineTypeCode = number;
const MOBILE: LineTypeCode = LINE_TYPES.indexOf('mobile');
const FIXED_LINE_OR_MOBILE: LineTypeCode = LINE_TYPES.indexOf('fixed_line_or_mobile');

/** Whether WhatsApp can live on the line: a mobile, or a number the metadata cannot tell from one. */
export function isMobileType(code: LineTypeCode): boolean {
  return code === MOBILE || code === FIXED_LINE_OR_MOBILE;
}

/** The types after FIXED_LINE, in the order libphonenumber tries them. */
const OTHER_TYPES = ['MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'] as const;

/** The parts of libphonenumber-js's Metadata class this module reads (its runtime API; its typings show less). */
interface NumberingPlan {
  nationalNumberPattern(): string;
  leadingDigits(): string | undefined;
  type(name: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
}
interface MetadataApi {
  hasCallingCode(code: string): boolean;
  getCountryCodesForCallingCode(code: string): string[] | undefined;
  selectNumberingPlan(country: string): void;
  numberingPlan: NumberingPlan;
}

interface TypePattern { code: LineTypeCode; lengths: number[] | undefined; pattern: RegExp }
interface Plan {
  leadingDigits: RegExp | undefined;
  national: RegExp;
  fixedLine: TypePattern | undefined;
  /** The metadata has no mobile pattern of its own: a fixed line may as well be a mobile. */
  mobileAsFixed: boolean;
  mobile: TypePattern | undefined;
  others: TypePattern[];
}

const whole = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);

function compilePlan(plan: NumberingPlan): Plan {
  const typePattern = (name: string): TypePattern | undefined => {
    const type = plan.type(name);
    const pattern = type?.pattern();
    if (!type || !pattern) return undefined;
    return { code: LINE_TYPES.indexOf(name.toLowerCase() as LineType), lengths: type.possibleLengths(), pattern: whole(pattern) };
  };
  const leading = plan.leadingDigits();
  return {
    leadingDigits: leading ? new RegExp(`^(?:${leading})`) : undefined,
    national: whole(plan.nationalNumberPattern()),
    fixedLine: typePattern('FIXED_LINE'),
    mobileAsFixed: !plan.type('MOBILE')?.pattern(),
    mobile: typePattern('MOBILE'),
    others: OTHER_TYPES.flatMap((name) => typePattern(name) ?? []),
  };
}

const matches = (type: TypePattern | undefined, national: string): boolean =>
  type !== undefined && (!type.lengths || type.lengths.includes(national.length)) && type.pattern.test(national);

/** libphonenumber's getNumberType for a national number in one numbering plan; undefined: no type. */
function typeIn(plan: Plan, national: string): LineTypeCode | undefined {
  if (!plan.national.test(national)) return undefined;
  if (matches(plan.fixedLine, national)) {
    return plan.mobileAsFixed || matches(plan.mobile, national) ? FIXED_LINE_OR_MOBILE : LINE_TYPES.indexOf('fixed_line');
  }
  return plan.others.find((type) => matches(type, national))?.code;
}

/**
 * Types numbers as libphonenumber-js's PhoneNumber.getType() does, from the
 * same metadata, but with each plan's patterns compiled once: getType builds
 * a RegExp for every pattern it tries, which cost more than reading the number.
 */
class LineTyper {
  private readonly metadata = new Metadata() as unknown as MetadataApi;
  /** The plans of each calling code's countries, main country first. */
  private readonly plans = new Map<string, Plan[] | undefined>();

  type(e164: string): LineTypeCode {
    const digits = e164.startsWith('+') ? e164.slice(1) : e164;
    for (let length = 1; length <= 3; length++) {
      const plans = this.plansOf(digits.slice(0, length));
      if (plans) return this.typeAmong(plans, digits.slice(length)) ?? LINE_TYPES.indexOf('unknown');
    }
    // Non-geographic numbers (+800, +882, …): rare enough to type the slow way.
    const slow = parsePhoneNumberFromString('+' + digits)?.getType()?.toLowerCase() as LineType | undefined;
    return Math.max(0, LINE_TYPES.indexOf(slow ?? 'unknown'));
  }

  /** As libphonenumber picks the country of a shared calling code: its leading digits, else the first plan that types the number. */
  private typeAmong(plans: Plan[], national: string): LineTypeCode | undefined {
    if (plans.length === 1) return typeIn(plans[0]!, national);
    for (const plan of plans) {
      if (plan.leadingDigits) {
        if (plan.leadingDigits.test(national)) return typeIn(plan, national);
        continue;
      }
      const type = typeIn(plan, national);
      if (type !== undefined) return type;
    }
    return undefined;
  }

  private plansOf(callingCode: string): Plan[] | undefined {
    if (this.plans.has(callingCode)) return this.plans.get(callingCode);
    const countries = this.metadata.getCountryCodesForCallingCode(callingCode);
    const plans = countries?.map((country) => {
      this.metadata.selectNumberingPlan(country);
      return compilePlan(this.metadata.numberingPlan);
    });
    this.plans.set(callingCode, plans);
    return plans;
  }
}

let typer: LineTyper | undefined;

/** The line type of a valid E.164 number (as an index into LINE_TYPES). */
export function lineTypeOf(e164: string): LineTypeCode {
  return (typer ??= new LineTyper()).type(e164);
}
