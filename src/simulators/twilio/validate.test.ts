import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import { createTwilioSimulator, type TwilioSimulator } from './simulator.js'
import { ACCOUNT } from './test-support.js'

let sim: TwilioSimulator
beforeAll(async () => {
  sim = createTwilioSimulator({ accounts: [ACCOUNT], optedOut: ['+15005550042'] })
  await sim.start()
})
afterAll(() => sim.stop())

const auth = 'Basic ' + Buffer.from(`${ACCOUNT.accountSid}:${ACCOUNT.authToken}`).toString('base64')

async function post(fields: Array<[string, string]>) {
  const res = await fetch(`${sim.url}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Messages.json`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

const WA_FROM: [string, string] = ['From', 'whatsapp:+14155238886']
const WA_TO: [string, string] = ['To', 'whatsapp:+31612345678']
const TEXT: [string, string] = ['Body', 'hello']
const SERVICE: [string, string] = ['MessagingServiceSid', 'MG' + '0'.repeat(32)]

// Expected codes: twilio.md §1/§5 and Twilio's error pages (21602, 21603, 21604, 21606, 21609,
// 21610, 21617, 21619, 21620, 21623, 21654-21656, 21705, 21910, 63007).
const cases: Array<{ name: string; fields: Array<[string, string]>; code: number }> = [
  { name: 'To missing', fields: [WA_FROM, TEXT], code: 21604 },
  { name: 'From and MessagingServiceSid missing', fields: [WA_TO, TEXT], code: 21603 },
  { name: 'MessagingServiceSid malformed', fields: [WA_TO, TEXT, ['MessagingServiceSid', 'MG123']], code: 21705 },
  { name: 'To without +', fields: [WA_FROM, ['To', 'whatsapp:31612345678'], TEXT], code: 21211 },
  { name: 'To not a number', fields: [['From', '+14155238886'], ['To', '5551234567'], TEXT], code: 21211 },
  { name: 'From WhatsApp, To SMS', fields: [WA_FROM, ['To', '+31612345678'], TEXT], code: 21910 },
  { name: 'From SMS, To WhatsApp', fields: [['From', '+14155238886'], WA_TO, TEXT], code: 21910 },
  { name: 'WhatsApp From not ours', fields: [['From', 'whatsapp:+14150000001'], WA_TO, TEXT], code: 63007 },
  { name: 'SMS From not ours', fields: [['From', '+14150000001'], ['To', '+31612345678'], TEXT], code: 21606 },
  { name: 'no Body, MediaUrl or ContentSid', fields: [WA_FROM, WA_TO], code: 21602 },
  { name: 'no content with a Messaging Service', fields: [SERVICE, WA_TO], code: 21619 },
  { name: 'Body over 1600 chars', fields: [WA_FROM, WA_TO, ['Body', 'x'.repeat(1601)]], code: 21617 },
  {
    name: 'eleven MediaUrl',
    fields: [WA_FROM, WA_TO, ...Array.from({ length: 11 }, (_, i): [string, string] => ['MediaUrl', `https://m.test/${i}.png`])],
    code: 21623,
  },
  { name: 'MediaUrl not http', fields: [WA_FROM, WA_TO, ['MediaUrl', 'ftp://m.test/a.png']], code: 21620 },
  { name: 'ContentSid malformed', fields: [WA_FROM, WA_TO, ['ContentSid', 'HX12']], code: 21655 },
  { name: 'ContentVariables without ContentSid', fields: [WA_FROM, WA_TO, TEXT, ['ContentVariables', '{}']], code: 21654 },
  {
    name: 'ContentVariables not a JSON object',
    fields: [WA_FROM, WA_TO, ['ContentSid', 'HX' + '1'.repeat(32)], ['ContentVariables', '[1]']],
    code: 21656,
  },
  { name: 'StatusCallback with underscore host', fields: [WA_FROM, WA_TO, TEXT, ['StatusCallback', 'http://my_host/cb']], code: 21609 },
  { name: 'SMS to an opted-out number', fields: [['From', '+14155238886'], ['To', '+15005550042'], TEXT], code: 21610 },
  { name: 'SMS to a number opted out of this account', fields: [['From', '+14155238886'], ['To', '+15005550009'], TEXT], code: 21610 },
]

describe('send validation', () => {
  it.each(cases)('$name → 400 / $code', async ({ fields, code }) => {
    const { status, json } = await post(fields)
    expect(status).toBe(400)
    expect(json).toMatchObject({ code, status: 400, more_info: `https://www.twilio.com/docs/errors/${code}` })
    expect(typeof json.message).toBe('string')
  })

  it('words 21211 like the documented example', async () => {
    const fixture = readFixtureJson<Record<string, unknown>>('twilio', 'rest_error_400_21211.json')
    const { json } = await post([['From', '+14155238886'], ['To', '5551234567'], TEXT])
    expect(json).toEqual(fixture)
  })

  it('accepts a business-scoped user id as a WhatsApp To', async () => {
    const { status, json } = await post([WA_FROM, ['To', 'whatsapp:US.1234'], TEXT])
    expect(status).toBe(201)
    expect(json.to).toBe('whatsapp:US.1234')
  })

  it('accepts media without Body and counts it', async () => {
    const { status, json } = await post([WA_FROM, WA_TO, ['MediaUrl', 'https://m.test/a.png'], ['MediaUrl', 'https://m.test/b.png']])
    expect(status).toBe(201)
    expect(json.num_media).toBe('2')
    const record = sim.sent().find((r) => r.providerMessageId === json.sid)
    expect(record?.type).toBe('media')
    expect(record?.body).toMatchObject({ MediaUrl: ['https://m.test/a.png', 'https://m.test/b.png'] })
  })

  it('does not refuse WhatsApp sends to a number opted out of SMS', async () => {
    const { status } = await post([WA_FROM, ['To', 'whatsapp:+15005550042'], TEXT])
    expect(status).toBe(201)
  })

  it('counts refused calls as rejected, not sent', async () => {
    const before = sim.stats()
    await post([WA_FROM, TEXT])
    const after = sim.stats()
    expect(after.rejected - before.rejected).toBe(1)
    expect(after.sent).toBe(before.sent)
    expect(after.requests - before.requests).toBe(1)
  })

  it('answers unknown routes with a Twilio 404 body', async () => {
    const res = await fetch(`${sim.url}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Calls.json`, { headers: { authorization: auth } })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 20404, status: 404 })
  })
})
