import { describe, expect, it } from 'vitest'
import { ERROR_CODES, type ErrorCode } from '../../domain/errors.js'
import { META_ERROR_CODES, normalizeMetaError } from './errors.js'

// DESIGN §6 and providers/meta.md §3
const expected: Record<string, ErrorCode> = {
  131026: 'recipient_not_on_whatsapp',
  1013: 'recipient_not_on_whatsapp',
  1006: 'recipient_not_on_whatsapp',
  131047: 'outside_window',
  470: 'outside_window',
  130429: 'throttled',
  80007: 'throttled',
  4: 'throttled',
  133016: 'throttled',
  471: 'throttled',
  429: 'throttled',
  131056: 'pair_throttled',
  131000: 'transient',
  131016: 'transient',
  131053: 'transient',
  131057: 'transient',
  135000: 'transient',
  2: 'transient',
  1: 'transient',
  132000: 'template_invalid',
  132001: 'template_invalid',
  132005: 'template_invalid',
  132007: 'template_invalid',
  132008: 'template_invalid',
  132012: 'template_invalid',
  132015: 'template_invalid',
  132016: 'template_invalid',
  131048: 'policy_rejected',
  131049: 'policy_rejected',
  131050: 'policy_rejected',
  130472: 'policy_rejected',
  368: 'policy_rejected',
  131031: 'account_restricted',
  131042: 'account_restricted',
  131044: 'account_restricted',
  131064: 'account_restricted',
  133010: 'account_restricted',
  130497: 'account_restricted',
  190: 'auth_failed',
  0: 'auth_failed',
  3: 'config_error',
  10: 'config_error',
  200: 'config_error',
  299: 'config_error',
  131005: 'config_error',
  131030: 'config_error',
  131037: 'config_error',
  131045: 'config_error',
  131063: 'config_error',
  100: 'invalid_request',
  131008: 'invalid_request',
  131009: 'invalid_request',
  131021: 'invalid_request',
  131062: 'invalid_request',
  131051: 'invalid_request',
  131014: 'media_unreachable',
}

describe('META_ERROR_CODES', () => {
  it.each(Object.entries(expected))('%s → %s', (code, normalized) => {
    expect(META_ERROR_CODES[code]).toBe(normalized)
  })

  it('only names codes from the closed set', () => {
    for (const code of Object.values(META_ERROR_CODES)) expect(ERROR_CODES).toContain(code)
  })

  it('keeps the provider code and text beside the normalized code', () => {
    expect(normalizeMetaError(131056, 'pair rate limit hit')).toEqual({
      code: 'pair_throttled',
      retryable: true,
      provider_code: '131056',
      provider_message: 'pair rate limit hit',
    })
  })

  it('maps unlisted codes (and the 300 just past the permission block) to unknown', () => {
    expect(normalizeMetaError(300).code).toBe('unknown')
    expect(normalizeMetaError('131999', 'new')).toEqual({ code: 'unknown', retryable: false, provider_code: '131999', provider_message: 'new' })
    expect(normalizeMetaError('constructor').code).toBe('unknown')
  })
})
