import { describe, expect, it } from 'vitest'
import { DEFAULT_STATUS_TIMINGS } from '../types.js'
import { currentStatus, planStatuses, statusCallbackParams, type StoredMessage } from './messages.js'
import type { SendRequest } from './validate.js'

const whatsapp: SendRequest = {
  channel: 'whatsapp',
  to: 'whatsapp:+31612345678',
  recipient: '+31612345678',
  from: 'whatsapp:+14155238886',
  senderNumber: '+14155238886',
  mediaUrls: [],
  body: 'hi',
  type: 'text',
}
const timings = { sentMs: 10, deliveredMs: 20, readMs: 30 }

describe('planStatuses (D-OMS lifecycle)', () => {
  it('WhatsApp without a Messaging Service: queued (no callback), sent, delivered, read in time order', () => {
    expect(planStatuses(whatsapp, timings)).toEqual([
      { status: 'queued', afterMs: 0 },
      { status: 'sent', afterMs: 10 },
      { status: 'delivered', afterMs: 20 },
      { status: 'read', afterMs: 30 },
    ])
  })

  it('SMS stops at delivered', () => {
    const plan = planStatuses({ ...whatsapp, channel: 'sms', to: '+31612345678', from: '+14155238886' }, timings)
    expect(plan.map((s) => s.status)).toEqual(['queued', 'sent', 'delivered'])
  })

  it('a Messaging Service send starts accepted and then queues', () => {
    const plan = planStatuses({ ...whatsapp, messagingServiceSid: 'MG' + '0'.repeat(32) }, DEFAULT_STATUS_TIMINGS)
    expect(plan.map((s) => s.status)).toEqual(['accepted', 'queued', 'sent', 'delivered', 'read'])
    const times = plan.map((s) => s.afterMs)
    expect([...times].sort((a, b) => a - b)).toEqual(times)
  })

  it('a failure replaces sent and what follows', () => {
    expect(planStatuses(whatsapp, timings, { errorCode: 63003 }).slice(1)).toEqual([
      { status: 'failed', afterMs: 10, errorCode: 63003 },
    ])
  })
})

describe('stored message views', () => {
  const message: StoredMessage = {
    sid: 'SM' + '1'.repeat(32),
    accountSid: 'AC' + '2'.repeat(32),
    channelInstallSid: 'XE' + '3'.repeat(32),
    request: whatsapp,
    createdAt: 1_000,
    plan: planStatuses(whatsapp, timings),
  }

  it('reports the latest status reached', () => {
    expect(currentStatus(message, 1_000).status).toBe('queued')
    expect(currentStatus(message, 1_015).status).toBe('sent')
    expect(currentStatus(message, 5_000).status).toBe('read')
  })

  it('puts the failure code and channel message in a failed callback', () => {
    const params = statusCallbackParams(message, { status: 'failed', afterMs: 10, errorCode: 63018 })
    expect(params).toMatchObject({ MessageStatus: 'failed', SmsStatus: 'failed', ErrorCode: '63018' })
    expect(params.ChannelStatusMessage).toBe('Rate limit exceeded for Channel')
    expect(params).not.toHaveProperty('EventType')
  })
})
