import type { Template } from '../../domain/content.js'
import { SendError } from '../../domain/errors.js'
import type { AccountContext, OutboundMessage } from '../types.js'
import { fromAddress, toAddress } from './addresses.js'
import { twilioCapabilities } from './capabilities.js'
import type { TwilioConfig } from './config.js'

/**
 * Builds the form body of `POST /2010-04-01/Accounts/{sid}/Messages.json` (twilio.md §1).
 * Repeated keys (several `MediaUrl`) are why this returns URLSearchParams and not a record.
 *
 * @example
 * buildMessageForm(account, { id: 'msg_1', to: { phone: '+31612345678' }, content: { type: 'text', text: 'hi' }, attempt: 1 })
 *   .toString() // 'To=whatsapp%3A%2B31612345678&From=…&Body=hi&StatusCallback=…'
 */
export function buildMessageForm(account: AccountContext<TwilioConfig>, message: OutboundMessage): URLSearchParams {
  const { channel, config } = account
  const supported = twilioCapabilities(channel).types
  if (!supported.includes(message.content.type)) {
    throw invalid(`Twilio ${channel} cannot send '${message.content.type}' messages through the Messages API${
      message.content.type === 'interactive' ? '; buttons and lists need a Content API template (send it as a template with its ContentSid)' : ''
    }`)
  }

  const form = new URLSearchParams()
  form.append('To', toAddress(channel, message.to))
  if (account.phoneNumber) form.append('From', fromAddress(channel, account.phoneNumber))
  if (config.messaging_service_sid !== undefined) form.append('MessagingServiceSid', config.messaging_service_sid)
  if (!form.has('From') && !form.has('MessagingServiceSid')) throw invalid('the account has neither a phone number nor a messaging_service_sid')

  appendContent(form, message)
  // Twilio has no outbound quoting parameter, so `message.replyTo` cannot be expressed and is dropped.
  if (account.webhookUrl) form.append('StatusCallback', statusCallbackUrl(account.webhookUrl, message.id))
  return form
}

/**
 * The account's webhook URL with `wagate_id=<message id>` added to its query. Twilio has no client
 * reference field, so this is the one place a callback (and a simulator counting duplicate sends)
 * can read which wagate message it concerns. Twilio signs the URL with its query (twilio.md §4), so
 * the webhook route still verifies it as received.
 *
 * @example
 * statusCallbackUrl('https://gw.example/webhooks/twilio/main', 'msg_1') // 'https://gw.example/webhooks/twilio/main?wagate_id=msg_1'
 */
export function statusCallbackUrl(webhookUrl: string, messageId: string): string {
  // Appended as text, not rebuilt through URL: the gateway checks the signature against its public
  // URL exactly as configured, so the part before the query must stay byte for byte the same.
  return `${webhookUrl}${webhookUrl.includes('?') ? '&' : '?'}wagate_id=${encodeURIComponent(messageId)}`
}

function appendContent(form: URLSearchParams, message: OutboundMessage): void {
  const content = message.content
  switch (content.type) {
    case 'text':
      checkLength(content.text)
      form.append('Body', content.text)
      return
    case 'image':
    case 'audio':
    case 'video':
    case 'document':
    case 'sticker': {
      if (content.media.url === undefined) throw invalid('Twilio sends media by URL only (media.id is a Meta upload id)')
      // Twilio has no filename field; WhatsApp shows the name from the URL or Content-Disposition.
      if (content.media.caption) {
        checkLength(content.media.caption)
        form.append('Body', content.media.caption)
      }
      form.append('MediaUrl', content.media.url)
      return
    }
    case 'template':
      appendTemplate(form, content.template)
      return
    case 'location': {
      const { latitude, longitude, name, address } = content.location
      // PersistentAction `geo:lat,lon|label` is how the Messages API carries a WhatsApp location.
      form.append('Body', [name, address].filter((v) => v !== undefined && v !== '').join('\n') || `${latitude},${longitude}`)
      form.append('PersistentAction', `geo:${latitude},${longitude}${name ? `|${name}` : ''}`)
      return
    }
    case 'interactive':
    case 'reaction':
      throw invalid(`Twilio cannot send '${content.type}' messages`)
  }
}

const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/

/**
 * A template is a Content API template: `template.name` is its ContentSid and the body's text
 * parameters become ContentVariables {"1": …, "2": …}. Twilio numbers variables across the whole
 * template, so header/button parameters have no unambiguous slot and are refused rather than guessed.
 * `template.language` is ignored: a ContentSid already fixes the language.
 */
function appendTemplate(form: URLSearchParams, template: Template): void {
  if (!CONTENT_SID.test(template.name)) {
    throw new SendError({
      code: 'template_invalid',
      providerMessage: `on Twilio, template.name must be the Content SID (HX followed by 32 hex digits), got '${template.name}'`,
    })
  }
  const variables: Record<string, string> = {}
  let n = 0
  for (const component of template.components ?? []) {
    if (component.parameters.length === 0) continue
    if (component.type !== 'body') {
      throw invalid(`Twilio ContentVariables only carry body text parameters; a ${component.type} component has parameters`)
    }
    for (const parameter of component.parameters) {
      if (parameter.type !== 'text') throw invalid(`Twilio ContentVariables only carry text; got a '${parameter.type}' body parameter`)
      n += 1
      variables[String(n)] = parameter.text
    }
  }
  // A template goes without Body/MediaUrl: the content comes from the ContentSid (D-ERR-63016).
  form.append('ContentSid', template.name)
  if (n > 0) form.append('ContentVariables', JSON.stringify(variables))
}

function checkLength(text: string): void {
  if (text.length > 1600) {
    throw new SendError({ code: 'text_too_long', providerMessage: `Twilio Body is limited to 1600 characters, got ${text.length}` })
  }
}

function invalid(providerMessage: string): SendError {
  return new SendError({ code: 'invalid_request', providerMessage })
}
