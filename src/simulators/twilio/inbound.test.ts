import twilio from 'twilio'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startCaptureServer, type CaptureServer } from '../../../test/harness/capture-server.js'
import { readFixture } from '../../../test/harness/fixtures.js'
import { whatsAppIdOf } from './inbound.js'
import { createTwilioSimulator, type TwilioSimulator } from './simulator.js'
import { ACCOUNT, formObject } from './test-support.js'

let sim: TwilioSimulator
let receiver: CaptureServer
let inboundUrl: string
beforeAll(async () => {
  receiver = await startCaptureServer(() => ({ status: 200, body: '<Response/>', headers: { 'content-type': 'text/xml' } }))
  inboundUrl = `${receiver.url}/webhooks/twilio/main`
  sim = createTwilioSimulator({ accounts: [{ ...ACCOUNT, inboundWebhookUrl: inboundUrl }] })
  await sim.start()
})
afterAll(async () => {
  await sim.stop()
  await receiver.close()
})
beforeEach(() => {
  receiver.requests.length = 0
})

async function deliver(message: Parameters<TwilioSimulator['inbound']>[1], accountKey = '+14155238886') {
  const { providerMessageId } = await sim.inbound(accountKey, message)
  await sim.idle(2000)
  const request = receiver.requests.find((r) => r.form?.get('MessageSid') === providerMessageId)
  if (!request?.form) throw new Error('inbound webhook not received')
  return { providerMessageId, request, form: request.form }
}

const fixtureKeys = (file: string) => [...new URLSearchParams(readFixture('twilio', file).toString('utf8')).keys()]

describe('whatsAppIdOf', () => {
  it('drops the ninth digit of Brazilian mobiles only', () => {
    expect(whatsAppIdOf('+5535987654321')).toBe('553587654321')
    expect(whatsAppIdOf('5511987654321')).toBe('551187654321')
    expect(whatsAppIdOf('+553532123456')).toBe('553532123456')
    expect(whatsAppIdOf('+31612345678')).toBe('31612345678')
  })
})

describe('inbound webhooks', () => {
  it('posts a text with every field of the captured text inbound, signed for validateRequest', async () => {
    const { providerMessageId, request, form } = await deliver({ from: '+31612345678', text: 'test', name: 'Ana' })
    expect(providerMessageId).toMatch(/^SM[0-9a-f]{32}$/)
    expect(request.path).toBe('/webhooks/twilio/main')
    for (const key of fixtureKeys('inbound_text.txt')) expect(form.has(key), key).toBe(true)
    expect(Object.fromEntries(form)).toMatchObject({
      MessageSid: providerMessageId,
      SmsSid: providerMessageId,
      SmsMessageSid: providerMessageId,
      AccountSid: ACCOUNT.accountSid,
      From: 'whatsapp:+31612345678',
      To: 'whatsapp:+14155238886',
      Body: 'test',
      NumMedia: '0',
      NumSegments: '1',
      SmsStatus: 'received',
      WaId: '31612345678',
      ProfileName: 'Ana',
      ApiVersion: '2010-04-01',
    })
    const signature = String(request.headers['x-twilio-signature'])
    expect(twilio.validateRequest(ACCOUNT.authToken, signature, inboundUrl, formObject(request))).toBe(true)
    expect(twilio.validateRequest(ACCOUNT.authToken, signature, inboundUrl, { ...formObject(request), Body: 'x' })).toBe(false)
  })

  it('posts media with an MM sid, MediaUrl0 served behind Basic auth, and the caption as Body', async () => {
    const { providerMessageId, form } = await deliver({
      from: '+31612345678',
      media: { url: 'https://files.example/cat.jpg', caption: 'a cat' },
    })
    expect(providerMessageId).toMatch(/^MM[0-9a-f]{32}$/)
    for (const key of fixtureKeys('inbound_media_image.txt')) expect(form.has(key), key).toBe(true)
    expect(form.get('NumMedia')).toBe('1')
    expect(form.get('MediaContentType0')).toBe('image/jpeg')
    expect(form.get('Body')).toBe('a cat')
    const mediaUrl = form.get('MediaUrl0') ?? ''
    expect(mediaUrl).toMatch(
      new RegExp(`^${sim.url}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Messages/${providerMessageId}/Media/ME[0-9a-f]{32}$`),
    )
    expect((await fetch(mediaUrl, { redirect: 'manual' })).status).toBe(401)
    const authorized = await fetch(mediaUrl, {
      redirect: 'manual',
      headers: { authorization: 'Basic ' + Buffer.from(`${ACCOUNT.accountSid}:${ACCOUNT.authToken}`).toString('base64') },
    })
    expect(authorized.status).toBe(307)
    expect(authorized.headers.get('location')).toBe('https://files.example/cat.jpg')
  })

  it('uses the given MIME type over the URL extension', async () => {
    const { form } = await deliver({ from: '+31612345678', media: { url: 'https://f.example/x', mime_type: 'audio/ogg' } })
    expect(form.get('MediaContentType0')).toBe('audio/ogg')
  })

  it('posts a quick-reply button with ButtonText, ButtonPayload and the text as Body', async () => {
    const { form } = await deliver({ from: '+14133881111', button: { text: 'Confirm', payload: 'yes-42' } })
    for (const key of ['Body', 'ButtonText']) expect(form.has(key)).toBe(true)
    expect(form.get('ButtonText')).toBe('Confirm')
    expect(form.get('ButtonPayload')).toBe('yes-42')
    expect(form.get('Body')).toBe('Confirm')
  })

  it('marks a reply with OriginalRepliedMessageSid and the business as its sender', async () => {
    const quoted = 'SM' + 'e'.repeat(32)
    const { form } = await deliver({ from: '+31612345678', text: 'yes', reply_to: quoted })
    expect(form.get('OriginalRepliedMessageSid')).toBe(quoted)
    expect(form.get('OriginalRepliedMessageSender')).toBe('whatsapp:+14155238886')
  })

  it('reports a Brazilian contact by the eight-digit WaId, in From as well', async () => {
    const { form } = await deliver({ from: '+5535987654321', text: 'oi' })
    expect(form.get('WaId')).toBe('553587654321')
    expect(form.get('From')).toBe('whatsapp:+553587654321')
  })

  it('finds the account by any form of its number and refuses unknown numbers', async () => {
    const { form } = await deliver({ from: '+31612345678', text: 'b' }, 'whatsapp:+14155550100')
    expect(form.get('To')).toBe('whatsapp:+14155550100')
    await expect(sim.inbound('+19999999999', { from: '+31612345678', text: 'x' })).rejects.toThrow(/no Twilio account/)
  })

  it('counts the webhook as delivered', async () => {
    const before = sim.stats().webhooksDelivered
    await deliver({ from: '+31612345678', text: 'count' })
    expect(sim.stats().webhooksDelivered - before).toBe(1)
  })
})
