import { describe, expect, it } from 'vitest'
import { webhookTable, type WebhookRow } from '../../../test/harness/fixture-table.js'
import { fixtureFiles } from '../../../test/harness/fixtures.js'
import type { AccountContext, RawRequest } from '../types.js'
import { createMetaAdapter, metaConfigSchema, signMetaBody, type MetaConfig } from './index.js'

const APP_SECRET = 'meta-test-app-secret'
const adapter = createMetaAdapter()
const account: AccountContext<MetaConfig> = {
  id: 'acc_meta',
  name: 'meta-main',
  provider: 'meta',
  channel: 'whatsapp',
  phoneNumber: '+15550783881',
  config: metaConfigSchema.parse({
    phone_number_id: '1122334455667',
    access_token: 'test-access-token',
    app_secret: APP_SECRET,
    verify_token: 'hub-verify-token',
  }),
  webhookUrl: 'https://gw.example/webhooks/meta/meta-main',
}

function webhookRequest(body: Buffer): RawRequest {
  return { method: 'POST', url: account.webhookUrl, headers: { 'content-type': 'application/json' }, body }
}

// The sender every pywa fixture shares (fixtures/meta/index.md, webhook-text-with-bsuid-and-wa_id.json).
const pywaSender = {
  phone: '+972987654321',
  waId: '972987654321',
  userId: 'US.13491208655302741918',
  parentUserId: 'US.ENT.11815799212886844830',
  name: 'Test Name',
}

const rows: WebhookRow[] = [
  {
    file: 'webhook-text-with-bsuid-and-wa_id.json',
    status: 200,
    items: [
      {
        kind: 'message',
        message: {
          providerMessageId: 'wamid.xyzxyz',
          from: pywaSender,
          type: 'text',
          text: 'Body Text',
          timestamp: 1697043223000,
          address: '1122334455667',
        },
      },
    ],
  },
  {
    file: 'webhook-text-bsuid-only-no-phone.json',
    status: 200,
    items: [
      {
        kind: 'message',
        message: {
          providerMessageId: 'external_id',
          from: { userId: 'US.1234', parentUserId: 'US.ENT.5678', username: 'kfisher', name: 'Kerry Fisher' },
          type: 'text',
          text: 'Hello World',
          address: '1234567890',
        },
      },
    ],
  },
  {
    file: 'webhook-text-reply-with-context.json',
    status: 200,
    items: [
      {
        kind: 'message',
        message: { from: pywaSender, text: 'replied text', context: { id: 'wamid.xyzxyz==', from: '972123456789' } },
      },
    ],
  },
  {
    file: 'webhook-image.json',
    status: 200,
    items: [
      {
        kind: 'message',
        message: {
          providerMessageId: 'wamid.xyzxyz',
          type: 'image',
          from: pywaSender,
          media: { id: '65463453', mime_type: 'image/jpeg', sha256: '4654+8g=' },
        },
      },
    ],
  },
  {
    file: 'webhook-interactive-button-reply.json',
    status: 200,
    items: [
      {
        kind: 'message',
        message: {
          type: 'interactive',
          interactive: { type: 'button_reply', id: 'callback_data', title: 'title' },
          context: { id: 'wamid.xyzxyz' },
        },
      },
    ],
  },
  {
    file: 'webhook-interactive-list-reply.json',
    status: 200,
    items: [
      {
        kind: 'message',
        message: {
          providerMessageId: 'wamid.zyzxyz',
          type: 'interactive',
          interactive: { type: 'list_reply', id: 'callback_data', title: 'title' },
        },
      },
    ],
  },
  {
    file: 'webhook-template-quick-reply-button.json',
    status: 200,
    items: [
      {
        kind: 'message',
        message: { providerMessageId: 'wamid.xsidjw', type: 'button', button: { text: 'title', payload: 'callback_data' } },
      },
    ],
  },
  {
    file: 'webhook-reaction.json',
    status: 200,
    items: [{ kind: 'message', message: { type: 'reaction', reaction: { message_id: 'wamid.yzxyzx=', emoji: '😮' } } }],
  },
  {
    file: 'webhook-location.json',
    status: 200,
    items: [
      {
        kind: 'message',
        message: {
          type: 'location',
          location: {
            latitude: 37.4611978,
            longitude: -122.2164385,
            name: 'Facebook HQ',
            address: '1 Hacker Way, Menlo Park, CA 94025',
            url: 'https://maps.google.com/?cid=2000000000000000000',
          },
          context: { forwarded: true },
        },
      },
    ],
  },
  {
    file: 'webhook-unsupported-131051.json',
    status: 200,
    items: [
      {
        kind: 'message',
        message: {
          type: 'unsupported',
          unsupported: { type: 'pool' },
          from: pywaSender,
          errors: [{ code: 'invalid_request', provider_code: '131051', provider_message: 'Message type is currently not supported.' }],
        },
      },
    ],
  },
  {
    file: 'webhook-status-sent.json',
    status: 200,
    items: [
      {
        kind: 'status',
        status: {
          providerMessageId: 'wamid.xyzxyz',
          status: 'sent',
          providerStatus: 'sent',
          timestamp: 1698266945000,
          recipient: pywaSender,
          address: '1122334455667',
        },
      },
    ],
  },
  {
    file: 'webhook-status-failed-130472.json',
    status: 200,
    items: [
      {
        kind: 'status',
        status: {
          providerMessageId: 'wamid.xyzxyz',
          status: 'failed',
          recipient: { phone: '+972987654321', waId: '972987654321' },
          error: {
            code: 'policy_rejected',
            retryable: false,
            provider_code: '130472',
            provider_message: "Failed to send message because this user's phone number is part of an experiment",
          },
        },
      },
    ],
  },
  {
    file: 'webhook-status-failed-131014-media-url.json',
    status: 200,
    items: [
      {
        kind: 'status',
        status: {
          providerMessageId: 'external_id',
          status: 'failed',
          recipient: { phone: '+5678', waId: '5678', name: 'Kerry Fisher' },
          error: {
            code: 'media_unreachable',
            retryable: false,
            provider_code: '131014',
            provider_message: 'Request for url https://URL.jpg failed with error: 404 (Not Found)',
          },
          address: '1234567890',
        },
      },
    ],
  },
  {
    file: 'webhook-status-sent-to-bsuid.json',
    status: 200,
    items: [
      {
        kind: 'status',
        status: {
          providerMessageId: 'ABGGFlA5Fpa',
          status: 'sent',
          timestamp: 1504902988000,
          recipient: {
            userId: 'US.13491208655302741918',
            parentUserId: 'US.ENT.506847293015824',
            waId: '16315551181',
            phone: '+16315551181',
            name: 'test user name',
          },
          address: '123456123',
        },
      },
    ],
  },
  {
    file: 'webhook-errors-130429-rate-limit.json',
    status: 200,
    items: [
      {
        kind: 'account_error',
        error: { code: 'throttled', retryable: true, provider_code: '130429' },
        address: '106540352242922',
      },
    ],
  },
  { file: 'webhook-text-with-bsuid-and-wa_id.json', name: 'forged signature on a text', auth: 'forged', status: 401 },
  { file: 'webhook-status-failed-130472.json', name: 'forged signature on a status', auth: 'forged', status: 401 },
  { file: 'webhook-image.json', name: 'unsigned image', auth: 'missing', status: 401 },
  { file: 'webhook-errors-130429-rate-limit.json', name: 'unsigned errors webhook', auth: 'missing', status: 401 },
]

webhookTable({
  provider: 'meta',
  adapter,
  account,
  request: (body) => webhookRequest(body),
  signer: {
    sign: (req) => ({ ...req, headers: { ...req.headers, 'x-hub-signature-256': signMetaBody(APP_SECRET, req.body) } }),
    // well-formed, but keyed with another app's secret
    forge: (req) => ({ ...req, headers: { ...req.headers, 'x-hub-signature-256': signMetaBody('some-other-app', req.body) } }),
    strip: (req) => ({ ...req, headers: { 'content-type': 'application/json' } }),
  },
  rows,
  // send requests and responses are covered by send.test.ts, which checks it uses every one of them
  nonWebhookFiles: fixtureFiles('meta').filter((f) => f.startsWith('send-')),
})

describe('meta adapter surface', () => {
  it('routes by phone_number_id', () => {
    const body = Buffer.from(
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          { changes: [{ field: 'messages', value: { metadata: { phone_number_id: '111' } } }] },
          { changes: [{ field: 'messages', value: { metadata: { phone_number_id: '222' } } }, { field: 'messages', value: { metadata: { phone_number_id: '111' } } }] },
        ],
      }),
    )
    expect(adapter.routeKeys?.(webhookRequest(body))).toEqual(['111', '222'])
    expect(adapter.routeKeyOf?.(account.config)).toBe('1122334455667')
  })

  it('returns no route keys for garbage', () => {
    expect(adapter.routeKeys?.(webhookRequest(Buffer.from('not json')))).toEqual([])
    expect(adapter.routeKeys?.(webhookRequest(Buffer.from('{"entry":[null,{"changes":[7]}]}')))).toEqual([])
  })

  it('redacts the token and both secrets', () => {
    expect(adapter.redact(account.config).sort()).toEqual(['hub-verify-token', 'meta-test-app-secret', 'test-access-token'])
    const { verify_token: _unused, ...withoutVerify } = account.config
    expect(adapter.redact(withoutVerify)).toEqual(['test-access-token', 'meta-test-app-secret'])
  })

  it('declares Cloud API capabilities', () => {
    const caps = adapter.capabilities('whatsapp')
    expect([...caps.types].sort()).toEqual(
      ['audio', 'document', 'image', 'interactive', 'location', 'reaction', 'sticker', 'template', 'text', 'video'],
    )
    expect(caps.textMaxLength).toBe(4096)
    expect(caps.captionMaxLength).toBe(1024)
    expect(caps.userIdRecipients).toBe(true)
    expect(caps.media.image?.maxBytes).toBe(5 * 1024 * 1024)
    expect(caps.media.image?.mimeTypes).toContain('image/png')
    expect(caps.media.sticker?.mimeTypes).toEqual(['image/webp'])
    expect(caps.media.document?.maxBytes).toBe(100 * 1024 * 1024)
    expect(caps.media.audio?.mimeTypes).toContain('audio/ogg')
  })
})

describe('hub.challenge handshake', () => {
  const query = (params: Record<string, string>) => new URLSearchParams(params)

  it('answers the challenge when mode and token match', () => {
    const q = query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'hub-verify-token', 'hub.challenge': '1158201444' })
    expect(adapter.handshake?.(account, q)).toBe('1158201444')
  })

  it.each([
    ['wrong token', { 'hub.mode': 'subscribe', 'hub.verify_token': 'hub-verify-tokeN', 'hub.challenge': '1' }],
    ['longer token', { 'hub.mode': 'subscribe', 'hub.verify_token': 'hub-verify-token-x', 'hub.challenge': '1' }],
    ['wrong mode', { 'hub.mode': 'unsubscribe', 'hub.verify_token': 'hub-verify-token', 'hub.challenge': '1' }],
    ['no token', { 'hub.mode': 'subscribe', 'hub.challenge': '1' }],
    ['no challenge', { 'hub.mode': 'subscribe', 'hub.verify_token': 'hub-verify-token' }],
    // the challenge is echoed as the response body: markup is never reflected
    ['markup as challenge', { 'hub.mode': 'subscribe', 'hub.verify_token': 'hub-verify-token', 'hub.challenge': '<script>x</script>' }],
  ])('refuses: %s', (_name, params) => {
    expect(adapter.handshake?.(account, query(params))).toBeUndefined()
  })

  it('refuses every handshake when the account has no verify_token', () => {
    const { verify_token: _unused, ...config } = account.config
    const q = query({ 'hub.mode': 'subscribe', 'hub.verify_token': '', 'hub.challenge': '1' })
    expect(adapter.handshake?.({ ...account, config }, q)).toBeUndefined()
  })
})
