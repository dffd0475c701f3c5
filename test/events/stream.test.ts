import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metaSandbox } from '../../src/sandbox.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { inbound, openStream } from './helpers.js'

describe('events out: Server-Sent Events stream', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway({ sandboxes: (timings) => [metaSandbox(timings)] })
  })
  afterAll(async () => t.close())

  const waitMessages = (stream: { messages: unknown[] }, n: number, what: string) => t.waitFor(async () => stream.messages.length >= n, 15_000, what)

  it('streams live events matching the topics, with the log cursor as id, and resumes with Last-Event-ID', async () => {
    await inbound(t, 'before the stream opened')
    const stream = await openStream(t, '?topics=incoming.sandbox-meta.>')
    expect(stream.status).toBe(200)
    expect(String(stream.headers['content-type'])).toContain('text/event-stream')

    const a = await inbound(t, 'live a')
    const b = await inbound(t, 'live b')
    await waitMessages(stream, 2, 'two live events')
    // Starts at the present: the earlier event is not sent; message.status events do not match the topics.
    const seen = stream.messages.map((m) => JSON.parse(m.data) as { id: string; type: string; topic: string })
    expect(seen.map((e) => e.id)).toEqual([a.id, b.id])
    expect(seen.every((e) => e.type === 'message.inbound' && e.topic.startsWith('incoming.sandbox-meta.'))).toBe(true)
    // The data is exactly the GET /v1/events item; the id is a cursor the log accepts.
    const log = await t.api('GET', '/v1/events?type=message.inbound&limit=1000')
    expect(JSON.parse(stream.messages[0]?.data ?? '')).toEqual(log.json.data.find((e: { id: string }) => e.id === a.id))
    const afterA = await t.api('GET', `/v1/events?type=message.inbound&after=${stream.messages[0]?.id}`)
    expect(afterA.json.data[0].id).toBe(b.id)
    await stream.close()

    // Missed while disconnected, then live again after resuming.
    const c = await inbound(t, 'missed c')
    const d = await inbound(t, 'missed d')
    const resumed = await openStream(t, '?topics=incoming.sandbox-meta.>', stream.messages[1]?.id)
    expect(resumed.status).toBe(200)
    await waitMessages(resumed, 2, 'missed events after resume')
    const e = await inbound(t, 'live e')
    await waitMessages(resumed, 3, 'live event after resume')
    expect(resumed.messages.map((m) => (JSON.parse(m.data) as { id: string }).id)).toEqual([c.id, d.id, e.id])
    await resumed.close()
  })

  it('filters by several patterns and keeps every other topic out', async () => {
    const stream = await openStream(t, `?topics=${encodeURIComponent('incoming.*.from.+14155550999,nothing.>')}`)
    await inbound(t, 'from someone else', '+14155550124')
    const mine = await inbound(t, 'from the watched number', '+14155550999')
    await waitMessages(stream, 1, 'the watched event')
    await inbound(t, 'a marker from someone else', '+14155550124')
    expect(stream.messages.map((m) => (JSON.parse(m.data) as { id: string }).id)).toEqual([mine.id])
    await stream.close()
  })

  it('refuses a bad cursor or pattern before streaming', async () => {
    const badCursor = await t.api('GET', '/v1/events/stream', undefined, { 'last-event-id': 'not-a-cursor' })
    expect(badCursor.status).toBe(400)
    expect(badCursor.json.code).toBe('invalid_cursor')
    const badTopics = await t.api('GET', `/v1/events/stream?topics=${encodeURIComponent('a.>.b')}`)
    expect(badTopics.status).toBe(400)
    expect(badTopics.json.code).toBe('invalid_request')
    const noKey = await t.api('GET', '/v1/events/stream', undefined, { authorization: 'Bearer wrong-key-123' })
    expect(noKey.status).toBe(401)
  })

  it('an open stream does not keep the gateway from closing', async () => {
    const other = await startTestGateway({ sandboxes: (timings) => [metaSandbox(timings)] })
    const stream = await openStream(other, '')
    expect(stream.status).toBe(200)
    await other.close()
    await stream.ended
  })
})
