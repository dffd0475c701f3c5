import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import { DEMO_APP, eventsFor, sendSession, sendTemplate, shapeDiff, startRig, type Rig } from './testing.js'

type Json = Record<string, unknown>
const inner = (c: Json | undefined) => (c?.payload ?? {}) as Json

let rig: Rig
beforeEach(async () => {
  rig = await startRig()
})
afterEach(async () => {
  await rig.close()
})

/** Sends a session message and returns its Gupshup id and the WhatsApp id from `enqueued`. */
async function sendAndSettle(message: unknown): Promise<{ gsId: string; waMessageId: string }> {
  const answer = await sendSession(rig, '919876543210', message)
  const gsId = String(answer.json.messageId)
  await rig.sim.idle(2000)
  const enqueued = eventsFor(rig, gsId).find((e) => inner(e).type === 'enqueued')
  return { gsId, waMessageId: String((inner(enqueued).payload as Json).whatsappMessageId) }
}

async function lastCallbackAfter(action: () => Promise<unknown>): Promise<Json> {
  await action()
  await rig.sim.idle(2000)
  const last = rig.callbacks().at(-1)
  if (!last) throw new Error('no callback received')
  return last
}

describe('inbound messages', () => {
  it('posts a text in the shape of inbound-text.json with sender split into country and national parts', async () => {
    let id = ''
    const cb = await lastCallbackAfter(async () => {
      id = (await rig.sim.inbound(DEMO_APP.appName, { from: '+919876543210', text: 'Hi', name: 'Andy' })).providerMessageId
    })
    expect(shapeDiff(cb, readFixtureJson('gupshup', 'inbound-text.json'), ['phone'])).toEqual([])
    expect(cb).toMatchObject({ app: DEMO_APP.appName, version: 2, type: 'message' })
    expect(inner(cb)).toEqual({
      id,
      source: '919876543210',
      type: 'text',
      payload: { text: 'Hi' },
      sender: { phone: '919876543210', name: 'Andy', country_code: '91', dial_code: '9876543210' },
    })
    expect(cb.timestamp as number).toBeGreaterThan(1e12)
  })

  it('posts an image in the shape of inbound-image.json with an expiring url', async () => {
    const cb = await lastCallbackAfter(() =>
      rig.sim.inbound(DEMO_APP.appName, { from: '919876543210', media: { url: 'https://files.example/p.jpg', mime_type: 'image/jpeg', caption: 'Sample image' } }),
    )
    expect(shapeDiff(cb, readFixtureJson('gupshup', 'inbound-image.json'), ['phone'])).toEqual([])
    const media = inner(inner(cb))
    expect(inner(cb).type).toBe('image')
    expect(media).toMatchObject({ caption: 'Sample image', url: 'https://files.example/p.jpg', contentType: 'image/jpeg' })
    expect(media.urlExpiry as number).toBeGreaterThan(cb.timestamp as number)
  })

  it('types a PDF as file with its name', async () => {
    const cb = await lastCallbackAfter(() => rig.sim.inbound(DEMO_APP.appName, { from: '919876543210', media: { url: 'https://files.example/x/invoice.pdf' } }))
    expect(inner(cb).type).toBe('file')
    expect(inner(inner(cb))).toMatchObject({ contentType: 'application/pdf', name: 'invoice.pdf' })
  })

  it('quotes a business message by its WhatsApp id and Gupshup id (inbound-text-reply-with-context.json)', async () => {
    const { gsId, waMessageId } = await sendAndSettle({ type: 'text', text: 'How was it?' })
    const cb = await lastCallbackAfter(() => rig.sim.inbound(DEMO_APP.appName, { from: '919876543210', text: 'hi', reply_to: gsId }))
    expect(shapeDiff(cb, readFixtureJson('gupshup', 'inbound-text-reply-with-context.json'), ['phone'])).toEqual([])
    expect(inner(cb).context).toEqual({ id: waMessageId, gsId })
  })

  it('answers a tap on a session quick-reply with button_reply (inbound-button-reply.json)', async () => {
    const { gsId, waMessageId } = await sendAndSettle({
      type: 'quick_reply',
      msgid: 'qr1',
      content: { type: 'text', text: 'Pick' },
      options: [{ type: 'text', title: 'First' }, { type: 'text', title: 'Second' }],
    })
    const cb = await lastCallbackAfter(() => rig.sim.inbound(DEMO_APP.appName, { from: '919876543210', button: { text: 'Second' }, reply_to: gsId }))
    expect(shapeDiff(cb, readFixtureJson('gupshup', 'inbound-button-reply.json'), ['phone'])).toEqual([])
    expect(inner(cb)).toMatchObject({ type: 'button_reply', payload: { title: 'Second', id: 'qr1', reply: 'Second 2' }, context: { id: waMessageId, gsId } })
  })

  it('answers a list row choice with list_reply (inbound-list-reply.json)', async () => {
    const { gsId } = await sendAndSettle({
      type: 'list',
      title: 'Menu',
      body: 'Choose',
      msgid: 'list1',
      globalButtons: [{ type: 'text', title: 'options' }],
      items: [{ title: 'section 1', options: [{ type: 'text', title: 'section 1 row 1', description: 'first row', postbackText: 'row-1-payload' }] }],
    })
    const cb = await lastCallbackAfter(() => rig.sim.inbound(DEMO_APP.appName, { from: '919876543210', button: { text: 'section 1 row 1' }, reply_to: gsId }))
    expect(shapeDiff(cb, readFixtureJson('gupshup', 'inbound-list-reply.json'), ['phone'])).toEqual([])
    expect(inner(inner(cb))).toEqual({ title: 'section 1 row 1', id: 'list1', reply: 'section 1 row 1 1', postbackText: 'row-1-payload', description: 'first row' })
  })

  it('answers a template button tap with quick_reply and the postback text (inbound-template-quick-reply-postback.json)', async () => {
    const answer = await sendTemplate(rig, '919876543210', { id: 'tpl-1', params: [] })
    const gsId = String(answer.json.messageId)
    await rig.sim.idle(2000)
    const enqueued = eventsFor(rig, gsId).find((e) => inner(e).type === 'enqueued')
    const cb = await lastCallbackAfter(() =>
      rig.sim.inbound(DEMO_APP.appName, { from: '919876543210', button: { text: 'View Account Balance', payload: 'balance' }, reply_to: gsId }),
    )
    expect(shapeDiff(cb, readFixtureJson('gupshup', 'inbound-template-quick-reply-postback.json'))).toEqual([])
    expect(inner(cb)).toMatchObject({
      type: 'quick_reply',
      payload: { text: 'View Account Balance', type: 'button', postbackText: 'balance' },
      context: { id: (inner(enqueued).payload as Json).whatsappMessageId, forwarded: false, frequently_forwarded: false },
    })
  })

  it('sends from the 12-digit wa_id when a Brazilian contact is given with the ninth digit', async () => {
    const cb = await lastCallbackAfter(() => rig.sim.inbound(DEMO_APP.appName, { from: '+5535987654321', text: 'oi' }))
    expect(inner(cb)).toMatchObject({ source: '553587654321', sender: { phone: '553587654321', country_code: '55', dial_code: '3587654321' } })
  })

  it('refuses an unknown app and an empty message', async () => {
    await expect(rig.sim.inbound('NoSuchApp', { from: '919876543210', text: 'x' })).rejects.toThrow(/unknown/i)
    await expect(rig.sim.inbound(DEMO_APP.appName, { from: '919876543210' })).rejects.toThrow()
    expect(rig.callbacks()).toEqual([])
  })
})
