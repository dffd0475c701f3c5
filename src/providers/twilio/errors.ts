import { errorCodeForHttpStatus, normalizeProviderCode, type ErrorCode, type NormalizedError } from '../../domain/errors.js'

/**
 * Twilio error codes → normalized codes (DESIGN §6), kept as data. The codes arrive as `code` in a
 * REST error body, `error_code` on a Message, or `ErrorCode` in a status callback. Choices follow
 * the retry column of providers/twilio.md §5; Twilio itself warns that codes move, so anything
 * unlisted falls back to the HTTP status (REST) or `unknown`.
 *
 * @example
 * TWILIO_ERROR_TABLE['63016'] // 'outside_window'
 */
export const TWILIO_ERROR_TABLE: Readonly<Record<string, ErrorCode>> = {
  // REST API level
  '20003': 'auth_failed', // authentication failed (HTTP 401)
  '20429': 'throttled', // Too Many Requests: the request was not processed
  '21211': 'invalid_request', // invalid 'To' number: the doc says validate E.164, not "not on WhatsApp"
  '21408': 'config_error', // Geo Permissions not enabled for the region
  '21606': 'config_error', // From is not message-capable
  '21610': 'recipient_opted_out', // the recipient sent STOP
  '21612': 'invalid_request', // To not reachable via SMS
  '21614': 'invalid_request', // To is not a mobile number
  '21654': 'invalid_request', // ContentSid required
  '21655': 'template_invalid', // ContentSid invalid
  '21656': 'template_invalid', // ContentVariables invalid

  // Carrier / delivery (mostly SMS)
  '30001': 'throttled', // queue overflow: back off
  '30002': 'account_restricted', // account suspended
  '30003': 'transient', // unreachable handset, a one-time downstream issue
  '30004': 'policy_rejected', // blocked by the carrier or the recipient
  '30005': 'recipient_not_on_whatsapp', // unknown or inactive number: mark that URN unreachable
  '30006': 'recipient_not_on_whatsapp', // landline / unreachable carrier: do not retry that destination
  '30007': 'policy_rejected', // carrier spam filter
  '30008': 'transient', // unknown error, retry a limited number of times
  '30410': 'transient', // provider timeout
  '30500': 'transient', // Twilio internal error

  // WhatsApp channel
  '63001': 'config_error', // channel could not authenticate
  '63002': 'config_error', // channel could not find the From address
  '63003': 'recipient_not_on_whatsapp', // To address inactive or invalid
  '63005': 'invalid_request', // channel did not accept the content
  '63007': 'config_error', // no channel with that From address
  '63008': 'config_error', // channel module misconfigured
  '63009': 'transient', // channel provider 5xx
  '63010': 'transient', // Twilio platform internal error
  '63012': 'transient', // channel provider internal error
  '63013': 'policy_rejected', // channel policy violation
  '63014': 'recipient_opted_out', // blocked by user action: stop until they re-engage
  '63015': 'config_error', // sandbox recipient has not joined
  '63016': 'outside_window', // free-form outside the 24 h window
  '63017': 'throttled',
  '63018': 'throttled', // channel rate limit (courier retries it)
  '63019': 'media_unreachable', // media failed to download
  '63020': 'account_restricted', // Business Manager account error
  '63021': 'invalid_request', // invalid content (MIME type, component, template length)
  '63022': 'config_error', // invalid vname certificate
  '63023': 'unknown', // channel generic error
  '63024': 'recipient_not_on_whatsapp', // invalid message recipient
  '63025': 'invalid_request', // media already exists
  '63026': 'policy_rejected', // flagged as spam
  '63027': 'template_invalid', // template missing for that language
  '63028': 'template_invalid', // parameter count mismatch
  '63029': 'unknown', // receiver failed to download the template
  '63030': 'invalid_request', // unsupported parameter for the channel
  '63031': 'invalid_request', // same From and To
  '63032': 'policy_rejected', // WhatsApp marketing experiment
  '63033': 'recipient_opted_out', // recipient blocked (deprecated)
  '63034': 'media_too_large',
  '63037': 'transient', // media upload warning: Twilio retries itself
  '63038': 'throttled', // daily message limit
  '63040': 'template_invalid', // template submission failure
  '63041': 'template_invalid', // template paused
  '63049': 'policy_rejected', // Meta chose not to deliver a marketing message
  '63062': 'config_error', // Marketing Messages API ToS not accepted
  '63101': 'config_error', // WABA not usable
}

/**
 * Normalizes a Twilio error code, keeping Twilio's code and message beside it.
 *
 * @example
 * normalizeTwilioError(21610, 'Attempt to send to unsubscribed recipient').code // 'recipient_opted_out'
 */
export function normalizeTwilioError(code: string | number | undefined, message?: string): NormalizedError {
  return normalizeProviderCode(TWILIO_ERROR_TABLE, code, message)
}

/**
 * The normalized code for a failed REST call: the Twilio code when the table knows it, else what
 * the HTTP status says (5xx → transient, 429 → throttled, 401/403 → auth_failed), else `unknown`.
 *
 * @example
 * restErrorCode(500, 20500) // 'transient'
 */
export function restErrorCode(httpStatus: number, twilioCode: number | undefined): ErrorCode {
  const fromTable = twilioCode === undefined ? undefined : TWILIO_ERROR_TABLE[String(twilioCode)]
  if (fromTable !== undefined && fromTable !== 'unknown') return fromTable
  return errorCodeForHttpStatus(httpStatus)
}
