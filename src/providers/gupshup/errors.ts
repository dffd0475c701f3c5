import { errorCodeForHttpStatus, normalizeProviderCode, SendError } from '../../domain/errors.js'
import type { ErrorCode, NormalizedError } from '../../domain/errors.js'
import { table } from './table.js'

/**
 * Gupshup's own failure codes (gupshup.md §3, DESIGN §6). They arrive in `failed` message-events as
 * `payload.payload.code`.
 */
export const GUPSHUP_CODES: Readonly<Record<string, ErrorCode>> = table({
  '500': 'transient',
  // "last mapped bot / sender details mismatch": the app or sandbox is set up wrongly.
  '1001': 'config_error',
  '1002': 'recipient_not_on_whatsapp',
  // Wallet balance low: nothing will go out until the account is topped up.
  '1003': 'account_restricted',
  // 1004/1005/1007/1008: the user is inactive (no open window) and no template applies, so only a
  // real template can reach them.
  '1004': 'outside_window',
  '1005': 'outside_window',
  // 1006: a template to a user who never opted in under Gupshup's legacy opt-in rule.
  '1006': 'policy_rejected',
  '1007': 'outside_window',
  '1008': 'outside_window',
  '1010': 'media_unreachable',
  '1011': 'media_too_large',
  '1012': 'recipient_opted_out',
  '4001': 'throttled',
  '4002': 'transient',
  // "No Template…" (the documented row is truncated).
  '4003': 'template_invalid',
})

/**
 * WhatsApp codes Gupshup passes through in asynchronous failures (legacy On-Premises codes such as
 * 470, and Cloud API codes). Gupshup's own codes win where the numbers overlap.
 */
export const WHATSAPP_CODES: Readonly<Record<string, ErrorCode>> = table({
  '470': 'outside_window',
  '471': 'policy_rejected',
  '472': 'policy_rejected',
  '1013': 'recipient_not_on_whatsapp',
  '1026': 'recipient_not_on_whatsapp',
  '130429': 'throttled',
  '131000': 'transient',
  '131026': 'recipient_not_on_whatsapp',
  '131031': 'account_restricted',
  '131047': 'outside_window',
  '131048': 'policy_rejected',
  '131049': 'policy_rejected',
  '131050': 'policy_rejected',
  '131053': 'transient',
  '131056': 'pair_throttled',
  '132000': 'template_invalid',
  '132001': 'template_invalid',
  '132005': 'template_invalid',
  '132007': 'template_invalid',
  '132012': 'template_invalid',
})

/** Every code a `failed` event can carry. */
export const FAILURE_CODES: Readonly<Record<string, ErrorCode>> = table({ ...WHATSAPP_CODES, ...GUPSHUP_CODES })

/**
 * The send API answers errors with a sentence, not a code (`{"status":"error","message":…}`), so
 * the table is keyed by the lower-cased message.
 */
export const SEND_ERROR_MESSAGES: Readonly<Record<string, ErrorCode>> = table({
  'authentication failed': 'auth_failed',
  'invalid app details': 'config_error',
  'invalid destination': 'invalid_request',
})

/**
 * Normalizes the `code` / `reason` of a `failed` message-event.
 *
 * @example
 * normalizeFailure(1002, 'Number does not exist') // { code: 'recipient_not_on_whatsapp', retryable: false, provider_code: '1002', … }
 */
export function normalizeFailure(code: string | number | undefined, reason: string | undefined): NormalizedError {
  return normalizeProviderCode(FAILURE_CODES, code, reason)
}

/**
 * The SendError for an error answer of the send API: the message table first, then the HTTP status.
 *
 * @example
 * sendErrorFromResponse(401, 'Authentication Failed').code // 'auth_failed'
 */
export function sendErrorFromResponse(httpStatus: number, message: string | undefined, retryAfterMs?: number): SendError {
  const byMessage = message === undefined ? undefined : SEND_ERROR_MESSAGES[message.trim().toLowerCase()]
  const code: ErrorCode = byMessage ?? errorCodeForHttpStatus(httpStatus)
  return new SendError({
    code,
    httpStatus,
    ...(message !== undefined ? { providerMessage: message } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  })
}
