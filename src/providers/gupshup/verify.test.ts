import { describe, expect, it } from 'vitest'
import type { RawRequest } from '../types.js'
import { verifyGupshup } from './verify.js'
import { TEST_TOKEN, WEBHOOK_BASE, testAccount } from './test-support.js'

const { config } = testAccount()

function at(url: string): RawRequest {
  return { method: 'POST', url, headers: {}, body: Buffer.from('{}') }
}

describe('verifyGupshup (URL token, gupshup.md §4)', () => {
  it('accepts the token as the last path segment, with or without a query or trailing slash', () => {
    expect(verifyGupshup(config, at(`${WEBHOOK_BASE}/${TEST_TOKEN}`))).toEqual({ ok: true })
    expect(verifyGupshup(config, at(`${WEBHOOK_BASE}/${TEST_TOKEN}?retry=1`))).toEqual({ ok: true })
    expect(verifyGupshup(config, at(`${WEBHOOK_BASE}/${TEST_TOKEN}/`))).toEqual({ ok: true })
    expect(verifyGupshup(config, at(`/webhooks/gupshup/acme/${TEST_TOKEN}`))).toEqual({ ok: true })
  })

  it('refuses a missing, wrong, shorter, longer or query-only token', () => {
    expect(verifyGupshup(config, at(WEBHOOK_BASE)).ok).toBe(false)
    expect(verifyGupshup(config, at(`${WEBHOOK_BASE}/${TEST_TOKEN.slice(0, -1)}x`)).ok).toBe(false)
    expect(verifyGupshup(config, at(`${WEBHOOK_BASE}/${TEST_TOKEN.slice(0, -1)}`)).ok).toBe(false)
    expect(verifyGupshup(config, at(`${WEBHOOK_BASE}/${TEST_TOKEN}0`)).ok).toBe(false)
    expect(verifyGupshup(config, at(`${WEBHOOK_BASE}?token=${TEST_TOKEN}`)).ok).toBe(false)
    expect(verifyGupshup(config, at(`${WEBHOOK_BASE}/${TEST_TOKEN}/extra`)).ok).toBe(false)
    expect(verifyGupshup(config, at(`http://gw.test/${TEST_TOKEN}`)).ok).toBe(false)
  })

  it('refuses malformed URLs and percent-encoding without throwing', () => {
    expect(verifyGupshup(config, at('http://[::1')).ok).toBe(false)
    expect(verifyGupshup(config, at(`${WEBHOOK_BASE}/%E0%A4%A`)).ok).toBe(false)
  })
})
