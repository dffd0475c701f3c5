import { randomBytes } from 'node:crypto'

/**
 * Graph API error bodies, shaped like meta.md §1.4 and the fixtures
 * send-error-130429-rate-limit.json / send-error-131056-pair-rate-limit.json.
 */
export interface GraphErrorBody {
  error: {
    message: string
    type: string
    code: number
    error_data?: { messaging_product: 'whatsapp'; details: string }
    error_subcode?: number
    fbtrace_id: string
  }
}

/** An HTTP status with its Graph error body. */
export interface GraphErrorReply {
  status: number
  body: GraphErrorBody
}

/** A fresh trace id, like Meta's (`Az8or2yhqkZfEZ-_4Qn_Bam`: 23 url-safe characters). */
export function newFbtraceId(): string {
  return randomBytes(18).toString('base64url').slice(0, 23)
}

function graphError(
  status: number,
  code: number,
  message: string,
  extra: { details?: string; subcode?: number; type?: string } = {},
): GraphErrorReply {
  // Key order follows the fixture: message, type, code, error_data, error_subcode, fbtrace_id.
  const head: Omit<GraphErrorBody['error'], 'fbtrace_id'> = { message, type: extra.type ?? 'OAuthException', code }
  if (extra.details !== undefined) head.error_data = { messaging_product: 'whatsapp', details: extra.details }
  if (extra.subcode !== undefined) head.error_subcode = extra.subcode
  return { status, body: { error: { ...head, fbtrace_id: newFbtraceId() } } }
}

/**
 * The Graph error replies the simulator gives.
 *
 * @example
 * const { status, body } = graphErrors.invalidParameter("text.body: required")
 * // status 400, body.error.code 100
 */
export const graphErrors = {
  /** Bearer token absent or not the account's: HTTP 401, code 190 (meta.md §3). */
  invalidToken: (reason: string) => graphError(401, 190, `Invalid OAuth access token - ${reason}`),
  /** Phone number / media / WABA id the token cannot reach (Graph code 100, subcode 33). */
  unknownObject: (id: string) =>
    graphError(
      400,
      100,
      `Unsupported post request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      { subcode: 33, type: 'GraphMethodException' },
    ),
  /** Body does not follow the documented shape (brief: `(#100) Invalid parameter` + details). */
  invalidParameter: (details: string) => graphError(400, 100, '(#100) Invalid parameter', { details }),
  /** Same body as fixture send-error-130429-rate-limit.json, with a fresh fbtrace_id. */
  rateLimit: () =>
    graphError(429, 130429, '(#130429) Rate limit hit', {
      details:
        'Message failed to send because there were too many messages sent from this phone number in a short period of time',
      subcode: 2494055,
    }),
  pairRateLimit: () =>
    graphError(400, 131056, '(#131056) (Business Account, Consumer Account) pair rate limit hit', {
      details:
        'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
    }),
  serverError: () => graphError(500, 131000, '(#131000) Something went wrong', { details: 'Something went wrong' }),
  templateMissing: (name: string, language: string) =>
    graphError(404, 132001, '(#132001) Template name does not exist in the translation', {
      details: `template name (${name}) does not exist in ${language}`,
    }),
  unknownPath: (path: string) => graphError(400, 2500, `Unknown path components: ${path}`),
}

/** The `errors[]` entry of the failed status sent for a number that is not on WhatsApp (131026). */
export function undeliverableError(): {
  code: number
  title: string
  message: string
  error_data: { details: string }
  href: string
} {
  return {
    code: 131026,
    title: 'Message undeliverable',
    message: 'Message undeliverable',
    error_data: {
      details:
        "Message Undeliverable: the recipient's phone number is not a WhatsApp phone number, or the recipient has not accepted WhatsApp's terms.",
    },
    href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
  }
}

/** The `errors[]` entry of the failed status for a free-form send outside the 24 h window (meta.md §3, §5: 131047). */
export function reengagementError(): ReturnType<typeof undeliverableError> {
  return {
    code: 131047,
    title: 'Re-engagement message',
    message: 'Re-engagement message',
    error_data: {
      details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    },
    href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
  }
}
