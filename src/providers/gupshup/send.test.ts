import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startCaptureServer, type CaptureServer, type CapturedRequest } from '../../../test/harness/capture-server.js'
import { readFixture } from '../../../test/harness/fixtures.js'
import { SendError } from '../../domain/errors.js'
import type { OutboundContent } from '../../domain/content.js'
import type { AccountContext, OutboundMessage } from '../types.js'
import type { GupshupConfig } from './config.js'
import { createGupshupAdapter } from './index.js'
import { testAccount } from './test-support.js'

const adapter = createGupshupAdapter()
const submitted = readFixture('gupshup', 'send-response-submitted.json').toString('utf8')
const authFailed = readFixture('gupshup', 'send-response-error-auth-failed.json').toString('utf8')

let server: CaptureServer
let account: AccountContext<GupshupConfig>

beforeAll(async () => {
  server = await startCaptureServer(() => ({ status: 202, body: submitted }))
  account = testAccount({ base_url: server.url })
})
afterAll(() => server.close())
beforeEach(() => {
  server.requests.length = 0
  server.respond(() => ({ status: 202, body: submitted }))
})

function message(content: OutboundContent, extra: Partial<OutboundMessage> = {}): OutboundMessage {
  return { id: 'msg_01', to: { phone: '+919876543210' }, content, attempt: 1, ...extra }
}

async function sendAndCapture(content: OutboundContent, extra: Partial<OutboundMessage> = {}): Promise<CapturedRequest> {
  await adapter.send(account, message(content, extra), { timeoutMs: 5_000 })
  expect(server.requests).toHaveLength(1)
  return server.requests[0] as CapturedRequest
}

function messageJson(req: CapturedRequest): unknown {
  return JSON.parse(req.form?.get('message') ?? 'null')
}

async function sendError(promise: Promise<unknown>): Promise<SendError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SendError)
  return err as SendError
}

describe('gupshup send: wire format (gupshup.md §1)', () => {
  it('posts a text session message as a form with the apikey header', async () => {
    const req = await sendAndCapture({ type: 'text', text: 'Hi there' })
    expect(req.method).toBe('POST')
    expect(req.path).toBe('/wa/api/v1/msg')
    expect(req.headers.apikey).toBe('gs-api-key-0123456789')
    expect(req.headers['content-type']).toContain('application/x-www-form-urlencoded')
    expect(req.form?.get('channel')).toBe('whatsapp')
    expect(req.form?.get('source')).toBe('917834811114')
    expect(req.form?.get('destination')).toBe('919876543210')
    expect(req.form?.get('src.name')).toBe('DemoApp')
    expect(messageJson(req)).toEqual({ type: 'text', text: 'Hi there' })
  })

  it('adds previewUrl and the quoted message as context.msgId', async () => {
    const req = await sendAndCapture({ type: 'text', text: 'see https://example.com', preview_url: true }, { replyTo: 'gBEGkYaYVSEEAgnPFrOLcjkFjL8' })
    expect(messageJson(req)).toEqual({
      type: 'text',
      text: 'see https://example.com',
      previewUrl: true,
      context: { msgId: 'gBEGkYaYVSEEAgnPFrOLcjkFjL8' },
    })
  })

  it('sends to the known wa_id rather than the number, and from source_number when configured', async () => {
    const other = testAccount({ base_url: server.url, source_number: '+15550001111' })
    await adapter.send(other, message({ type: 'text', text: 'x' }, { to: { phone: '+5535987654321', waId: '553587654321' } }), { timeoutMs: 5_000 })
    expect(server.requests[0]?.form?.get('destination')).toBe('553587654321')
    expect(server.requests[0]?.form?.get('source')).toBe('15550001111')
  })

  it('sends an image by URL as originalUrl/previewUrl, and by media id', async () => {
    const byUrl = await sendAndCapture({ type: 'image', media: { url: 'https://cdn.example/p.jpg', caption: 'Look' } })
    expect(messageJson(byUrl)).toEqual({ type: 'image', originalUrl: 'https://cdn.example/p.jpg', previewUrl: 'https://cdn.example/p.jpg', caption: 'Look' })
    server.requests.length = 0
    const byId = await sendAndCapture({ type: 'image', media: { id: '77362728271623327', caption: 'Look' } })
    expect(messageJson(byId)).toEqual({ type: 'image', id: '77362728271623327', caption: 'Look' })
  })

  it('sends video, audio, document (as file) and sticker by url', async () => {
    const cases: Array<[OutboundContent, unknown]> = [
      [{ type: 'video', media: { url: 'https://cdn.example/v.mp4' } }, { type: 'video', url: 'https://cdn.example/v.mp4' }],
      [{ type: 'audio', media: { url: 'https://cdn.example/a.ogg' } }, { type: 'audio', url: 'https://cdn.example/a.ogg' }],
      [
        { type: 'document', media: { url: 'https://cdn.example/d.pdf', filename: 'invoice.pdf' } },
        { type: 'file', url: 'https://cdn.example/d.pdf', filename: 'invoice.pdf' },
      ],
      [{ type: 'sticker', media: { url: 'https://cdn.example/s.webp' } }, { type: 'sticker', url: 'https://cdn.example/s.webp' }],
    ]
    for (const [content, expected] of cases) {
      server.requests.length = 0
      expect(messageJson(await sendAndCapture(content))).toEqual(expected)
    }
  })

  it('sends a location with string coordinates', async () => {
    const req = await sendAndCapture({ type: 'location', location: { latitude: 28.6139, longitude: 77.209, name: 'Office', address: 'New Delhi' } })
    expect(messageJson(req)).toEqual({ type: 'location', latitude: '28.6139', longitude: '77.209', name: 'Office', address: 'New Delhi' })
  })

  it('sends reply buttons as quick_reply with the button ids as postbackText', async () => {
    const req = await sendAndCapture({
      type: 'interactive',
      interactive: {
        type: 'button',
        header: { type: 'text', text: 'header' },
        body: 'body',
        footer: 'footer',
        buttons: [
          { id: 'yes', title: 'Yes' },
          { id: 'no', title: 'No' },
        ],
      },
    })
    expect(messageJson(req)).toEqual({
      type: 'quick_reply',
      msgid: 'msg_01',
      content: { type: 'text', header: 'header', text: 'body', caption: 'footer' },
      options: [
        { title: 'Yes', postbackText: 'yes' },
        { title: 'No', postbackText: 'no' },
      ],
    })
  })

  it('sends a list with globalButtons and items of options', async () => {
    const req = await sendAndCapture({
      type: 'interactive',
      interactive: {
        type: 'list',
        header: { type: 'text', text: 'Welcome' },
        body: 'Pick one',
        button: 'Options',
        sections: [{ title: 'S1', rows: [{ id: 'row-1', title: 'section 1 row 1', description: 'first row' }] }],
      },
    })
    expect(messageJson(req)).toEqual({
      type: 'list',
      title: 'Welcome',
      body: 'Pick one',
      msgid: 'msg_01',
      globalButtons: [{ type: 'text', title: 'Options' }],
      items: [{ title: 'S1', options: [{ type: 'text', title: 'section 1 row 1', description: 'first row', postbackText: 'row-1' }] }],
    })
  })

  it('sends a template to the template endpoint with ordered params, media header and postbackTexts', async () => {
    const req = await sendAndCapture({
      type: 'template',
      template: {
        name: '7d6bd1c1-6a4e-4a1b-9a61-6f0c6a7c2f10',
        language: 'en',
        components: [
          { type: 'header', parameters: [{ type: 'image', url: 'https://cdn.example/h.jpg' }] },
          { type: 'body', parameters: [{ type: 'text', text: 'monday' }, { type: 'text', text: '2020-12-20' }, { type: 'text', text: 'apps' }] },
          { type: 'button', sub_type: 'quick_reply', index: 3, parameters: [{ type: 'payload', payload: 'hello' }] },
        ],
      },
    })
    expect(req.path).toBe('/wa/api/v1/template/msg')
    expect(req.headers.apikey).toBe('gs-api-key-0123456789')
    expect(req.form?.get('channel')).toBe('whatsapp')
    expect(req.form?.get('source')).toBe('917834811114')
    expect(req.form?.get('destination')).toBe('919876543210')
    expect(req.form?.get('src.name')).toBe('DemoApp')
    expect(JSON.parse(req.form?.get('template') ?? 'null')).toEqual({ id: '7d6bd1c1-6a4e-4a1b-9a61-6f0c6a7c2f10', params: ['monday', '2020-12-20', 'apps'] })
    expect(messageJson(req)).toEqual({ type: 'image', image: { link: 'https://cdn.example/h.jpg' } })
    expect(JSON.parse(req.form?.get('postbackTexts') ?? 'null')).toEqual([{ index: 3, text: 'hello' }])
  })

  it('sends a text-only template without message or postbackTexts fields', async () => {
    const req = await sendAndCapture({ type: 'template', template: { name: 'tpl-1', language: 'en' } })
    expect(JSON.parse(req.form?.get('template') ?? 'null')).toEqual({ id: 'tpl-1', params: [] })
    expect(req.form?.has('message')).toBe(false)
    expect(req.form?.has('postbackTexts')).toBe(false)
  })
})

describe('gupshup send: responses', () => {
  it('returns the submitted messageId as the provider id (send-response-submitted.json)', async () => {
    const result = await adapter.send(account, message({ type: 'text', text: 'x' }), { timeoutMs: 5_000 })
    expect(result).toMatchObject({ providerMessageId: '3867730a-bb97-4ea5-bad6-e6e34201ce89', providerStatus: 'submitted' })
    expect(result.raw).toEqual({ status: 'submitted', messageId: '3867730a-bb97-4ea5-bad6-e6e34201ce89' })
  })

  it.each([401, 200])('maps "Authentication Failed" (HTTP %i) to auth_failed, not retryable', async (status) => {
    server.respond(() => ({ status, body: authFailed }))
    const err = await sendError(adapter.send(account, message({ type: 'text', text: 'x' }), { timeoutMs: 5_000 }))
    expect(err.code).toBe('auth_failed')
    expect(err.retryable).toBe(false)
    expect(err.providerMessage).toBe('Authentication Failed')
  })

  it('maps the documented 400 answers', async () => {
    server.respond(() => ({ status: 400, body: '{"message":"Invalid App Details","status":"error"}' }))
    expect((await sendError(adapter.send(account, message({ type: 'text', text: 'x' }), { timeoutMs: 5_000 }))).code).toBe('config_error')
    server.respond(() => ({ status: 400, body: '{"message":"Invalid Destination","status":"error"}' }))
    expect((await sendError(adapter.send(account, message({ type: 'text', text: 'x' }), { timeoutMs: 5_000 }))).code).toBe('invalid_request')
  })

  it.each([500, 502, 503])('treats HTTP %i as transient', async (status) => {
    server.respond(() => ({ status, body: '<html>bad gateway</html>' }))
    const err = await sendError(adapter.send(account, message({ type: 'text', text: 'x' }), { timeoutMs: 5_000 }))
    expect(err.code).toBe('transient')
    expect(err.retryable).toBe(true)
    expect(err.httpStatus).toBe(status)
  })

  it('treats HTTP 429 as throttled and keeps Retry-After', async () => {
    server.respond(() => ({ status: 429, body: '', headers: { 'retry-after': '7' } }))
    const err = await sendError(adapter.send(account, message({ type: 'text', text: 'x' }), { timeoutMs: 5_000 }))
    expect(err.code).toBe('throttled')
    expect(err.retryAfterMs).toBe(7000)
  })

  it('turns a timeout into transient with maybeDelivered', async () => {
    server.respond(() => ({ status: 200, hang: true }))
    const err = await sendError(adapter.send(account, message({ type: 'text', text: 'x' }), { timeoutMs: 150 }))
    expect(err.code).toBe('transient')
    expect(err.maybeDelivered).toBe(true)
  })

  it('turns a refused connection into transient without maybeDelivered', async () => {
    const closed = await startCaptureServer(() => ({ status: 200 }))
    const url = closed.url
    await closed.close()
    const err = await sendError(adapter.send(testAccount({ base_url: url }), message({ type: 'text', text: 'x' }), { timeoutMs: 2_000 }))
    expect(err.code).toBe('transient')
    expect(err.maybeDelivered).toBe(false)
  })

  it('does not trust a 2xx without a messageId', async () => {
    server.respond(() => ({ status: 200, body: 'OK' }))
    const err = await sendError(adapter.send(account, message({ type: 'text', text: 'x' }), { timeoutMs: 5_000 }))
    expect(err.code).toBe('unknown')
    expect(err.maybeDelivered).toBe(true)
  })

  it('refuses reactions and user-id-only recipients without calling Gupshup', async () => {
    const reaction = await sendError(adapter.send(account, message({ type: 'reaction', reaction: { message_id: 'x', emoji: '👍' } }), { timeoutMs: 5_000 }))
    expect(reaction.code).toBe('invalid_request')
    const userOnly = await sendError(adapter.send(account, message({ type: 'text', text: 'x' }, { to: { userId: 'US.1234' } }), { timeoutMs: 5_000 }))
    expect(userOnly.code).toBe('invalid_request')
    expect(server.requests).toHaveLength(0)
  })
})
