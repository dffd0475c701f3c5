import twilio from 'twilio'
import { describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import { decodeForm, encodeForm, twilioSignature, type FormParams } from './signature.js'

interface FormVector {
  name: string
  url?: string
  signed_url?: string
  request_url?: string
  params: FormParams
  expected: string
}

const vectors = readFixtureJson<{ auth_token: string; form_vectors: FormVector[] }>('twilio', 'signature_vectors.json')

describe('twilioSignature', () => {
  it.each(vectors.form_vectors)('reproduces the documented vector $name', (vector) => {
    const signedUrl = vector.signed_url ?? vector.url ?? ''
    expect(twilioSignature(vectors.auth_token, signedUrl, vector.params)).toBe(vector.expected)
  })

  it('is accepted by the twilio package validator for a loopback URL with a port', () => {
    const url = 'http://127.0.0.1:43123/webhooks/twilio/main?wagate_id=msg_1'
    const params = { MessageSid: 'SM' + '1'.repeat(32), MessageStatus: 'sent', To: 'whatsapp:+31612345678' }
    const signature = twilioSignature('secret', url, params)
    expect(twilio.validateRequest('secret', signature, url, params)).toBe(true)
    expect(twilio.validateRequest('other', signature, url, params)).toBe(false)
  })

  it('changes when any param changes', () => {
    const url = 'https://example.com/hook'
    expect(twilioSignature('t', url, { Body: 'a' })).not.toBe(twilioSignature('t', url, { Body: 'b' }))
  })
})

describe('form encoding', () => {
  it('round-trips repeated keys', () => {
    const params = { To: 'whatsapp:+31612345678', MediaUrl: ['https://a.test/1.png', 'https://a.test/2.png'] }
    const encoded = encodeForm(params)
    expect(encoded).toBe(
      'To=whatsapp%3A%2B31612345678&MediaUrl=https%3A%2F%2Fa.test%2F1.png&MediaUrl=https%3A%2F%2Fa.test%2F2.png',
    )
    expect(decodeForm(encoded)).toEqual(params)
  })
})
