/**
 * The catalog of API error codes: stable, greppable, each with its HTTP status and title. Bodies
 * are `application/problem+json` (RFC 9457) with `code` beside `type`/`title`/`status`/`detail`.
 */
export const PROBLEMS = {
  // Request shape
  malformed_json: { status: 400, title: 'The body is not valid JSON' },
  invalid_request: { status: 400, title: 'The request does not match the schema' },
  unknown_message_type: { status: 400, title: 'Unknown message type' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  request_timeout: { status: 408, title: 'The request took too long to arrive' },
  // Auth
  unauthorized: { status: 401, title: 'Missing or invalid API key' },
  invalid_signature: { status: 401, title: 'Webhook signature missing or invalid' },
  // Resources
  not_found: { status: 404, title: 'Not found' },
  unknown_account: { status: 404, title: 'Unknown account' },
  unknown_message: { status: 404, title: 'Unknown message' },
  unknown_contact: { status: 404, title: 'Unknown contact' },
  route_not_found: { status: 404, title: 'No such route' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  // Semantics
  invalid_recipient: { status: 422, title: 'The recipient is not a valid number or WhatsApp id' },
  invalid_phone_number: { status: 422, title: 'The phone number is not valid' },
  invalid_account_config: { status: 422, title: 'The provider configuration is invalid' },
  account_required: { status: 422, title: 'Say which account sends the message' },
  account_name_taken: { status: 409, title: 'Account name already in use' },
  account_route_taken: { status: 409, title: 'Another account already uses this provider address' },
  account_in_use: { status: 409, title: 'The account has messages' },
  provider_unavailable: { status: 422, title: 'Provider not available' },
  unsupported_message_type: { status: 422, title: 'The provider cannot send this message type' },
  media_unsupported: { status: 422, title: 'The provider does not accept this media type' },
  media_too_large: { status: 422, title: 'The media is larger than the provider accepts' },
  media_url_refused: { status: 422, title: 'The media URL points at a private or loopback address' },
  text_too_long: { status: 422, title: 'The text is longer than the provider accepts' },
  unknown_target_message: { status: 422, title: 'The message replied or reacted to is not known' },
  // Routing (issue 5, DESIGN §9)
  no_active_session: { status: 409, title: 'The contact has no active session on this account' },
  // Identity (issue 4): the business blocked the contact / the contact opted out of the account
  contact_blocked: { status: 422, title: 'The contact is blocked' },
  recipient_opted_out: { status: 422, title: 'The contact opted out of this account' },
  // Window, templates and variables (issue 5, DESIGN §8)
  outside_window: { status: 422, title: 'The 24-hour window is closed and the account rejects free-form messages outside it' },
  template_invalid: { status: 422, title: 'The template is not registered in this language or its parameters do not match' },
  missing_variable: { status: 422, title: 'The text uses a {{variable}} the request does not give' },
  unknown_template: { status: 404, title: 'Unknown template' },
  template_sync_unavailable: { status: 422, title: 'Templates cannot be synced from this provider or account' },
  template_sync_failed: { status: 502, title: 'The provider did not list the templates' },
  invalid_cursor: { status: 400, title: 'The cursor is not valid' },
  // Events out (issue 6): subscriptions and rules
  webhook_url_refused: { status: 422, title: 'The webhook URL points at a private or loopback address' },
  rule_name_taken: { status: 409, title: 'Rule name already in use' },
  // Idempotency (draft-ietf-httpapi-idempotency-key-header)
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused with a different request' },
  idempotency_key_in_flight: { status: 409, title: 'A request with this idempotency key is still being processed' },
  invalid_idempotency_key: { status: 400, title: 'The Idempotency-Key header is not valid' },
  // Sandbox
  not_a_sandbox_account: { status: 404, title: 'Not a sandbox account' },
  // Server side
  store_unavailable: { status: 503, title: 'The store is unavailable; retry later' },
  internal_error: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>

export type ProblemCode = keyof typeof PROBLEMS

export interface ProblemBody {
  type: string
  code: ProblemCode
  title: string
  status: number
  detail: string
  [extra: string]: unknown
}

export function problem(code: ProblemCode, detail: string, extra: Record<string, unknown> = {}): ProblemBody {
  const entry = PROBLEMS[code]
  return { type: `urn:wagate:problem:${code}`, code, title: entry.title, status: entry.status, detail, ...extra }
}
