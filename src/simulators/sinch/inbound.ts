import type { SimulatedInbound } from '../types.js'

/**
 * The `contact_message` of a MESSAGE_INBOUND for a simulated contact action (sinch.md §2):
 * a tapped button becomes `choice_response_message{message_id, postback_data}` whose message_id is
 * the app message that carried the button; a quoted reply adds `reply_to{message_id}`; media with a
 * caption is a `media_card_message`.
 *
 * @example
 * contactMessageFor({ from: '+4670', text: 'hi', reply_to: 'M1' }, () => undefined)
 * // { text_message: { text: 'hi' }, reply_to: { message_id: 'M1' } }
 */
export function contactMessageFor(
  inbound: SimulatedInbound,
  /** The app message a button answers when the caller did not say (the last one sent to the contact). */
  buttonTarget: () => string | undefined,
): Record<string, unknown> | undefined {
  const replyTo = inbound.reply_to ? { reply_to: { message_id: inbound.reply_to } } : {}
  if (inbound.button) {
    const messageId = inbound.reply_to ?? buttonTarget() ?? ''
    // Sinch's default postback is `<message_id>_<choice text>` (sinch.md §2).
    const postback = inbound.button.payload ?? `${messageId}_${inbound.button.text}`
    return { choice_response_message: { message_id: messageId, postback_data: postback } }
  }
  if (inbound.media) {
    const caption = inbound.media.caption ?? inbound.text
    const media = caption
      ? { media_card_message: { url: inbound.media.url, caption } }
      : { media_message: { url: inbound.media.url } }
    return { ...media, ...replyTo }
  }
  if (inbound.text !== undefined) return { text_message: { text: inbound.text }, ...replyTo }
  return undefined
}
