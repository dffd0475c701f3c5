import { createHash } from 'node:crypto'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { startCaptureServer } from '../../../test/harness/capture-server.js'
import { DISPLAY, PHONE_ID, TOKEN, WABA, signatureIsValid, startRig, valueOf, type Rig } from './test-kit.js'

let rig: Rig
afterEach(async () => {
  await rig.close()
})

async function getJson(url: string, token: string | null = TOKEN) {
  const res = await request(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  const bytes = Buffer.from(await res.body.arrayBuffer())
  return { status: res.statusCode, bytes, type: res.headers['content-type'], json: () => JSON.parse(bytes.toString('utf8')) as Record<string, unknown> }
}

describe('inbound()', () => {
  it('posts a signed text message webhook from the contact', async () => {
    rig = await startRig()
    const { providerMessageId } = await rig.sim.inbound(PHONE_ID, { from: '+16505551234', text: 'Body Text', name: 'Test Name' })
    await rig.sim.idle(2000)
    expect(rig.hooks.requests).toHaveLength(1)
    const req = rig.hooks.requests[0]!
    expect(signatureIsValid(req)).toBe(true)
    expect((req.json as { entry: Array<{ id: string }> }).entry[0]?.id).toBe(WABA)
    const value = valueOf(req)
    expect(value.metadata).toEqual({ display_phone_number: DISPLAY, phone_number_id: PHONE_ID })
    expect(value.contacts).toEqual([{ profile: { name: 'Test Name' }, wa_id: '16505551234' }])
    expect(value.messages).toEqual([
      { from: '16505551234', id: providerMessageId, timestamp: expect.stringMatching(/^\d{10}$/), type: 'text', text: { body: 'Body Text' } },
    ])
    expect(providerMessageId).toMatch(/^wamid\./)
  })

  it('comes from the 12-digit wa_id for a Brazilian mobile with the ninth digit', async () => {
    rig = await startRig()
    await rig.sim.inbound(PHONE_ID, { from: '+5511987654321', text: 'oi' })
    await rig.sim.idle(2000)
    const value = valueOf(rig.hooks.requests[0]!)
    expect(value.contacts?.[0]?.wa_id).toBe('551187654321')
    expect(value.messages?.[0]?.from).toBe('551187654321')
  })

  it('quotes the business message it replies to', async () => {
    rig = await startRig()
    await rig.sim.inbound(PHONE_ID, { from: '16505551234', text: 'replied text', reply_to: 'wamid.xyzxyz==' })
    await rig.sim.idle(2000)
    expect(valueOf(rig.hooks.requests[0]!).messages?.[0]?.context).toEqual({ from: DISPLAY, id: 'wamid.xyzxyz==' })
  })

  it('sends a template quick-reply as type button', async () => {
    rig = await startRig()
    await rig.sim.inbound(PHONE_ID, { from: '16505551234', button: { text: 'title', payload: 'callback_data' } })
    await rig.sim.idle(2000)
    const message = valueOf(rig.hooks.requests[0]!).messages?.[0]
    expect(message).toMatchObject({ type: 'button', button: { text: 'title', payload: 'callback_data' } })
  })

  it('sends media by id, downloadable through the Graph lookup and its url with the Bearer token', async () => {
    rig = await startRig()
    const bytes = Buffer.from('fake jpeg bytes')
    await rig.sim.inbound(PHONE_ID, {
      from: '16505551234',
      media: { url: `data:image/jpeg;base64,${bytes.toString('base64')}`, caption: 'look' },
    })
    await rig.sim.idle(2000)
    const req = rig.hooks.requests[0]!
    expect(signatureIsValid(req)).toBe(true)
    const message = valueOf(req).messages?.[0] as { type: string; image: { id: string; mime_type: string; sha256: string; caption: string } }
    const sha = createHash('sha256').update(bytes).digest('base64')
    expect(message.type).toBe('image')
    expect(message.image).toEqual({ id: expect.stringMatching(/^\d+$/), mime_type: 'image/jpeg', sha256: sha, caption: 'look' })

    const lookup = await getJson(`${rig.sim.url}/v25.0/${message.image.id}`)
    expect(lookup.status).toBe(200)
    const info = lookup.json()
    expect(info).toMatchObject({ messaging_product: 'whatsapp', id: message.image.id, mime_type: 'image/jpeg', sha256: sha, file_size: bytes.length })
    expect(await getJson(`${rig.sim.url}/v25.0/${message.image.id}`, 'wrong')).toMatchObject({ status: 401 })

    const download = await getJson(String(info.url))
    expect(download.status).toBe(200)
    expect(download.type).toBe('image/jpeg')
    expect(download.bytes.equals(bytes)).toBe(true)
    expect((await getJson(String(info.url), null)).status).toBe(401)
  })

  it('types media by MIME and fetches loopback URLs', async () => {
    const files = await startCaptureServer(() => ({ status: 200, body: 'PDFDATA', headers: { 'content-type': 'application/pdf' } }))
    rig = await startRig()
    await rig.sim.inbound(PHONE_ID, { from: '16505551234', media: { url: `${files.url}/doc.pdf`, filename: 'doc.pdf' } })
    await rig.sim.inbound(PHONE_ID, { from: '16505551234', media: { url: 'https://example.invalid/a.ogg', mime_type: 'audio/ogg' } })
    await rig.sim.inbound(PHONE_ID, { from: '16505551234', media: { url: 'https://example.invalid/v.mp4', mime_type: 'video/mp4' } })
    await rig.sim.idle(2000)
    await files.close()
    const messages = rig.hooks.requests.map((r) => valueOf(r).messages?.[0] as Record<string, Record<string, unknown>>)
    const byType = Object.fromEntries(messages.map((m) => [String(m.type), m]))
    expect(byType.document?.document).toMatchObject({ mime_type: 'application/pdf', filename: 'doc.pdf' })
    expect(byType.audio?.audio).toMatchObject({ mime_type: 'audio/ogg' })
    expect(byType.audio?.audio).not.toHaveProperty('caption')
    expect(byType.video?.video).toMatchObject({ mime_type: 'video/mp4' })
    const docId = String(byType.document?.document?.id)
    const info = (await getJson(`${rig.sim.url}/v25.0/${docId}`)).json()
    expect((await getJson(String(info.url))).bytes.toString()).toBe('PDFDATA')
  })

  it('refuses an unknown account', async () => {
    rig = await startRig()
    await expect(rig.sim.inbound('nope', { from: '16505551234', text: 'x' })).rejects.toThrow(/unknown/)
  })
})
