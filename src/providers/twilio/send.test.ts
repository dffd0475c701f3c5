import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startCaptureServer, type CaptureServer } from '../../../test/harness/capture-server.js'
import { readFixture, readFixtureJson } from '../../../test/harness/fixtures.js'
import type { OutboundContent } from '../../domain/content.js'
import { SendError } from '../../domain/errors.js'
import type { AccountContext, OutboundMessage, Recipient } from '../types.js'
import type { TwilioConfig } from './config.js'
import { createTwilioAdapter } from './index.js'
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_WEBHOOK_URL, testAccount } from './test-support.js'

const adapter = createTwilioAdapter()
const CONTENT_SID = 'HX0123456789abcdef0123456789abcdef'
const API_KEY_SID = 'SK00112233445566778899aabbccddeeff'

let server: CaptureServer
const queued = () => ({ status: 201, body: readFixture('twilio', 'send_response_201_queued.json').toString() })

beforeAll(async () => {
  server = await startCaptureServer(queued)
})
afterAll(async () => {
  await server.close()
})
beforeEach(() => {
  server.requests.length = 0
  server.respond(queued)
})

function account(overrides: Parameters<typeof testAccount>[0] = {}): AccountContext<TwilioConfig> {
  return testAccount({ ...overrides, config: { base_url: server.url, ...overrides.config } })
}

function message(content: OutboundContent, to: Recipient = { phone: '+31612345678' }, extra: Partial<OutboundMessage> = {}): OutboundMessage {
  return { id: 'msg_1', to, content, attempt: 1, ...extra }
}

async function sentForm(acc: AccountContext<TwilioConfig>, msg: OutboundMessage): Promise<Record<string, string[]>> {
  await adapter.send(acc, msg, { timeoutMs: 5_000 })
  const form = server.requests.at(-1)?.form
  if (form === undefined) throw new Error('no form request captured')
  const out: Record<string, string[]> = {}
  for (const key of new Set(form.keys())) out[key] = form.getAll(key)
  return out
}

async function sendError(acc: AccountContext<TwilioConfig>, msg: OutboundMessage): Promise<SendError> {
  try {
    await adapter.send(acc, msg, { timeoutMs: 5_000 })
  } catch (err) {
    if (err instanceof SendError) return err
    throw err
  }
  throw new Error('send resolved, expected a SendError')
}

describe('twilio send: request on the wire', () => {
  it('posts a form to /2010-04-01/Accounts/{sid}/Messages.json with Basic account SID + Auth Token', async () => {
    const form = await sentForm(account(), message({ type: 'text', text: 'Hello! 👍' }))
    const req = server.requests[0]
    expect(req?.method).toBe('POST')
    expect(req?.path).toBe(`/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Messages.json`)
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(req?.headers.accept).toBe('application/json')
    expect(req?.headers.authorization).toBe(`Basic ${Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64')}`)
    expect(form).toEqual({
      To: ['whatsapp:+31612345678'],
      From: ['whatsapp:+14123456789'],
      Body: ['Hello! 👍'],
      // wagate's id rides in the callback URL's query (Twilio has no client reference field).
      StatusCallback: [`${TEST_WEBHOOK_URL}?wagate_id=msg_1`],
    })
  })

  it('adds wagate_id to a webhook URL that already has a query, leaving the rest as configured', async () => {
    const form = await sentForm(account({ webhookUrl: 'https://GW.example.com:8443/webhooks/twilio/tw-main?region=eu' }), message({ type: 'text', text: 'hi' }, undefined, { id: 'msg_2' }))
    expect(form.StatusCallback).toEqual(['https://GW.example.com:8443/webhooks/twilio/tw-main?region=eu&wagate_id=msg_2'])
  })

  it('uses the API key as Basic credentials and keeps the Account SID in the path', async () => {
    const acc = account({ config: { auth_token: undefined, api_key_sid: API_KEY_SID, api_key_secret: 'key-secret' } })
    await adapter.send(acc, message({ type: 'text', text: 'hi' }), { timeoutMs: 5_000 })
    const req = server.requests[0]
    expect(req?.path).toBe(`/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Messages.json`)
    expect(req?.headers.authorization).toBe(`Basic ${Buffer.from(`${API_KEY_SID}:key-secret`).toString('base64')}`)
  })

  it('sends to whatsapp:+<wa_id> when the wa_id is known', async () => {
    const form = await sentForm(account(), message({ type: 'text', text: 'x' }, { phone: '+5511987654321', waId: '551187654321' }))
    expect(form.To).toEqual(['whatsapp:+551187654321'])
  })

  it('sends to whatsapp:<user id> for a recipient known only by business-scoped user id', async () => {
    const form = await sentForm(account(), message({ type: 'text', text: 'x' }, { userId: 'US.13491208655302741918' }))
    expect(form.To).toEqual(['whatsapp:US.13491208655302741918'])
  })

  it('drops the whatsapp: prefix on an SMS account and refuses a user-id-only recipient there', async () => {
    const sms = account({ channel: 'sms' })
    const form = await sentForm(sms, message({ type: 'text', text: 'x' }))
    expect(form.To).toEqual(['+31612345678'])
    expect(form.From).toEqual(['+14123456789'])
    const err = await sendError(sms, message({ type: 'text', text: 'x' }, { userId: 'US.1234' }))
    expect(err.code).toBe('invalid_request')
    expect(server.requests).toHaveLength(1)
  })

  it('adds MessagingServiceSid when configured', async () => {
    const mg = `MG${'a'.repeat(32)}`
    const form = await sentForm(account({ config: { messaging_service_sid: mg } }), message({ type: 'text', text: 'x' }))
    expect(form.MessagingServiceSid).toEqual([mg])
  })

  it('sends media as MediaUrl with the caption as Body', async () => {
    const form = await sentForm(account(), message({ type: 'image', media: { url: 'https://cdn.example.com/a.jpg', caption: 'look' } }))
    expect(form.MediaUrl).toEqual(['https://cdn.example.com/a.jpg'])
    expect(form.Body).toEqual(['look'])
  })

  it('sends a template as ContentSid + ContentVariables from the body parameters in order, without Body', async () => {
    const form = await sentForm(
      account(),
      message({
        type: 'template',
        template: {
          name: CONTENT_SID,
          language: 'en',
          components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: '12:30' }] }],
        },
      }),
    )
    expect(form.ContentSid).toEqual([CONTENT_SID])
    expect(JSON.parse(form.ContentVariables?.[0] ?? 'null')).toEqual({ '1': 'Ana', '2': '12:30' })
    expect(form.Body).toBeUndefined()
    expect(form.MediaUrl).toBeUndefined()
  })

  it('sends a location through PersistentAction geo:lat,lon|label', async () => {
    const form = await sentForm(account(), message({ type: 'location', location: { latitude: 52.3, longitude: 4.75, name: 'Office' } }))
    expect(form.PersistentAction).toEqual(['geo:52.3,4.75|Office'])
    expect(form.Body?.[0]).toContain('Office')
  })

  it('refuses what Twilio cannot send, before any request', async () => {
    const cases: OutboundContent[] = [
      { type: 'interactive', interactive: { type: 'button', body: 'Pick', buttons: [{ id: 'a', title: 'A' }] } },
      { type: 'reaction', reaction: { message_id: 'SM1', emoji: '👍' } },
      { type: 'image', media: { id: 'meta-media-id' } },
      { type: 'template', template: { name: 'hello_world', language: 'en' } },
      { type: 'text', text: 'x'.repeat(1601) },
    ]
    const codes = []
    for (const content of cases) codes.push((await sendError(account(), message(content))).code)
    expect(codes).toEqual(['invalid_request', 'invalid_request', 'invalid_request', 'template_invalid', 'text_too_long'])
    expect(server.requests).toHaveLength(0)
  })
})

describe('twilio send: responses', () => {
  it('send_response_201_queued.json → sid and status queued', async () => {
    const result = await adapter.send(account(), message({ type: 'text', text: 'x' }), { timeoutMs: 5_000 })
    expect(result.providerMessageId).toBe('SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
    expect(result.providerStatus).toBe('queued')
    expect(result.raw).toEqual(readFixtureJson('twilio', 'send_response_201_queued.json'))
  })

  it('send_response_201_whatsapp_scheduled.json → sid and status scheduled', async () => {
    server.respond(() => ({ status: 201, body: readFixture('twilio', 'send_response_201_whatsapp_scheduled.json').toString() }))
    const result = await adapter.send(account(), message({ type: 'text', text: 'x' }), { timeoutMs: 5_000 })
    expect(result).toMatchObject({ providerMessageId: 'SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', providerStatus: 'scheduled' })
  })

  it('rest_error_400_21211.json → invalid_request, not retryable, code and message kept', async () => {
    server.respond(() => ({ status: 400, body: readFixture('twilio', 'rest_error_400_21211.json').toString() }))
    const err = await sendError(account(), message({ type: 'text', text: 'x' }))
    expect(err).toMatchObject({
      code: 'invalid_request',
      retryable: false,
      providerCode: '21211',
      providerMessage: "The 'To' number 5551234567 is not a valid phone number.",
      httpStatus: 400,
    })
  })

  it('rest_error_429_20429.json → throttled, retryable, slows the account, honours Retry-After', async () => {
    server.respond(() => ({ status: 429, body: readFixture('twilio', 'rest_error_429_20429.json').toString(), headers: { 'retry-after': '3' } }))
    const err = await sendError(account(), message({ type: 'text', text: 'x' }))
    expect(err).toMatchObject({ code: 'throttled', retryable: true, throttle: 'account', providerCode: '20429', retryAfterMs: 3000 })
  })

  it('HTTP 401 with code 20003 → auth_failed', async () => {
    server.respond(() => ({ status: 401, body: '{"code":20003,"message":"Authenticate","status":401}' }))
    expect((await sendError(account(), message({ type: 'text', text: 'x' }))).code).toBe('auth_failed')
  })

  it('HTTP 5xx without a known code → transient, retryable', async () => {
    server.respond(() => ({ status: 503, body: '<html>busy</html>' }))
    const err = await sendError(account(), message({ type: 'text', text: 'x' }))
    expect(err).toMatchObject({ code: 'transient', retryable: true, httpStatus: 503 })
  })

  it('a hung provider → transient and maybe delivered', async () => {
    server.respond(() => ({ status: 0, hang: true }))
    const promise = adapter.send(account(), message({ type: 'text', text: 'x' }), { timeoutMs: 200 })
    await expect(promise).rejects.toMatchObject({ code: 'transient', maybeDelivered: true })
  })

  it('a refused connection → transient, not delivered', async () => {
    const dead = testAccount({ config: { base_url: 'http://127.0.0.1:1' } })
    const err = await sendError(dead, message({ type: 'text', text: 'x' }))
    expect(err).toMatchObject({ code: 'transient', maybeDelivered: false })
  })
})
