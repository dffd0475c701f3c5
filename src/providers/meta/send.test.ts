import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Agent, type Dispatcher } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SendError } from '../../domain/errors.js'
import { startCaptureServer, type CaptureServer, type ScriptedResponse } from '../../../test/harness/capture-server.js'
import { fixtureFiles, readFixture, readFixtureJson } from '../../../test/harness/fixtures.js'
import type { AccountContext, OutboundMessage } from '../types.js'
import { createMetaAdapter, metaConfigSchema, type MetaConfig } from './index.js'

const adapter = createMetaAdapter()
const OK: ScriptedResponse = { status: 200, body: readFixture('meta', 'send-response-success.json').toString('utf8') }

let server: CaptureServer
beforeAll(async () => {
  server = await startCaptureServer(() => OK)
})
afterAll(() => server.close())
afterEach(() => server.respond(() => OK))

function accountFor(baseUrl: string): AccountContext<MetaConfig> {
  return {
    id: 'acc_meta',
    name: 'meta-main',
    provider: 'meta',
    channel: 'whatsapp',
    phoneNumber: '+15550783881',
    config: metaConfigSchema.parse({ phone_number_id: '106540352242922', access_token: 'EAAG-test-token', app_secret: 'secret', base_url: baseUrl }),
    webhookUrl: 'https://gw.example/webhooks/meta/meta-main',
  }
}

const usedFixtures = new Set<string>()
function fixture(file: string): string {
  usedFixtures.add(file)
  return file
}

/** Sends and returns what the capture server saw. */
async function sendAndCapture(message: OutboundMessage) {
  const before = server.requests.length
  await adapter.send(accountFor(server.url), message, { timeoutMs: 5_000 })
  expect(server.requests).toHaveLength(before + 1)
  const captured = server.requests[before]
  if (!captured) throw new Error('no request captured')
  return captured
}

async function sendError(message: OutboundMessage, baseUrl = server.url, timeoutMs = 5_000): Promise<SendError> {
  const err: unknown = await adapter.send(accountFor(baseUrl), message, { timeoutMs }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SendError)
  return err as SendError
}

const text = (to: OutboundMessage['to']): OutboundMessage => ({ id: 'msg_text', to, content: { type: 'text', text: 'hi' }, attempt: 1 })

const requestCases: Array<{ file: string; message: OutboundMessage }> = [
  { file: 'send-text-request.json', message: { id: 'msg_01', to: { phone: '+250788123123' }, content: { type: 'text', text: 'Simple Message' }, attempt: 1 } },
  { file: 'send-text-to-bsuid-request.json', message: { id: 'msg_02', to: { userId: 'US.1234' }, content: { type: 'text', text: 'Simple Message' }, attempt: 1 } },
  {
    file: 'send-image-by-id-request.json',
    message: { id: 'msg_03', to: { phone: '+16505551234' }, content: { type: 'image', media: { id: '1479537139650973', caption: 'The best succulent ever?' } }, attempt: 1 },
  },
  {
    file: 'send-document-by-link-request.json',
    message: {
      id: 'msg_04',
      to: { phone: '+250788123123' },
      content: { type: 'document', media: { url: 'https://foo.bar/document.pdf', caption: 'document caption', filename: 'document.pdf' } },
      attempt: 1,
    },
  },
  {
    file: 'send-template-request.json',
    message: {
      id: 'msg_05',
      to: { phone: '+250788123123' },
      content: {
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
      },
      attempt: 1,
    },
  },
  {
    file: 'send-interactive-buttons-request.json',
    message: {
      id: 'msg_06',
      to: { phone: '+250788123123' },
      content: { type: 'interactive', interactive: { type: 'button', body: 'Interactive Button Msg', buttons: [{ id: '0', title: 'BUTTON1' }] } },
      attempt: 1,
    },
  },
  {
    file: 'send-interactive-list-request.json',
    message: {
      id: 'msg_07',
      to: { phone: '+250788123123' },
      content: {
        type: 'interactive',
        interactive: {
          type: 'list',
          body: 'Interactive List Msg',
          button: 'Menu',
          sections: [
            {
              rows: [
                { id: '0', title: 'ROW1' },
                { id: '1', title: 'ROW2' },
                { id: '2', title: 'ROW3', description: 'Third description' },
                { id: '3', title: 'ROW4' },
              ],
            },
          ],
        },
      },
      attempt: 1,
    },
  },
  {
    file: 'send-reply-with-context-request.json',
    message: {
      id: 'msg_08',
      to: { phone: '+16505551234' },
      content: { type: 'text', text: "You're welcome, Pablo!" },
      replyTo: 'wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTdCNTg5RjY1MEMyRjlGMjRGNgA=',
      attempt: 1,
    },
  },
  {
    file: 'send-reaction-request.json',
    message: {
      id: 'msg_09',
      to: { phone: '+16505551234' },
      content: { type: 'reaction', reaction: { message_id: 'wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQUZCMTY0MDc2MUYwNzBDNTY5MAA=', emoji: '😀' } },
      attempt: 1,
    },
  },
  {
    file: 'send-location-request.json',
    message: {
      id: 'msg_10',
      to: { phone: '+16505551234' },
      content: {
        type: 'location',
        location: { latitude: 37.44216251868683, longitude: -122.16153582049394, name: 'Philz Coffee', address: '101 Forest Ave, Palo Alto, CA 94301' },
      },
      attempt: 1,
    },
  },
]

/**
 * The fixture as our adapter must send it. Meta accepts `to` with or without '+', and its own
 * examples use '+'; we always send digits, so the '+' is dropped from the expectation. Meta's
 * contextual-reply example omits `preview_url`, whose default is false; we always send it.
 */
function expectedBody(file: string): Record<string, unknown> {
  const body = readFixtureJson<Record<string, unknown>>('meta', file)
  if (typeof body.to === 'string') body.to = body.to.replace(/^\+/, '')
  const textPart = body.text as Record<string, unknown> | undefined
  if (textPart && !('preview_url' in textPart)) textPart.preview_url = false
  return body
}

describe('meta send: request bodies', () => {
  it.each(requestCases)('$file', async ({ file, message }) => {
    const captured = await sendAndCapture(message)
    expect(captured.method).toBe('POST')
    expect(captured.path).toBe('/v25.0/106540352242922/messages')
    expect(captured.headers.authorization).toBe('Bearer EAAG-test-token')
    expect(captured.headers['content-type']).toContain('application/json')
    const { biz_opaque_callback_data, ...sent } = captured.json as Record<string, unknown>
    expect(biz_opaque_callback_data).toBe(message.id)
    expect(sent).toEqual(expectedBody(fixture(file)))
  })

  it('uses the configured api_version and a base_url with a trailing slash', async () => {
    const account = accountFor(`${server.url}/`)
    account.config = metaConfigSchema.parse({ ...account.config, api_version: 'v21.0' })
    const before = server.requests.length
    await adapter.send(account, text({ phone: '+15550001111' }), { timeoutMs: 5_000 })
    expect(server.requests[before]?.path).toBe('/v21.0/106540352242922/messages')
  })

  it('goes through the dispatcher it is given', async () => {
    let dispatched = 0
    class CountingAgent extends Agent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        dispatched += 1
        return super.dispatch(options, handler)
      }
    }
    const dispatcher = new CountingAgent()
    await adapter.send(accountFor(server.url), text({ phone: '+15550001111' }), { timeoutMs: 5_000, dispatcher })
    await dispatcher.close()
    expect(dispatched).toBe(1)
  })

  it('refuses a message with no recipient without calling Meta', async () => {
    const before = server.requests.length
    const err = await sendError(text({}))
    expect(err.code).toBe('invalid_request')
    expect(server.requests).toHaveLength(before)
  })
})

describe('meta send: responses', () => {
  it.each([
    {
      file: 'send-response-success.json',
      result: { providerMessageId: 'wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA', waId: '16505551234' },
      absent: ['userId'],
    },
    { file: 'send-response-wa_id-mismatch-brazil.json', result: { providerMessageId: '157b5e14568e8', waId: '551187654321' }, absent: ['userId'] },
    { file: 'send-response-user_id-bsuid.json', result: { providerMessageId: '157b5e14568e8', userId: 'US.1234' }, absent: ['waId'] },
  ])('$file → SendResult', async ({ file, result, absent }) => {
    const body = readFixture('meta', fixture(file)).toString('utf8')
    server.respond(() => ({ status: 200, body }))
    const sent = await adapter.send(accountFor(server.url), text({ phone: '+5511987654321' }), { timeoutMs: 5_000 })
    expect(sent).toMatchObject(result)
    for (const key of absent) expect(sent).not.toHaveProperty(key)
    expect(sent.raw).toEqual(JSON.parse(body))
  })

  it('keeps message_status as the provider status', async () => {
    server.respond(() => ({ status: 200, body: '{"messages":[{"id":"wamid.1","message_status":"held_for_quality_assessment"}]}' }))
    const sent = await adapter.send(accountFor(server.url), text({ phone: '+15550001111' }), { timeoutMs: 5_000 })
    expect(sent.providerStatus).toBe('held_for_quality_assessment')
  })

  it('send-error-130429-rate-limit.json → throttled, account-wide, with Retry-After', async () => {
    const body = readFixture('meta', fixture('send-error-130429-rate-limit.json')).toString('utf8')
    server.respond(() => ({ status: 400, body, headers: { 'retry-after': '30' } }))
    const err = await sendError(text({ phone: '+15550001111' }))
    expect(err).toMatchObject({
      code: 'throttled',
      retryable: true,
      throttle: 'account',
      providerCode: '130429',
      providerMessage: 'Message failed to send because there were too many messages sent from this phone number in a short period of time',
      httpStatus: 400,
      retryAfterMs: 30_000,
      maybeDelivered: false,
    })
  })

  it('send-error-131056-pair-rate-limit.json → pair_throttled, this recipient only', async () => {
    const body = readFixture('meta', fixture('send-error-131056-pair-rate-limit.json')).toString('utf8')
    server.respond(() => ({ status: 403, body }))
    const err = await sendError(text({ phone: '+15550001111' }))
    expect(err).toMatchObject({
      code: 'pair_throttled',
      retryable: true,
      throttle: 'recipient',
      providerCode: '131056',
      providerMessage: '(#131056) (Business Account, Consumer Account) pair rate limit hit',
      httpStatus: 403,
    })
    expect(err.retryAfterMs).toBeUndefined()
  })

  it.each([
    { name: 'recipient not on WhatsApp', status: 400, code: 131026, expected: 'recipient_not_on_whatsapp', retryable: false },
    { name: 'outside the 24 h window', status: 400, code: 131047, expected: 'outside_window', retryable: false },
    { name: 'expired token', status: 401, code: 190, expected: 'auth_failed', retryable: false },
    { name: 'template missing', status: 400, code: 132001, expected: 'template_invalid', retryable: false },
    { name: 'Meta says try again', status: 500, code: 131000, expected: 'transient', retryable: true },
    { name: 'unlisted code', status: 400, code: 999_999, expected: 'unknown', retryable: false },
    { name: 'unlisted code with HTTP 503', status: 503, code: 999_999, expected: 'transient', retryable: true },
  ])('Meta error body: $name', async ({ status, code, expected, retryable }) => {
    server.respond(() => ({ status, body: JSON.stringify({ error: { message: `(#${code}) title`, type: 'OAuthException', code, fbtrace_id: 'x' } }) }))
    const err = await sendError(text({ phone: '+15550001111' }))
    expect(err).toMatchObject({ code: expected, retryable, providerCode: String(code), providerMessage: `(#${code}) title`, httpStatus: status })
  })

  it('HTTP 500 without a Meta error body → transient, retryable', async () => {
    server.respond(() => ({ status: 500, body: '<html>Internal Server Error</html>', headers: { 'content-type': 'text/html' } }))
    const err = await sendError(text({ phone: '+15550001111' }))
    expect(err).toMatchObject({ code: 'transient', retryable: true, httpStatus: 500, maybeDelivered: false })
    expect(err.providerCode).toBeUndefined()
  })

  it('HTTP 429 without a body → throttled with an HTTP-date Retry-After', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString()
    server.respond(() => ({ status: 429, headers: { 'retry-after': at } }))
    const err = await sendError(text({ phone: '+15550001111' }))
    expect(err).toMatchObject({ code: 'throttled', retryable: true, throttle: 'account', httpStatus: 429 })
    expect(err.retryAfterMs).toBeGreaterThan(100_000)
    expect(err.retryAfterMs).toBeLessThanOrEqual(120_000)
  })

  it.each([
    ['no messages array', '{"messaging_product":"whatsapp"}'],
    ['empty messages', '{"messages":[]}'],
    ['not JSON', 'OK'],
  ])('2xx with an unexpected body (%s) → unknown', async (_name, body) => {
    server.respond(() => ({ status: 200, body }))
    const err = await sendError(text({ phone: '+15550001111' }))
    expect(err).toMatchObject({ code: 'unknown', retryable: false, httpStatus: 200 })
  })
})

describe('meta send: transport failures', () => {
  it('a hung server past timeoutMs → transient, maybe delivered', async () => {
    server.respond(() => ({ status: 200, hang: true }))
    const started = Date.now()
    const err = await sendError(text({ phone: '+15550001111' }), server.url, 150)
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(err).toMatchObject({ code: 'transient', retryable: true, maybeDelivered: true })
  })

  it('connection refused → transient, not delivered', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const err = await sendError(text({ phone: '+15550001111' }), `http://127.0.0.1:${port}`)
    expect(err).toMatchObject({ code: 'transient', retryable: true, maybeDelivered: false })
    expect(err.httpStatus).toBeUndefined()
  })
})

describe('meta send fixtures', () => {
  // runs last in this file: every send-* fixture must have been exercised above
  it('uses every send-* fixture of the folder', () => {
    const sendFiles = fixtureFiles('meta').filter((f) => f.startsWith('send-'))
    expect(sendFiles.filter((f) => !usedFixtures.has(f))).toEqual([])
  })
})
