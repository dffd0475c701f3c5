import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestGateway } from '../harness/gateway.js'
import { allMessages, META, raw, readFixture, startMetaGateway, type RawResponse } from './helpers.js'

/**
 * Acceptance: the API refuses bad requests with a clear application/problem+json 4xx and a stable
 * `code` (DESIGN §6, §11), never a 500, writes nothing for them, and keeps answering; and every
 * message type it accepts reaches the provider (the Meta simulator) in Meta's wire shape
 * (test/fixtures/meta/send-*-request.json) and ends `read` (a reaction only ever gets `sent`).
 */

const TO = '+250788123123'
const TO_DIGITS = '250788123123'
const valid = { account: META, to: TO, type: 'text', text: 'hello' }

describe('API errors: problem+json with a stable code, nothing written', () => {
  let t: TestGateway
  let auth: Record<string, string>
  beforeAll(async () => {
    t = await startMetaGateway()
    auth = { authorization: `Bearer ${t.apiKey}` }
  })
  afterAll(async () => t.close())

  const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })

  const CASES: Array<{ what: string; status: number; code: string; call: () => Promise<RawResponse> }> = [
    { what: 'malformed JSON', status: 400, code: 'malformed_json', call: () => raw(t, 'POST', '/v1/messages', '{"account":"sandbox-meta","to":', { ...auth, 'content-type': 'application/json' }) },
    { what: 'empty JSON body', status: 400, code: 'malformed_json', call: () => raw(t, 'POST', '/v1/messages', '', { ...auth, 'content-type': 'application/json' }) },
    { what: 'text/plain content type (with a JSON-looking body)', status: 415, code: 'unsupported_media_type', call: () => raw(t, 'POST', '/v1/messages', JSON.stringify(valid), { ...auth, 'content-type': 'text/plain' }) },
    { what: 'form content type', status: 415, code: 'unsupported_media_type', call: () => raw(t, 'POST', '/v1/messages', 'to=%2B250788123123&type=text', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }) },
    { what: 'a JSON array', status: 400, code: 'invalid_request', call: () => raw(t, 'POST', '/v1/messages', '[]', { ...auth, ...json([]).headers }) },
    { what: 'unknown account', status: 404, code: 'unknown_account', call: () => raw(t, 'POST', '/v1/messages', json({ ...valid, account: 'no-such-account' }).body, { ...auth, ...json(0).headers }) },
    { what: 'invalid number (no country code)', status: 422, code: 'invalid_recipient', call: () => raw(t, 'POST', '/v1/messages', json({ ...valid, to: '12' }).body, { ...auth, ...json(0).headers }) },
    { what: 'invalid number (no such country)', status: 422, code: 'invalid_recipient', call: () => raw(t, 'POST', '/v1/messages', json({ ...valid, to: '+999123' }).body, { ...auth, ...json(0).headers }) },
    { what: 'invalid number (letters)', status: 422, code: 'invalid_recipient', call: () => raw(t, 'POST', '/v1/messages', json({ ...valid, to: 'call me maybe' }).body, { ...auth, ...json(0).headers }) },
    { what: 'unknown message type', status: 400, code: 'unknown_message_type', call: () => raw(t, 'POST', '/v1/messages', json({ ...valid, type: 'carrier_pigeon' }).body, { ...auth, ...json(0).headers }) },
    { what: 'no message type', status: 400, code: 'unknown_message_type', call: () => raw(t, 'POST', '/v1/messages', json({ account: META, to: TO, text: 'x' }).body, { ...auth, ...json(0).headers }) },
    { what: 'a known type missing its field', status: 400, code: 'invalid_request', call: () => raw(t, 'POST', '/v1/messages', json({ account: META, to: TO, type: 'image' }).body, { ...auth, ...json(0).headers }) },
    { what: 'a 20 MB body', status: 413, code: 'payload_too_large', call: () => raw(t, 'POST', '/v1/messages', Buffer.alloc(20 * 1024 * 1024, 0x20), { ...auth, 'content-type': 'application/json' }) },
    { what: 'a 20 MB JSON body that would otherwise be valid', status: 413, code: 'payload_too_large', call: () => raw(t, 'POST', '/v1/messages', JSON.stringify({ ...valid, text: 'x'.repeat(20 * 1024 * 1024) }), { ...auth, 'content-type': 'application/json' }) },
    { what: 'a 20 MB webhook', status: 413, code: 'payload_too_large', call: () => raw(t, 'POST', `/webhooks/meta/${META}`, Buffer.alloc(20 * 1024 * 1024, 0x20), { 'content-type': 'application/json' }) },
    { what: 'missing API key', status: 401, code: 'unauthorized', call: () => raw(t, 'POST', '/v1/messages', json(valid).body, json(0).headers) },
    { what: 'invalid API key', status: 401, code: 'unauthorized', call: () => raw(t, 'POST', '/v1/messages', json(valid).body, { authorization: 'Bearer wg_this_is_not_the_key_0000', ...json(0).headers }) },
    { what: 'API key in the wrong scheme', status: 401, code: 'unauthorized', call: () => raw(t, 'POST', '/v1/messages', json(valid).body, { authorization: `Basic ${t.apiKey}`, ...json(0).headers }) },
    { what: 'missing API key on a read', status: 401, code: 'unauthorized', call: () => raw(t, 'GET', '/v1/messages') },
    { what: 'unknown route (GET)', status: 404, code: 'route_not_found', call: () => raw(t, 'GET', '/v1/nothing-here', undefined, auth) },
    { what: 'unknown route (POST)', status: 404, code: 'route_not_found', call: () => raw(t, 'POST', '/v2/messages', json(valid).body, { ...auth, ...json(0).headers }) },
    { what: 'a URL whose percent-encoding does not decode', status: 400, code: 'invalid_request', call: () => raw(t, 'GET', '/v1/messages/%E0%A4%A', undefined, auth) },
    { what: 'request headers over the server limit', status: 431, code: 'headers_too_large', call: () => raw(t, 'GET', '/v1/messages', undefined, { ...auth, 'x-padding': 'a'.repeat(20_000) }) },
    { what: 'unknown message id', status: 404, code: 'unknown_message', call: () => raw(t, 'GET', '/v1/messages/msg_doesnotexist', undefined, auth) },
    { what: 'unknown account by name', status: 404, code: 'unknown_account', call: () => raw(t, 'GET', '/v1/accounts/no-such-account', undefined, auth) },
    { what: 'reply_to an unknown msg_ id', status: 422, code: 'unknown_target_message', call: () => raw(t, 'POST', '/v1/messages', json({ ...valid, reply_to: 'msg_01NOSUCHMESSAGE' }).body, { ...auth, ...json(0).headers }) },
    { what: 'reaction to an unknown msg_ id', status: 422, code: 'unknown_target_message', call: () => raw(t, 'POST', '/v1/messages', json({ account: META, to: TO, type: 'reaction', reaction: { message_id: 'msg_01NOSUCHMESSAGE', emoji: '👍' } }).body, { ...auth, ...json(0).headers }) },
  ]

  it.each(CASES)('$what → $status $code', async (c) => {
    const before = (await allMessages(t)).length
    const res = await c.call()
    expect(res.status, res.text.slice(0, 300)).toBe(c.status)
    expect(res.status).toBeLessThan(500)
    expect(res.contentType).toMatch(/^application\/problem\+json/)
    expect(res.json).toMatchObject({ code: c.code, status: c.status })
    expect(typeof res.json.title).toBe('string')
    // A sentence a person can act on: several words, not just the code again.
    expect(typeof res.json.detail).toBe('string')
    expect(res.json.detail.trim().split(/\s+/).length).toBeGreaterThanOrEqual(3)
    expect(res.json.detail).not.toBe(c.code)
    expect((await allMessages(t)).length).toBe(before)
  })

  it('the gateway still answers afterwards, and none of them wrote a message or reached the provider', async () => {
    const health = await raw(t, 'GET', '/healthz')
    expect(health.status).toBe(200)
    expect(await allMessages(t)).toHaveLength(0)
    const sim = t.sandbox.simulators.get(t.sandbox.accounts[0]!.row.id)!
    expect(sim.stats().requests).toBe(0)
    // …and a good request is still accepted (the refusals were about the requests, not the gateway).
    const ok = await t.api('POST', '/v1/messages', valid)
    expect(ok.status).toBe(202)
    expect(await allMessages(t)).toHaveLength(1)
  })
})

/** The wire body the Meta fixture shows, addressed to our recipient and carrying our id. */
function metaShape(fixture: string, id: string): Record<string, unknown> {
  const body = readFixture(fixture)
  return { ...body, to: TO_DIGITS, biz_opaque_callback_data: id }
}

describe('every API message type reaches Meta in its wire shape and ends read', () => {
  let t: TestGateway
  let target: { id: string; wamid: string }
  beforeAll(async () => {
    t = await startMetaGateway()
    const sent = await t.api('POST', '/v1/messages', { account: META, to: TO, type: 'text', text: 'Simple Message' })
    expect(sent.status).toBe(202)
    const done = await waitStatus(sent.json.id, 'read')
    target = { id: sent.json.id, wamid: done.provider_message_id }
  })
  afterAll(async () => t.close())

  const sim = () => t.sandbox.simulators.get(t.sandbox.accounts[0]!.row.id)!
  const recordOf = (id: string) => t.waitFor(async () => sim().sent().find((r) => r.clientRef === id), 10_000, `simulator record of ${id}`)
  async function waitStatus(id: string, status: string) {
    return t.waitFor(async () => {
      const r = await t.api('GET', `/v1/messages/${id}`)
      if (r.json.status === 'failed') throw new Error(`${id} failed: ${JSON.stringify(r.json.error)}`)
      return r.json.status === status ? r.json : undefined
    }, 15_000, `${id} ${status}`)
  }

  const CASES: Array<{ what: string; request: () => Record<string, unknown>; wire: (id: string) => Record<string, unknown> }> = [
    {
      what: 'text',
      request: () => ({ type: 'text', text: 'Simple Message' }),
      wire: (id) => metaShape('send-text-request.json', id),
    },
    {
      what: 'image by URL with caption',
      request: () => ({ type: 'image', media: { url: 'https://foo.bar/image.jpg', caption: 'The best succulent ever?' } }),
      wire: (id) => ({ ...metaShape('send-image-by-id-request.json', id), image: { link: 'https://foo.bar/image.jpg', caption: 'The best succulent ever?' } }),
    },
    {
      what: 'audio by URL (no caption on audio)',
      request: () => ({ type: 'audio', media: { url: 'https://foo.bar/voice.mp3' } }),
      wire: (id) => ({ messaging_product: 'whatsapp', recipient_type: 'individual', to: TO_DIGITS, type: 'audio', audio: { link: 'https://foo.bar/voice.mp3' }, biz_opaque_callback_data: id }),
    },
    {
      what: 'video by URL with caption',
      request: () => ({ type: 'video', media: { url: 'https://foo.bar/clip.mp4', caption: 'a clip' } }),
      wire: (id) => ({ messaging_product: 'whatsapp', recipient_type: 'individual', to: TO_DIGITS, type: 'video', video: { link: 'https://foo.bar/clip.mp4', caption: 'a clip' }, biz_opaque_callback_data: id }),
    },
    {
      what: 'document by URL with caption and filename',
      request: () => ({ type: 'document', media: { url: 'https://foo.bar/document.pdf', caption: 'document caption', filename: 'document.pdf' } }),
      wire: (id) => metaShape('send-document-by-link-request.json', id),
    },
    {
      what: 'sticker by URL',
      request: () => ({ type: 'sticker', media: { url: 'https://foo.bar/sticker.webp' } }),
      wire: (id) => ({ messaging_product: 'whatsapp', recipient_type: 'individual', to: TO_DIGITS, type: 'sticker', sticker: { link: 'https://foo.bar/sticker.webp' }, biz_opaque_callback_data: id }),
    },
    {
      what: 'template with header, body and button components',
      request: () => ({
        type: 'template',
        template: {
          name: 'revive_issue',
          language: 'en_US',
          components: [
            { type: 'header', parameters: [{ type: 'image', url: 'https://foo.bar/image.jpg' }] },
            { type: 'body', parameters: [{ type: 'text', text: 'Ryan Lewis' }, { type: 'text', text: 'niño' }] },
            { type: 'button', sub_type: 'quick_reply', index: 0, parameters: [{ type: 'payload', payload: 'Sip' }] },
            { type: 'button', sub_type: 'url', index: 1, parameters: [{ type: 'text', text: 'id00231' }] },
          ],
        },
      }),
      wire: (id) => metaShape('send-template-request.json', id),
    },
    {
      what: 'interactive reply buttons',
      request: () => ({ type: 'interactive', interactive: { type: 'button', body: 'Interactive Button Msg', buttons: [{ id: '0', title: 'BUTTON1' }] } }),
      wire: (id) => metaShape('send-interactive-buttons-request.json', id),
    },
    {
      what: 'interactive list',
      request: () => ({
        type: 'interactive',
        interactive: {
          type: 'list',
          body: 'Interactive List Msg',
          button: 'Menu',
          sections: [{ rows: [{ id: '0', title: 'ROW1' }, { id: '1', title: 'ROW2' }, { id: '2', title: 'ROW3', description: 'Third description' }, { id: '3', title: 'ROW4' }] }],
        },
      }),
      wire: (id) => metaShape('send-interactive-list-request.json', id),
    },
    {
      what: 'location',
      request: () => ({ type: 'location', location: { latitude: 37.44216251868683, longitude: -122.16153582049394, name: 'Philz Coffee', address: '101 Forest Ave, Palo Alto, CA 94301' } }),
      wire: (id) => metaShape('send-location-request.json', id),
    },
    {
      what: 'reply_to a sent message by its msg_ id (quoted as its wamid)',
      request: () => ({ type: 'text', text: "You're welcome, Pablo!", reply_to: target.id }),
      wire: (id) => ({ ...metaShape('send-reply-with-context-request.json', id), context: { message_id: target.wamid }, text: { body: "You're welcome, Pablo!", preview_url: false } }),
    },
  ]

  it.each(CASES)('$what: 202, Meta wire shape, ends read', async (c) => {
    const res = await t.api('POST', '/v1/messages', { account: META, to: TO, ...c.request() })
    expect(res.status, res.text).toBe(202)
    expect(res.json).toMatchObject({ id: expect.stringMatching(/^msg_/), status: 'queued' })
    const record = await recordOf(res.json.id)
    expect(record.body).toEqual(c.wire(res.json.id))
    const read = await waitStatus(res.json.id, 'read')
    expect(read.provider_message_id).toBe(record.providerMessageId)
    const history = read.history.map((h: { status: string }) => h.status)
    expect(history).toEqual(expect.arrayContaining(['accepted', 'queued', 'sending', 'sent', 'delivered', 'read']))
    expect(sim().sent().filter((r) => r.clientRef === res.json.id)).toHaveLength(1)
  })

  it('reaction to a sent message by its msg_ id: sent as its wamid, ends `sent` (Meta reports only sent for reactions)', async () => {
    const res = await t.api('POST', '/v1/messages', { account: META, to: TO, type: 'reaction', reaction: { message_id: target.id, emoji: '😀' } })
    expect(res.status, res.text).toBe(202)
    const record = await recordOf(res.json.id)
    expect(record.body).toEqual({ ...metaShape('send-reaction-request.json', res.json.id), reaction: { message_id: target.wamid, emoji: '😀' } })
    await waitStatus(res.json.id, 'sent')
    // Give any (wrong) delivered/read time to arrive, then check the reaction stayed `sent`.
    await sim().idle(5_000)
    await new Promise((r) => setTimeout(r, 200))
    const final = await t.api('GET', `/v1/messages/${res.json.id}`)
    expect(final.json.status).toBe('sent')
    const history = final.json.history.map((h: { status: string }) => h.status)
    expect(history).toContain('sent')
    expect(history).not.toContain('delivered')
    expect(history).not.toContain('read')
  })
})

describe('a reply whose quoted message fails is failed too, not held forever', () => {
  let t: TestGateway
  beforeAll(async () => {
    // One attempt, and a provider that never answers sends to one number: that message fails unsent.
    t = await startMetaGateway({ env: { WAGATE_MAX_ATTEMPTS: '1', WAGATE_SEND_TIMEOUT_MS: '1500' } })
    t.sandbox.simulators.get(t.sandbox.accounts[0]!.row.id)!.setFaults([{ kind: 'timeout', recipients: ['+14155550177'] }])
  })
  afterAll(async () => t.close())

  it('the quoted message fails without a provider id; the reply queued behind it fails with invalid_request', async () => {
    const quoted = await t.api('POST', '/v1/messages', { account: META, to: '+14155550177', type: 'text', text: 'never answered' })
    expect(quoted.status).toBe(202)
    const reply = await t.api('POST', '/v1/messages', { account: META, to: '+14155550177', type: 'text', text: 'about that', reply_to: quoted.json.id })
    expect(reply.status, reply.text).toBe(202)
    const failedQuoted = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/messages/${quoted.json.id}`)
      return r.json.status === 'failed' ? r.json : undefined
    }, 15_000, 'quoted message failed')
    expect(failedQuoted.provider_message_id).toBeNull()
    const failedReply = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/messages/${reply.json.id}`)
      return r.json.status === 'failed' ? r.json : undefined
    }, 15_000, 'reply failed')
    expect(failedReply.error).toMatchObject({ code: 'invalid_request', retryable: false })
    expect(failedReply.error.provider_message).toContain(quoted.json.id)
    // …and a new reply to the failed message is refused at once.
    const late = await t.api('POST', '/v1/messages', { account: META, to: '+14155550177', type: 'text', text: 'again', reply_to: quoted.json.id })
    expect(late.status).toBe(422)
    expect(late.json.code).toBe('unknown_target_message')
  })
})
