/**
 * Equivalent numbers (DESIGN §7): WhatsApp knows some people by a form of their number that differs
 * from the one a business writes, by exactly one digit inserted at a fixed place. Pure.
 *
 * - Brazil: a mobile with or without the ninth digit (`+55 35 9 8765-4321` ~ `+55 35 8765-4321`).
 *   Only mobiles: the eight-digit part starts with 6–9, so a landline (`+55 35 3xxx-xxxx`) is
 *   never joined with the mobile that happens to read `9 3xxx-xxxx`.
 * - Mexico: with or without the `1` that once marked mobiles (`+52 1 55 1234 5678` ~ `+52 55 1234 5678`).
 * - Argentina: with or without the mobile `9` (`+54 9 11 2345 6789` ~ `+54 11 2345 6789`).
 *
 * Each rule maps a number to at most one other form and back (an involution), so equivalence is
 * symmetric and a class never has more than two members.
 *
 * @example
 * equivalentNumbers('+5535987654321') // ['+5535987654321', '+553587654321']
 * equivalentNumbers('553587654321')   // ['+553587654321', '+5535987654321']
 * areEquivalent('+5215512345678', '525512345678') // true
 */
export interface EquivalenceRule {
  country: 'BR' | 'MX' | 'AR'
  /** Country calling code digits. */
  callingCode: string
  /** The digit WhatsApp may add or drop. */
  digit: string
  /** Where, counted in digits of the national number. */
  at: number
  /** The short national number (without the digit) this rule applies to. */
  shortNational: RegExp
}

export const EQUIVALENCE_RULES: readonly EquivalenceRule[] = [
  { country: 'BR', callingCode: '55', digit: '9', at: 2, shortNational: /^[1-9][1-9][6-9]\d{7}$/ },
  { country: 'MX', callingCode: '52', digit: '1', at: 0, shortNational: /^[2-9]\d{9}$/ },
  { country: 'AR', callingCode: '54', digit: '9', at: 0, shortNational: /^[1-3]\d{9}$/ },
]

/** The other form of a number under one rule, as digits, or undefined when the rule does not apply. */
function alternativeUnder(rule: EquivalenceRule, digits: string): string | undefined {
  if (!digits.startsWith(rule.callingCode)) return undefined
  const national = digits.slice(rule.callingCode.length)
  if (rule.shortNational.test(national)) {
    return rule.callingCode + national.slice(0, rule.at) + rule.digit + national.slice(rule.at)
  }
  if (national[rule.at] !== rule.digit) return undefined
  const short = national.slice(0, rule.at) + national.slice(rule.at + 1)
  return rule.shortNational.test(short) ? rule.callingCode + short : undefined
}

function digitsOnly(value: string): string | undefined {
  const digits = value.trim().replace(/^\+/, '')
  return /^\d{6,20}$/.test(digits) ? digits : undefined
}

/**
 * The number (E.164 with `+`, or wa_id digits) and its equivalent forms, as E.164 with `+`, the
 * given number first. Anything that is not a plain number yields an empty list.
 *
 * @example
 * equivalentNumbers('+14155550123') // ['+14155550123']
 * equivalentNumbers('US.1234')      // []
 */
export function equivalentNumbers(value: string): string[] {
  const digits = digitsOnly(value)
  if (!digits) return []
  const out = [`+${digits}`]
  for (const rule of EQUIVALENCE_RULES) {
    const alt = alternativeUnder(rule, digits)
    if (alt !== undefined && !out.includes(`+${alt}`)) out.push(`+${alt}`)
  }
  return out
}

/**
 * Whether two numbers (E.164 or digits) name the same WhatsApp user: equal, or one is the other's
 * equivalent form.
 *
 * @example
 * areEquivalent('+5491123456789', '+541123456789') // true
 * areEquivalent('+5535987654321', '+5535987654320') // false
 */
export function areEquivalent(a: string, b: string): boolean {
  const db = digitsOnly(b)
  if (db === undefined) return false
  return equivalentNumbers(a).includes(`+${db}`)
}
