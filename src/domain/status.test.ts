import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { advance, isTerminal, MESSAGE_STATUSES, statusFromProvider, type MessageStatus } from './status.js'

// DESIGN §2: accepted → stashed → queued → sending → sent → delivered → read, or failed (terminal,
// from any state before read). A late delivered never overwrites read.
const ORDER: MessageStatus[] = ['accepted', 'stashed', 'queued', 'sending', 'sent', 'delivered', 'read']
const rank = (s: MessageStatus) => ORDER.indexOf(s)
const anyStatus = fc.constantFrom(...MESSAGE_STATUSES)

/** The status the design says a message ends in after seeing `seq`, starting from `start`. */
function expectedFinal(start: MessageStatus, seq: MessageStatus[]): MessageStatus {
  let best = start
  for (const s of [start, ...seq]) {
    if (s === 'failed') {
      if (best !== 'read') return 'failed'
      continue
    }
    if (best !== 'failed' && rank(s) > rank(best)) best = s
  }
  return best
}

describe('advance', () => {
  it('follows the forward path and reports changes', () => {
    expect(advance('sending', 'delivered')).toEqual({ status: 'delivered', changed: true })
    expect(advance('accepted', 'queued')).toEqual({ status: 'queued', changed: true })
    expect(advance('sent', 'sent')).toEqual({ status: 'sent', changed: false })
  })

  it('keeps read when a late delivered or sent arrives', () => {
    expect(advance('read', 'delivered')).toEqual({ status: 'read', changed: false })
    expect(advance('read', 'sent')).toEqual({ status: 'read', changed: false })
    expect(advance('delivered', 'sent')).toEqual({ status: 'delivered', changed: false })
  })

  it('lets failed win from every state before read, and never after read', () => {
    for (const s of ORDER.slice(0, -1)) expect(advance(s, 'failed')).toEqual({ status: 'failed', changed: true })
    expect(advance('read', 'failed')).toEqual({ status: 'read', changed: false })
  })

  it('never leaves failed', () => {
    for (const s of MESSAGE_STATUSES) expect(advance('failed', s)).toEqual({ status: 'failed', changed: false })
  })

  it('ends at the highest status seen, unless failed came before read (property)', () => {
    fc.assert(
      fc.property(anyStatus, fc.array(anyStatus, { maxLength: 30 }), (start, seq) => {
        let current = start
        for (const s of seq) {
          const next = advance(current, s)
          // changed must tell the truth, and a move is always forward (or to failed)
          expect(next.changed).toBe(next.status !== current)
          if (next.changed && next.status !== 'failed') expect(rank(next.status)).toBeGreaterThan(rank(current))
          if (current === 'failed') expect(next.status).toBe('failed')
          if (current === 'read') expect(next.status).toBe('read')
          current = next.status
        }
        expect(current).toBe(expectedFinal(start, seq))
      }),
      { numRuns: 2000 },
    )
  })

  it('gives the same final status whatever order forward callbacks arrive in (property)', () => {
    const forward = fc.constantFrom<MessageStatus>(...ORDER)
    const seqAndPermutation = fc
      .array(forward, { minLength: 1, maxLength: 12 })
      .chain((seq) => fc.tuple(fc.constant(seq), fc.shuffledSubarray(seq, { minLength: seq.length, maxLength: seq.length })))
    fc.assert(
      fc.property(seqAndPermutation, ([seq, permuted]) => {
        const fold = (xs: MessageStatus[]) => xs.reduce((c, s) => advance(c, s).status, 'accepted' as MessageStatus)
        expect(fold(permuted)).toBe(fold(seq))
      }),
    )
  })
})

describe('isTerminal', () => {
  it('is true for read and failed only', () => {
    expect(MESSAGE_STATUSES.filter(isTerminal).sort()).toEqual(['failed', 'read'])
  })
})

describe('statusFromProvider', () => {
  // ProviderStatus vocabulary (providers/types.ts): accepted/queued mean the provider holds it (our
  // `sending`), played is a voice message listened to (a read), deleted implies no status change.
  it.each([
    ['accepted', 'sending'],
    ['queued', 'sending'],
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['read', 'read'],
    ['played', 'read'],
    ['failed', 'failed'],
    ['deleted', undefined],
    ['undelivered', undefined],
    ['', undefined],
    ['READ', undefined],
    ['constructor', undefined],
  ] as const)('%s → %s', (word, status) => {
    expect(statusFromProvider(word)).toBe(status)
  })
})
