import { describe, expect, it } from 'vitest'
import { envelopeJson } from './envelope.js'

describe('envelopeJson', () => {
  it('is the GET /v1/events item shape with data spliced from the stored text', () => {
    const text = envelopeJson({ id: 'evt_1', type: 'message.status', topic: 'message.acme.read', account: 'acme', created_at: Date.UTC(2026, 10, 21, 12), data: '{"message":{"id":"msg_1","status":"read"}}' })
    expect(JSON.parse(text)).toEqual({
      id: 'evt_1',
      type: 'message.status',
      topic: 'message.acme.read',
      created_at: '2026-11-21T12:00:00.000Z',
      account: 'acme',
      data: { message: { id: 'msg_1', status: 'read' } },
    })
    expect(Object.keys(JSON.parse(text))).toEqual(['id', 'type', 'topic', 'created_at', 'account', 'data'])
  })

  it('keeps a null account', () => {
    expect(JSON.parse(envelopeJson({ id: 'evt_2', type: 'subscription.disabled', topic: 'subscription.sub_1.disabled', account: null, created_at: 0, data: '{}' })).account).toBeNull()
  })
})
