import { afterEach, describe, expect, it } from 'vitest'
import { startCaptureServer } from '../../../test/harness/capture-server.js'
import type { CaptureServer, CapturedRequest, ScriptedResponse } from '../../../test/harness/capture-server.js'
import { readFixture, readFixtureJson } from '../../../test/harness/fixtures.js'
import { SendError } from '../../domain/errors.js'
import type { OutboundContent } from '../../domain/content.js'
import type { AccountContext, OutboundMessage } from '../types.js'
import { createSinchAdapter } from './index.js'
import type { SinchConfig } from './index.js'

const SEND_PATH = '/v1/projects/proj-1/messages:send'
const TOKEN_PATH = '/oauth2/token'
const sendResponse = readFixture('sinch', 'send_response_sdk_fixture.json').toString('utf8')

let server: CaptureServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** Answers the token endpoint with tok-1, tok-2… and messages:send with the SDK response fixture. */
async function startSinch(overrides: { token?: (n: number) => ScriptedResponse; send?: (req: CapturedRequest) => ScriptedResponse } = {}) {
  let tokens = 0
  server = await startCaptureServer((req) => {
    if (req.path === TOKEN_PATH) {
      tokens += 1
      return overrides.token?.(tokens) ?? { status: 200, body: JSON.stringify({ access_token: `tok-${tokens}`, expires_in: 3600, scope: '', token_type: 'bearer' }) }
    }
    return overrides.send?.(req) ?? { status: 200, body: sendResponse }
  })
  return server
}

function account(url: string, config: Partial<SinchConfig> = {}): AccountContext<SinchConfig> {
  return {
    id: 'acc_sinch',
    name: 'sinch-main',
    provider: 'sinch',
    channel: 'whatsapp',
    phoneNumber: '+46700000000',
    webhookUrl: 'https://gw.example/webhooks/sinch/sinch-main',
    config: {
      project_id: 'proj-1',
      app_id: 'app-1',
      key_id: 'key-id',
      key_secret: 'key-secret',
      region: 'eu',
      auth_mode: 'oauth',
      base_url: url,
      auth_url: url,
      ...config,
    },
  }
}

function outbound(content: OutboundContent, id = 'msg_01'): OutboundMessage {
  return { id, to: { phone: '+46712312312' }, content, attempt: 1 }
}

const ctx = { timeoutMs: 5_000 }
const basicKey = `Basic ${Buffer.from('key-id:key-secret').toString('base64')}`
const paths = (s: CaptureServer) => s.requests.map((r) => r.path)

describe('sinch send: OAuth2 client credentials', () => {
  it('fetches a token (form body, Basic key credentials) and sends with it as Bearer', async () => {
    const s = await startSinch()
    const result = await createSinchAdapter().send(account(s.url), outbound({ type: 'text', text: 'Hello' }), ctx)

    expect(result.providerMessageId).toBe('message id')
    expect(result.raw).toEqual({ message_id: 'message id', accepted_time: '2024-06-18T12:34:56Z' })
    expect(paths(s)).toEqual([TOKEN_PATH, SEND_PATH])
    const [tokenReq, sendReq] = s.requests as [CapturedRequest, CapturedRequest]
    expect(tokenReq.method).toBe('POST')
    expect(tokenReq.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(tokenReq.headers.authorization).toBe(basicKey)
    expect(tokenReq.form?.get('grant_type')).toBe('client_credentials')
    expect(sendReq.method).toBe('POST')
    expect(sendReq.headers.authorization).toBe('Bearer tok-1')
    expect(sendReq.headers['content-type']).toBe('application/json')
    expect(sendReq.json).toEqual({
      app_id: 'app-1',
      recipient: { identified_by: { channel_identities: [{ channel: 'WHATSAPP', identity: '46712312312' }] } },
      message: { text_message: { text: 'Hello' } },
      channel_priority_order: ['WHATSAPP'],
      correlation_id: 'msg_01',
    })
  })

  it('keeps the token across sends and renews it within 60 s of expiry', async () => {
    const s = await startSinch()
    let now = 1_000_000
    const adapter = createSinchAdapter({ now: () => now })
    const acct = account(s.url)
    await adapter.send(acct, outbound({ type: 'text', text: 'one' }), ctx)
    now += 3_000_000 // 50 min: still more than a minute left
    await adapter.send(acct, outbound({ type: 'text', text: 'two' }), ctx)
    expect(paths(s)).toEqual([TOKEN_PATH, SEND_PATH, SEND_PATH])

    now += 3600_000 - 3_000_000 - 30_000 // 30 s before expiry
    await adapter.send(acct, outbound({ type: 'text', text: 'three' }), ctx)
    expect(paths(s)).toEqual([TOKEN_PATH, SEND_PATH, SEND_PATH, TOKEN_PATH, SEND_PATH])
    expect(s.requests.at(-1)?.headers.authorization).toBe('Bearer tok-2')
  })

  it('concurrent sends share a single token request', async () => {
    const s = await startSinch()
    const adapter = createSinchAdapter()
    const acct = account(s.url)
    await Promise.all([1, 2, 3, 4, 5].map((n) => adapter.send(acct, outbound({ type: 'text', text: `n${n}` }, `msg_${n}`), ctx)))
    expect(paths(s).filter((p) => p === TOKEN_PATH)).toHaveLength(1)
    expect(paths(s).filter((p) => p === SEND_PATH)).toHaveLength(5)
  })

  it('a 401 on send drops the token, fetches a new one and retries once', async () => {
    const s = await startSinch({
      send: (req) => (req.headers.authorization === 'Bearer tok-1' ? { status: 401, body: '{"error":{"code":401,"message":"expired","status":"UNAUTHENTICATED"}}' } : { status: 200, body: sendResponse }),
    })
    const result = await createSinchAdapter().send(account(s.url), outbound({ type: 'text', text: 'hi' }), ctx)
    expect(result.providerMessageId).toBe('message id')
    expect(paths(s)).toEqual([TOKEN_PATH, SEND_PATH, TOKEN_PATH, SEND_PATH])
    expect(s.requests[3]?.headers.authorization).toBe('Bearer tok-2')
  })

  it('a second 401 gives up with auth_failed', async () => {
    const s = await startSinch({ send: () => ({ status: 401, body: '{"error":{"code":401,"message":"bad key","status":"UNAUTHENTICATED"}}' }) })
    const err = await createSinchAdapter().send(account(s.url), outbound({ type: 'text', text: 'hi' }), ctx).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SendError)
    expect(err).toMatchObject({ code: 'auth_failed', retryable: false, providerCode: 'UNAUTHENTICATED', httpStatus: 401 })
    expect(paths(s)).toEqual([TOKEN_PATH, SEND_PATH, TOKEN_PATH, SEND_PATH])
  })

  it('a refused token request is auth_failed and nothing is sent', async () => {
    const s = await startSinch({ token: () => ({ status: 401, body: '{"error":"invalid_client"}' }) })
    const err = await createSinchAdapter().send(account(s.url), outbound({ type: 'text', text: 'hi' }), ctx).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'auth_failed', retryable: false, maybeDelivered: false })
    expect(paths(s)).toEqual([TOKEN_PATH])
  })
})

describe('sinch send: Basic auth fallback', () => {
  it('auth_mode basic sends key_id:key_secret on the call and never asks for a token', async () => {
    const s = await startSinch()
    const adapter = createSinchAdapter()
    await adapter.send(account(s.url, { auth_mode: 'basic' }), outbound({ type: 'text', text: 'a' }), ctx)
    await adapter.send(account(s.url, { auth_mode: 'basic' }), outbound({ type: 'text', text: 'b' }), ctx)
    expect(paths(s)).toEqual([SEND_PATH, SEND_PATH])
    expect(s.requests.map((r) => r.headers.authorization)).toEqual([basicKey, basicKey])
  })
})

describe('sinch send: errors', () => {
  it('error_400 fixture → invalid_request, not retryable, provider status and message kept', async () => {
    const body = readFixture('sinch', 'error_400_invalid_argument_sdk_fixture.json').toString('utf8')
    const s = await startSinch({ send: () => ({ status: 400, body }) })
    const err = await createSinchAdapter().send(account(s.url), outbound({ type: 'text', text: 'hi' }), ctx).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SendError)
    expect(err).toMatchObject({ code: 'invalid_request', retryable: false, providerCode: 'INVALID_ARGUMENT', providerMessage: 'Invalid argument', httpStatus: 400 })
  })

  it('429 → throttled with Retry-After', async () => {
    const s = await startSinch({
      send: () => ({ status: 429, headers: { 'retry-after': '7' }, body: '{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}' }),
    })
    const err = await createSinchAdapter().send(account(s.url), outbound({ type: 'text', text: 'hi' }), ctx).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'throttled', retryable: true, throttle: 'account', retryAfterMs: 7000 })
  })

  it('5xx with a non-JSON body → transient', async () => {
    const s = await startSinch({ send: () => ({ status: 503, body: '<html>bad gateway</html>' }) })
    const err = await createSinchAdapter().send(account(s.url), outbound({ type: 'text', text: 'hi' }), ctx).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'transient', retryable: true, httpStatus: 503 })
  })

  it('a hung send → transient, maybe delivered', async () => {
    const s = await startSinch({ send: () => ({ status: 200, hang: true }) })
    const err = await createSinchAdapter().send(account(s.url), outbound({ type: 'text', text: 'hi' }), { timeoutMs: 300 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'transient', retryable: true, maybeDelivered: true })
  })

  it('a refused connection → transient, not delivered', async () => {
    const s = await startSinch()
    const url = s.url
    await s.close()
    server = undefined
    const err = await createSinchAdapter().send(account(url, { auth_mode: 'basic' }), outbound({ type: 'text', text: 'hi' }), ctx).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'transient', maybeDelivered: false })
  })

  it('2xx without message_id → unknown, maybe delivered', async () => {
    const s = await startSinch({ send: () => ({ status: 200, body: '{}' }) })
    const err = await createSinchAdapter().send(account(s.url), outbound({ type: 'text', text: 'hi' }), ctx).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'unknown', maybeDelivered: true })
  })
})

describe('sinch send: message bodies on the wire', () => {
  async function sentMessage(content: OutboundContent): Promise<unknown> {
    const s = await startSinch()
    await createSinchAdapter().send(account(s.url, { auth_mode: 'basic' }), outbound(content), ctx)
    return (s.requests[0]?.json as { message: unknown }).message
  }

  it('template → the documented WhatsApp channel_template fragment', async () => {
    const fragment = readFixtureJson<{ message: unknown }>('sinch', 'send_request_whatsapp_template_fragment.json')
    const message = await sentMessage({
      type: 'template',
      template: {
        name: 'text_template',
        language: 'en',
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Value of first parameter' },
              { type: 'text', text: 'Value of second parameter' },
              { type: 'text', text: 'Value of third parameter' },
            ],
          },
        ],
      },
    })
    expect(message).toEqual(fragment.message)
  })

  it('image with caption → card_message; document → media_message with filename_override', async () => {
    expect(await sentMessage({ type: 'image', media: { url: 'https://cdn.example/a.png', caption: 'Look' } })).toEqual({
      card_message: { description: 'Look', media_message: { url: 'https://cdn.example/a.png' } },
    })
    expect(await sentMessage({ type: 'document', media: { url: 'https://cdn.example/f.pdf', filename: 'Invoice.pdf' } })).toEqual({
      media_message: { url: 'https://cdn.example/f.pdf', filename_override: 'Invoice.pdf' },
    })
  })

  it('interactive buttons → choice_message with postback_data = button id', async () => {
    expect(
      await sentMessage({
        type: 'interactive',
        interactive: { type: 'button', body: 'Pick one', buttons: [{ id: 'yes', title: 'Yes' }, { id: 'no', title: 'No' }] },
      }),
    ).toEqual({
      choice_message: {
        text_message: { text: 'Pick one' },
        choices: [
          { text_message: { text: 'Yes' }, postback_data: 'yes' },
          { text_message: { text: 'No' }, postback_data: 'no' },
        ],
      },
    })
  })

  it('location → location_message with coordinates', async () => {
    expect(await sentMessage({ type: 'location', location: { latitude: 55.727802, longitude: 13.175061, name: 'ICA Jägaren', address: 'Lund' } })).toEqual({
      location_message: { coordinates: { latitude: 55.727802, longitude: 13.175061 }, title: 'ICA Jägaren', label: 'Lund' },
    })
  })

  it('a reaction is refused before any request', async () => {
    const s = await startSinch()
    const err = await createSinchAdapter()
      .send(account(s.url), outbound({ type: 'reaction', reaction: { message_id: 'x', emoji: '👍' } }), ctx)
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'invalid_request' })
    expect(s.requests).toHaveLength(0)
  })
})
