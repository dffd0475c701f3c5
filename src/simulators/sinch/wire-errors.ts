/**
 * Synchronous error answers of the Conversation API: `{"error":{"code":<http>,"message","status"}}`
 * with a Google RPC status name (DOCS21 "Errors"; fixture error_400_invalid_argument_sdk_fixture.json).
 */
export interface SinchErrorAnswer {
  httpStatus: number
  headers: Record<string, string>
  body: { error: { code: number; message: string; status: string } }
}

function answer(httpStatus: number, status: string, message: string, headers: Record<string, string> = {}): SinchErrorAnswer {
  return { httpStatus, headers, body: { error: { code: httpStatus, message, status } } }
}

/**
 * @example
 * invalidArgument('message: exactly one of text_message, … is required').body.error.status // 'INVALID_ARGUMENT'
 */
export function invalidArgument(detail: string): SinchErrorAnswer {
  return answer(400, 'INVALID_ARGUMENT', `Invalid argument: ${detail}`)
}

/**
 * 401. An expired token says so in `www-authenticate`: the Python SDK refreshes and retries once
 * when that header contains `expired` (sinch.md §1).
 */
export function unauthenticated(reason: 'missing' | 'invalid' | 'expired'): SinchErrorAnswer {
  const challenge =
    reason === 'expired'
      ? 'Bearer error="invalid_token", error_description="The access token expired"'
      : reason === 'invalid'
        ? 'Bearer error="invalid_token", error_description="The access token is invalid"'
        : 'Bearer realm="sinch"'
  return answer(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.', {
    'www-authenticate': challenge,
  })
}

export function permissionDenied(projectId: string): SinchErrorAnswer {
  return answer(403, 'PERMISSION_DENIED', `The credentials have no access to project ${projectId}`)
}

export function notFound(path: string): SinchErrorAnswer {
  return answer(404, 'NOT_FOUND', `No route for ${path}`)
}

/** 429; the Python SDK retries only 429 and honours Retry-After (sinch.md §1). */
export function resourceExhausted(retryAfterSeconds: number): SinchErrorAnswer {
  return answer(429, 'RESOURCE_EXHAUSTED', 'Too many requests, rate limit exceeded', {
    'retry-after': String(retryAfterSeconds),
  })
}

export function serverError(variant: 500 | 503): SinchErrorAnswer {
  return variant === 500
    ? answer(500, 'INTERNAL', 'Internal error encountered.')
    : answer(503, 'UNAVAILABLE', 'The service is currently unavailable.')
}

/**
 * OAuth token endpoint errors use the OAuth2 shape (RFC 6749 §5.2), not the Conversation API's
 * (inference: sinch.md does not show them).
 */
export interface OAuthErrorAnswer {
  httpStatus: number
  body: { error: string; error_description: string }
}

export function oauthError(httpStatus: 400 | 401, error: string, description: string): OAuthErrorAnswer {
  return { httpStatus, body: { error, error_description: description } }
}
