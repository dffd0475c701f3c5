import { normalizeProviderCode, type ErrorCode, type NormalizedError } from '../../domain/errors.js'

/** Graph API permission errors occupy the whole 200–299 block. */
const PERMISSION_CODES = Object.fromEntries(
  Array.from({ length: 100 }, (_, i) => [String(200 + i), 'config_error' as const]),
) satisfies Record<string, ErrorCode>

/** Lookups by untrusted keys must not find `constructor` or `__proto__` on Object.prototype. */
function withoutPrototype(table: Record<string, ErrorCode>): Readonly<Record<string, ErrorCode>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, ErrorCode>, table))
}

/**
 * Meta error code → normalized code (DESIGN §6, providers/meta.md §3). Cloud API codes plus the
 * legacy On-Premises codes BSPs still relay (470, 471, 472, 1006, 1013…). Anything absent is
 * `unknown`, with Meta's own code and text kept beside it.
 *
 * @example
 * META_ERROR_CODES['131056'] // 'pair_throttled'
 */
export const META_ERROR_CODES: Readonly<Record<string, ErrorCode>> = withoutPrototype({
  ...PERMISSION_CODES,

  // not a WhatsApp number / client too old / unknown contact (legacy)
  '131026': 'recipient_not_on_whatsapp',
  '1013': 'recipient_not_on_whatsapp',
  '1006': 'recipient_not_on_whatsapp',

  // more than 24 h since the user last wrote: only a template may go out
  '131047': 'outside_window',
  '470': 'outside_window',

  // throughput limits of the app, the WABA or the phone number
  '130429': 'throttled',
  '80007': 'throttled',
  '4': 'throttled',
  '133016': 'throttled',
  '471': 'throttled',
  '429': 'throttled',
  '132069': 'throttled',

  // too many messages to this one user: slow only that recipient
  '131056': 'pair_throttled',

  // Meta says "try again"
  '131000': 'transient',
  '131016': 'transient',
  '131053': 'transient',
  '131057': 'transient',
  '135000': 'transient',
  '2': 'transient',
  '1': 'transient',

  '132000': 'template_invalid',
  '132001': 'template_invalid',
  '132005': 'template_invalid',
  '132007': 'template_invalid',
  '132008': 'template_invalid',
  '132012': 'template_invalid',
  '132015': 'template_invalid',
  '132016': 'template_invalid',

  // spam limit, ecosystem engagement, marketing opt-out, experiment, policy block
  '131048': 'policy_rejected',
  '131049': 'policy_rejected',
  '131050': 'policy_rejected',
  '130472': 'policy_rejected',
  '472': 'policy_rejected',
  '368': 'policy_rejected',

  // the business account itself cannot send (locked, unpaid, unregistered, country-restricted)
  '131031': 'account_restricted',
  '131042': 'account_restricted',
  '131044': 'account_restricted',
  '131064': 'account_restricted',
  '133010': 'account_restricted',
  '130497': 'account_restricted',
  '402': 'account_restricted',

  '190': 'auth_failed',
  '0': 'auth_failed',

  '3': 'config_error',
  '10': 'config_error',
  '1005': 'config_error',
  '131005': 'config_error',
  '131030': 'config_error',
  '131037': 'config_error',
  '131045': 'config_error',
  '131063': 'config_error',

  '100': 'invalid_request',
  '131008': 'invalid_request',
  '131009': 'invalid_request',
  '131021': 'invalid_request',
  '131051': 'invalid_request',
  '131062': 'invalid_request',
  '137000': 'invalid_request',

  // "Request for url … failed with error: 404": Meta could not fetch our media link
  '131014': 'media_unreachable',
  '131052': 'media_unreachable',
})

/**
 * Normalizes one Meta error (send response or webhook `errors[]`).
 *
 * @example
 * normalizeMetaError(131026, 'Message undeliverable') // { code: 'recipient_not_on_whatsapp', retryable: false, provider_code: '131026', … }
 */
export function normalizeMetaError(code: string | number | undefined, message?: string): NormalizedError {
  return normalizeProviderCode(META_ERROR_CODES, code, message)
}
