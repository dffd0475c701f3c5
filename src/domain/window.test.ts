import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CONTENT_TYPES } from './content.js'
import {
  closedWindowDecision,
  InteractionTemplateSchema,
  needsOpenWindow,
  replyIntent,
  WINDOW_MS,
  WINDOW_POLICIES,
  windowOf,
} from './window.js'

const H = 3600 * 1000
const anyTime = fc.integer({ min: 0, max: 4_000_000_000_000 })

describe('windowOf', () => {
  it('is closed with no expiry when the contact never wrote', () => {
    expect(windowOf(null, 1000)).toEqual({ open: false, expiresAt: null })
    expect(windowOf(undefined, 1000)).toEqual({ open: false, expiresAt: null })
  })

  it('is open for exactly 24 h after the last inbound message', () => {
    const t = Date.parse('2026-01-01T10:00:00Z')
    expect(windowOf(t, t)).toEqual({ open: true, expiresAt: t + 24 * H })
    expect(windowOf(t, t + 24 * H - 1).open).toBe(true)
    expect(windowOf(t, t + 24 * H).open).toBe(false)
    expect(windowOf(t, t + 25 * H)).toEqual({ open: false, expiresAt: t + 24 * H })
  })

  it('property: open iff now is before last inbound + 24 h, and the expiry is always last inbound + 24 h', () => {
    fc.assert(
      fc.property(anyTime, fc.integer({ min: -10 * WINDOW_MS, max: 10 * WINDOW_MS }), (last, delta) => {
        const w = windowOf(last, last + delta)
        expect(w.expiresAt).toBe(last + WINDOW_MS)
        expect(w.open).toBe(delta < WINDOW_MS)
      }),
    )
  })

  it('property: a later inbound message never shortens the window', () => {
    fc.assert(
      fc.property(anyTime, fc.nat(10 * WINDOW_MS), anyTime, (a, later, now) => {
        const first = windowOf(a, now)
        const second = windowOf(a + later, now)
        expect((second.expiresAt ?? 0) >= (first.expiresAt ?? 0)).toBe(true)
        if (first.open) expect(second.open).toBe(true)
      }),
    )
  })
})

describe('closedWindowDecision', () => {
  const closed = { open: false, expiresAt: null }
  const open = { open: true, expiresAt: Date.now() + H }

  it.each([
    ['reject', 'text', closed, 'reject'],
    ['stash', 'text', closed, 'stash'],
    ['send', 'text', closed, 'send'],
    ['reject', 'reaction', closed, 'reject'],
    ['stash', 'image', closed, 'stash'],
    ['reject', 'template', closed, 'send'],
    ['stash', 'template', closed, 'send'],
    ['reject', 'text', open, 'send'],
    ['stash', 'interactive', open, 'send'],
  ] as const)('%s policy, %s, window %o → %s', (policy, type, window, expected) => {
    expect(closedWindowDecision(policy, type, window)).toBe(expected)
  })

  it('property: templates always go out; an open window always sends; a closed one follows the policy', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WINDOW_POLICIES), fc.constantFrom(...CONTENT_TYPES), fc.boolean(), (policy, type, isOpen) => {
        const decision = closedWindowDecision(policy, type, { open: isOpen, expiresAt: null })
        if (type === 'template' || isOpen) expect(decision).toBe('send')
        else expect(decision).toBe(policy)
        expect(needsOpenWindow(type)).toBe(type !== 'template')
      }),
    )
  })
})

describe('replyIntent', () => {
  const template = InteractionTemplateSchema.parse({ name: 'ask', language: 'en' })

  it('has documented defaults', () => {
    expect(template).toEqual({ name: 'ask', language: 'en', parameters: [], accept_payloads: ['accept', 'yes'], decline_payloads: ['decline', 'no'] })
  })

  it('reads the tapped payload, falling back to the button text', () => {
    expect(replyIntent({ type: 'button', button: { text: 'No', payload: 'No' } }, template)).toBe('decline')
    expect(replyIntent({ type: 'button', button: { text: 'No thanks', payload: 'DECLINE' } }, template)).toBe('decline')
    expect(replyIntent({ type: 'button', button: { text: 'Yes' } }, template)).toBe('accept')
    expect(replyIntent({ type: 'interactive', interactive: { id: 'no', title: 'Nope' } }, template)).toBe('decline')
    expect(replyIntent({ type: 'button', button: { text: 'Later', payload: 'later' } }, template)).toBe('reply')
  })

  it('treats text as a reply even when it says no (only a tapped button declines)', () => {
    expect(replyIntent({ type: 'text' }, template)).toBe('reply')
    expect(replyIntent({ type: 'image' }, undefined)).toBe('reply')
  })

  it('uses the account payloads when given', () => {
    const custom = InteractionTemplateSchema.parse({ name: 'ask', language: 'en', accept_payloads: ['GO'], decline_payloads: ['STOP'] })
    expect(replyIntent({ type: 'button', button: { text: 'x', payload: 'stop' } }, custom)).toBe('decline')
    expect(replyIntent({ type: 'button', button: { text: 'x', payload: 'no' } }, custom)).toBe('reply')
  })

  it('property: a decline needs a tapped payload listed as a decline', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (text, payload) => {
        const intent = replyIntent({ type: 'button', button: payload === undefined ? { text } : { text, payload } }, template)
        const tapped = (payload ?? text).trim().toLowerCase()
        expect(intent === 'decline').toBe(['decline', 'no'].includes(tapped))
      }),
    )
  })

  it('refuses unknown keys in the interaction template', () => {
    expect(InteractionTemplateSchema.safeParse({ name: 'x', language: 'en', other: 1 }).success).toBe(false)
  })
})
