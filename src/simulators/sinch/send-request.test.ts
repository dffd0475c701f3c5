import { describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import { parseSendRequest } from './send-request.js'

const recipient = { identified_by: { channel_identities: [{ channel: 'WHATSAPP', identity: '46712312312' }] } }
const base = { app_id: 'APP', recipient }

describe('parseSendRequest (first stage: synchronous 400)', () => {
  it('accepts the documented WhatsApp template fragment once app_id and recipient are added', () => {
    const fragment = readFixtureJson<{ message: Record<string, unknown> }>('sinch', 'send_request_whatsapp_template_fragment.json')
    const parsed = parseSendRequest({ ...base, ...fragment })
    expect(parsed.ok).toBe(true)
    if (parsed.ok) {
      expect(parsed.value.kind).toBe('template_message')
      expect(parsed.value.channelProblem).toBeUndefined()
    }
  })

  it.each([
    ['no app_id', { recipient, message: { text_message: { text: 'x' } } }],
    ['no recipient', { app_id: 'A', message: { text_message: { text: 'x' } } }],
    ['no message', { ...base }],
    ['empty message', { ...base, message: {} }],
    ['two contents', { ...base, message: { text_message: { text: 'x' }, media_message: { url: 'https://e.x/a.png' } } }],
    ['text without text', { ...base, message: { text_message: {} } }],
    ['media without url', { ...base, message: { media_message: {} } }],
    ['media url not http', { ...base, message: { media_message: { url: 'ftp://e.x/a.png' } } }],
    ['template with neither reference', { ...base, message: { template_message: {} } }],
    ['whatsapp template without language_code', { ...base, message: { template_message: { channel_template: { WHATSAPP: { template_id: 't' } } } } }],
    ['omni template without version', { ...base, message: { template_message: { omni_template: { template_id: 't' } } } }],
    ['lower-case channel', { app_id: 'A', recipient: { identified_by: { channel_identities: [{ channel: 'whatsapp', identity: '1' }] } }, message: { text_message: { text: 'x' } } }],
    ['both contact_id and identified_by', { app_id: 'A', recipient: { contact_id: 'C', ...recipient }, message: { text_message: { text: 'x' } } }],
    ['empty channel_identities', { app_id: 'A', recipient: { identified_by: { channel_identities: [] } }, message: { text_message: { text: 'x' } } }],
    ['message_metadata over 1024', { ...base, message: { text_message: { text: 'x' } }, message_metadata: 'm'.repeat(1025) }],
    ['correlation_id over 128', { ...base, message: { text_message: { text: 'x' } }, correlation_id: 'c'.repeat(129) }],
    ['choice without choices', { ...base, message: { choice_message: { choices: [] } } }],
    ['location without coordinates', { ...base, message: { location_message: { title: 't' } } }],
    ['not an object', 'hello'],
  ])('refuses %s', (_name, body) => {
    expect(parseSendRequest(body).ok).toBe(false)
  })

  it('accepts a contact_id recipient', () => {
    const parsed = parseSendRequest({ app_id: 'A', recipient: { contact_id: 'C1' }, message: { text_message: { text: 'x' } } })
    expect(parsed.ok && parsed.value.recipient).toEqual({ kind: 'contact', contactId: 'C1' })
  })
})

describe('parseSendRequest (second stage: accepted, fails later)', () => {
  const problemOf = (body: unknown) => {
    const parsed = parseSendRequest(body)
    if (!parsed.ok) throw new Error(`unexpected refusal: ${parsed.message}`)
    return parsed.value.channelProblem?.code
  }

  it('text over the WhatsApp 4096 limit is a BAD_REQUEST', () => {
    expect(problemOf({ ...base, message: { text_message: { text: 'a'.repeat(4097) } } })).toBe('BAD_REQUEST')
    expect(problemOf({ ...base, message: { text_message: { text: 'a'.repeat(4096) } } })).toBeUndefined()
  })

  it('WhatsApp channel templates need the underscored language form', () => {
    const template = (language_code: string) => ({
      ...base,
      message: { template_message: { channel_template: { WHATSAPP: { template_id: 't', language_code } } } },
    })
    expect(problemOf(template('en-US'))).toBe('TEMPLATE_NON_EXISTING_LANGUAGE_OR_VERSION')
    expect(problemOf(template('en_US'))).toBeUndefined()
    expect(problemOf(template('pt_BR'))).toBeUndefined()
  })

  it('template parameter keys must follow <component>[i]<field>', () => {
    const withParams = (parameters: Record<string, string>) => ({
      ...base,
      message: { template_message: { channel_template: { WHATSAPP: { template_id: 't', language_code: 'en', parameters } } } },
    })
    expect(problemOf(withParams({ '1': 'x' }))).toBe('BAD_REQUEST')
    expect(problemOf(withParams({ 'header[1]image.link': 'https://e.x/a.png', 'button[0]quick_reply[1]payload': '' }))).toBeUndefined()
  })

  it('an identity that is not a phone number fails as RECIPIENT_INVALID_CHANNEL_IDENTITY', () => {
    const body = { app_id: 'A', recipient: { identified_by: { channel_identities: [{ channel: 'WHATSAPP', identity: 'whatsapp:+4670' }] } }, message: { text_message: { text: 'x' } } }
    expect(problemOf(body)).toBe('RECIPIENT_INVALID_CHANNEL_IDENTITY')
  })

  it('no WHATSAPP identity fails as CHANNEL_CONFIGURATION_MISSING', () => {
    const body = { app_id: 'A', recipient: { identified_by: { channel_identities: [{ channel: 'SMS', identity: '4670' }] } }, message: { text_message: { text: 'x' } } }
    expect(problemOf(body)).toBe('CHANNEL_CONFIGURATION_MISSING')
  })
})
