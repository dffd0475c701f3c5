import { describe, expect, it } from 'vitest'
import { firstParty, partyOf, waIdOf } from './address.js'

describe('partyOf', () => {
  it('reads digits (with or without +) as E.164 phone and wa_id', () => {
    expect(partyOf('917506080480')).toEqual({ phone: '+917506080480', waId: '917506080480' })
    expect(partyOf('+553587654321')).toEqual({ phone: '+553587654321', waId: '553587654321' })
  })

  it('never reads a business-scoped user id as a phone', () => {
    expect(partyOf('IN.1648738043044942')).toEqual({ userId: 'IN.1648738043044942' })
  })

  it('keeps a masked documentation number as an opaque wa_id only', () => {
    expect(partyOf('918x98xx21x4')).toEqual({ waId: '918x98xx21x4' })
  })

  it('names nobody for placeholders and junk', () => {
    expect(partyOf('<PHONE_NUMBER>')).toEqual({})
    expect(partyOf('callbackSetPhone')).toEqual({})
    expect(partyOf('')).toEqual({})
    expect(partyOf(undefined)).toEqual({})
    expect(waIdOf('IN.1')).toBeUndefined()
  })

  it('falls back to the next address', () => {
    expect(firstParty('<PHONE_NUMBER>', '919812345674')).toEqual({ phone: '+919812345674', waId: '919812345674' })
  })
})
