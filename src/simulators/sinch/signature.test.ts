import { describe, expect, it } from 'vitest'
import { readFixture, readFixtureJson } from '../../../test/harness/fixtures.js'
import { signSinchCallback, sinchSignatureHeaders } from './signature.js'

interface Vector {
  name: string
  body_file: string
  secret: string
  headers: Record<string, string>
  expect_valid: boolean
}

const { vectors } = readFixtureJson<{ vectors: Vector[] }>('sinch', 'signature_vectors.json')

describe('Sinch callback signer', () => {
  it.each(vectors)('reproduces vector $name', (vector) => {
    const body = readFixture('sinch', vector.body_file).toString('utf8')
    const signature = signSinchCallback(
      body,
      vector.secret,
      vector.headers['x-sinch-webhook-signature-nonce'] ?? '',
      vector.headers['x-sinch-webhook-signature-timestamp'] ?? '',
    )
    expect(signature === vector.headers['x-sinch-webhook-signature']).toBe(vector.expect_valid)
  })

  it('matches the Node SDK vector exactly (base64 with padding)', () => {
    const body = readFixture('sinch', 'signed_contact_create.body.json').toString('utf8')
    expect(signSinchCallback(body, 'foo_secret1234', '01FJA8B4A7BM43YGWSG9GBV067', '1634579353')).toBe(
      '6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=',
    )
  })

  it('a one-byte change of the body changes the signature', () => {
    const body = readFixture('sinch', 'signed_delivery_queued.body.json').toString('utf8')
    const reformatted = JSON.stringify(JSON.parse(body), null, 1)
    expect(signSinchCallback(reformatted, 'foo_secret1234', '01FJA8B4A7BM43YGWSG9GBV067', '1634579353')).not.toBe(
      'Yc+3R1pIS78xLASybulhs8BsSo9BPB3Pr92QCUoczfk=',
    )
  })

  it('emits the four documented headers with a unix-seconds timestamp', () => {
    const body = readFixture('sinch', 'signed_delivery_queued.body.json').toString('utf8')
    const headers = sinchSignatureHeaders(body, 'foo_secret1234', '01FJA8B4A7BM43YGWSG9GBV067', 1634579353)
    expect(headers).toEqual({
      'x-sinch-webhook-signature': 'Yc+3R1pIS78xLASybulhs8BsSo9BPB3Pr92QCUoczfk=',
      'x-sinch-webhook-signature-timestamp': '1634579353',
      'x-sinch-webhook-signature-nonce': '01FJA8B4A7BM43YGWSG9GBV067',
      'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
    })
  })
})
