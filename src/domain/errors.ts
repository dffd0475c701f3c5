/**
 * The closed set of normalized send-error codes (DESIGN §6). Every provider code maps to one of
 * these; the provider's own code and text are kept beside it on the message.
 *
 * @example
 * ERROR_KINDS.throttled.retryable // true
 */
export const ERROR_KINDS = {
  recipient_not_on_whatsapp: { retryable: false, action: 'mark_urn_unreachable' },
  outside_window: { retryable: false, action: 'needs_template' },
  recipient_opted_out: { retryable: false, action: 'stop_contact' },
  throttled: { retryable: true, action: 'slow_account' },
  pair_throttled: { retryable: true, action: 'slow_recipient' },
  transient: { retryable: true, action: 'retry' },
  media_unsupported: { retryable: false, action: 'give_up' },
  media_too_large: { retryable: false, action: 'give_up' },
  media_unreachable: { retryable: false, action: 'give_up' },
  text_too_long: { retryable: false, action: 'give_up' },
  template_invalid: { retryable: false, action: 'fix_template' },
  policy_rejected: { retryable: false, action: 'give_up' },
  account_restricted: { retryable: false, action: 'account_unhealthy' },
  auth_failed: { retryable: false, action: 'account_unhealthy' },
  config_error: { retryable: false, action: 'account_unhealthy' },
  invalid_request: { retryable: false, action: 'give_up' },
  contact_blocked: { retryable: false, action: 'give_up' },
  stash_expired: { retryable: false, action: 'give_up' },
  recipient_declined: { retryable: false, action: 'give_up' },
  retries_exhausted: { retryable: false, action: 'give_up' },
  unknown: { retryable: false, action: 'give_up' },
} as const satisfies Record<string, { retryable: boolean; action: string }>

export type ErrorCode = keyof typeof ERROR_KINDS
export type ErrorAction = (typeof ERROR_KINDS)[ErrorCode]['action']

export const ERROR_CODES = Object.keys(ERROR_KINDS) as ErrorCode[]

/** Which limiter a throttling error should slow down. */
export type ThrottleScope = 'account' | 'recipient'

/** A normalized error as stored on a message and shown in the API and in events. */
export interface NormalizedError {
  code: ErrorCode
  retryable: boolean
  provider_code?: string
  provider_message?: string
}

export function isRetryable(code: ErrorCode): boolean {
  return ERROR_KINDS[code].retryable
}

export function throttleScopeOf(code: ErrorCode): ThrottleScope | undefined {
  if (code === 'throttled') return 'account'
  if (code === 'pair_throttled') return 'recipient'
  return undefined
}

export interface SendErrorInit {
  code: ErrorCode
  providerCode?: string | number
  providerMessage?: string
  httpStatus?: number
  /** Milliseconds the provider asked us to wait (Retry-After), when it said so. */
  retryAfterMs?: number
  /**
   * True when the request may have reached the provider before failing (e.g. a timeout after the
   * body was written): a retry could deliver the message twice, so the engine counts it.
   */
  maybeDelivered?: boolean
}

/**
 * Thrown by an adapter's `send()`. `retryable` and `throttle` derive from the code, so a provider
 * table only has to name the code.
 *
 * @example
 * throw new SendError({ code: 'throttled', providerCode: 130429, providerMessage: 'Rate limit hit', httpStatus: 429 })
 */
export class SendError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean
  readonly throttle: ThrottleScope | undefined
  readonly providerCode: string | undefined
  readonly providerMessage: string | undefined
  readonly httpStatus: number | undefined
  readonly retryAfterMs: number | undefined
  readonly maybeDelivered: boolean

  constructor(init: SendErrorInit) {
    super(`${init.code}${init.providerCode !== undefined ? ` (provider code ${init.providerCode})` : ''}${init.providerMessage ? `: ${init.providerMessage}` : ''}`)
    this.name = 'SendError'
    this.code = init.code
    this.retryable = isRetryable(init.code)
    this.throttle = throttleScopeOf(init.code)
    this.providerCode = init.providerCode === undefined ? undefined : String(init.providerCode)
    this.providerMessage = init.providerMessage
    this.httpStatus = init.httpStatus
    this.retryAfterMs = init.retryAfterMs
    this.maybeDelivered = init.maybeDelivered ?? false
  }

  toNormalized(): NormalizedError {
    return {
      code: this.code,
      retryable: this.retryable,
      ...(this.providerCode !== undefined ? { provider_code: this.providerCode } : {}),
      ...(this.providerMessage !== undefined ? { provider_message: this.providerMessage } : {}),
    }
  }
}

/** Maps a provider code through a table kept as data; unmapped codes become `unknown`. */
export function normalizeProviderCode(
  table: Readonly<Record<string, ErrorCode>>,
  providerCode: string | number | undefined,
  providerMessage?: string,
): NormalizedError {
  const key = providerCode === undefined ? undefined : String(providerCode)
  // Own keys only: a provider code like "constructor" must not find Object.prototype's.
  const code: ErrorCode = (key !== undefined && Object.hasOwn(table, key) && table[key]) || 'unknown'
  return {
    code,
    retryable: isRetryable(code),
    ...(key !== undefined ? { provider_code: key } : {}),
    ...(providerMessage !== undefined ? { provider_message: providerMessage } : {}),
  }
}

/** Classification of a transport-level failure (no provider error body to read). */
export function errorCodeForHttpStatus(status: number): ErrorCode {
  if (status === 429) return 'throttled'
  if (status === 401 || status === 403) return 'auth_failed'
  if (status >= 500) return 'transient'
  if (status === 408) return 'transient'
  return 'unknown'
}
