import { z } from 'zod'
import { SendError, errorCodeForHttpStatus, isRetryable, normalizeProviderCode } from '../../domain/errors.js'
import type { ErrorCode, NormalizedError } from '../../domain/errors.js'

/**
 * Sinch error vocabularies mapped to wagate's normalized codes, kept as data (DESIGN §6,
 * sinch.md §1 "HTTP errors" and §4 reason codes).
 */

/** `reason.code` of a FAILED delivery report → normalized code. Unlisted codes become `unknown`. */
export const REASON_CODE_TABLE: Readonly<Record<string, ErrorCode>> = {
  RATE_LIMITED: 'throttled',
  RECIPIENT_NOT_REACHABLE: 'recipient_not_on_whatsapp',
  NO_CHANNEL_IDENTITY_FOR_CONTACT: 'recipient_not_on_whatsapp',
  RECIPIENT_INVALID_CHANNEL_IDENTITY: 'invalid_request',
  RECIPIENT_NOT_OPTED_IN: 'recipient_opted_out',
  OUTSIDE_ALLOWED_SENDING_WINDOW: 'outside_window',
  CHANNEL_FAILURE: 'transient',
  CHANNEL_REJECT: 'transient',
  DELIVERY_TIMED_OUT: 'transient',
  INTERNAL_ERROR: 'transient',
  CHANNEL_BAD_CONFIGURATION: 'config_error',
  CHANNEL_CONFIGURATION_MISSING: 'config_error',
  UNKNOWN_APP: 'config_error',
  INACTIVE_CREDENTIAL: 'auth_failed',
  NO_PERMISSION: 'auth_failed',
  MEDIA_TYPE_UNSUPPORTED: 'media_unsupported',
  MEDIA_TOO_LARGE: 'media_too_large',
  MEDIA_NOT_REACHABLE: 'media_unreachable',
  TEMPLATE_NOT_FOUND: 'template_invalid',
  TEMPLATE_INSUFFICIENT_PARAMETERS: 'template_invalid',
  TEMPLATE_NON_EXISTING_LANGUAGE_OR_VERSION: 'template_invalid',
  DELIVERY_REJECTED_DUE_TO_POLICY: 'policy_rejected',
  BAD_REQUEST: 'invalid_request',
  CONTACT_NOT_FOUND: 'invalid_request',
  UNSUPPORTED_OPERATION: 'invalid_request',
  MESSAGE_SPLIT_REQUIRED: 'text_too_long',
  // Named for completeness; none says whether the recipient or the account is at fault.
  NO_CHANNELS_LEFT: 'unknown',
  MESSAGE_EXPIRED: 'unknown',
  DELIVERY_REPORT_TIME_OUT: 'unknown',
  NO_PROFILE_AVAILABLE: 'unknown',
  UNKNOWN: 'unknown',
}

/** Families of reason codes Sinch may extend (all `TEMPLATE_*` are template problems). */
export const REASON_CODE_PREFIXES: ReadonlyArray<readonly [prefix: string, code: ErrorCode]> = [['TEMPLATE_', 'template_invalid']]

/** `reason.sub_code` values precise enough to override the code's mapping. */
export const REASON_SUB_CODE_TABLE: Readonly<Record<string, ErrorCode>> = {
  INACTIVE_SENDER: 'account_restricted',
  ATTACHMENT_REJECTED: 'media_unsupported',
  MEDIA_TYPE_UNDETERMINED: 'media_unsupported',
}

/** google.rpc `error.status` of a synchronous HTTP error → normalized code. */
export const RPC_STATUS_TABLE: Readonly<Record<string, ErrorCode>> = {
  INVALID_ARGUMENT: 'invalid_request',
  FAILED_PRECONDITION: 'invalid_request',
  OUT_OF_RANGE: 'invalid_request',
  ALREADY_EXISTS: 'invalid_request',
  UNAUTHENTICATED: 'auth_failed',
  PERMISSION_DENIED: 'auth_failed',
  NOT_FOUND: 'config_error',
  RESOURCE_EXHAUSTED: 'throttled',
  UNAVAILABLE: 'transient',
  INTERNAL: 'transient',
  DEADLINE_EXCEEDED: 'transient',
  ABORTED: 'transient',
}

/** HTTP status of a synchronous error when the body names no known RPC status. */
export const HTTP_STATUS_TABLE: Readonly<Record<string, ErrorCode>> = {
  '400': 'invalid_request',
  '401': 'auth_failed',
  '403': 'auth_failed',
  '404': 'config_error',
  '408': 'transient',
  '429': 'throttled',
}

/**
 * Normalizes a delivery report `reason`.
 *
 * @example
 * normalizeReason({ code: 'OUTSIDE_ALLOWED_SENDING_WINDOW', description: '24 hours…' }).code // 'outside_window'
 */
export function normalizeReason(reason: { code?: string; description?: string; sub_code?: string } | undefined): NormalizedError {
  const providerCode = reason?.code || undefined
  const base = normalizeProviderCode(REASON_CODE_TABLE, providerCode, reason?.description || undefined)
  const override = reason?.sub_code && Object.hasOwn(REASON_SUB_CODE_TABLE, reason.sub_code) ? REASON_SUB_CODE_TABLE[reason.sub_code] : undefined
  const byPrefix =
    base.code === 'unknown' && providerCode && !(providerCode in REASON_CODE_TABLE)
      ? REASON_CODE_PREFIXES.find(([prefix]) => providerCode.startsWith(prefix))?.[1]
      : undefined
  const code = override ?? byPrefix
  return code ? { ...base, code, retryable: isRetryable(code) } : base
}

const ErrorBodySchema = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
  }),
})

/** Milliseconds from a `Retry-After` header (seconds or an HTTP date), when present and sane. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

/**
 * Builds the SendError for a non-2xx answer of the Sinch API (or its token endpoint).
 *
 * @example
 * sendErrorFromHttp(400, '{"error":{"code":400,"message":"Invalid argument","status":"INVALID_ARGUMENT"}}', undefined, Date.now()).code
 * // 'invalid_request'
 */
export function sendErrorFromHttp(status: number, bodyText: string, retryAfter: string | undefined, nowMs: number): SendError {
  let rpcStatus: string | undefined
  let message: string | undefined
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(bodyText))
    if (parsed.success) {
      rpcStatus = parsed.data.error.status || undefined
      message = parsed.data.error.message || undefined
    }
  } catch {
    // not JSON (proxy error page…): classify by HTTP status alone
  }
  const code: ErrorCode =
    (rpcStatus !== undefined ? RPC_STATUS_TABLE[rpcStatus] : undefined) ?? HTTP_STATUS_TABLE[String(status)] ?? errorCodeForHttpStatus(status)
  return new SendError({
    code,
    providerCode: rpcStatus ?? status,
    ...(message !== undefined ? { providerMessage: message } : {}),
    httpStatus: status,
    ...(code === 'throttled' || code === 'transient' ? retryAfterField(retryAfter, nowMs) : {}),
  })
}

function retryAfterField(value: string | undefined, nowMs: number): { retryAfterMs?: number } {
  const ms = retryAfterMs(value, nowMs)
  return ms === undefined ? {} : { retryAfterMs: ms }
}
