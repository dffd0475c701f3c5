import { z } from 'zod'
import type { Dispatcher } from 'undici'
import { SendError } from '../../domain/errors.js'
import { tokenUrl } from './config.js'
import type { SinchConfig } from './config.js'
import { sendErrorFromHttp } from './errors.js'
import { TransportError, post } from './http.js'

/**
 * OAuth2 client-credentials tokens for the Conversation API (sinch.md §1): one cached token per
 * (token endpoint, key_id), renewed shortly before it expires, and a single request in flight per
 * key so a burst of sends shares it.
 */

/** Renew this long before expiry so a token never dies between being read and being used. */
export const DEFAULT_REFRESH_MARGIN_MS = 60_000
/** When the endpoint says neither `expires_in` nor a JWT `exp`, assume a short life. */
const FALLBACK_LIFETIME_MS = 5 * 60_000

const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive().optional(),
  token_type: z.string().optional(),
  scope: z.string().optional(),
})

interface CachedToken {
  token: string
  /** Unix ms after which it must not be used any more (expiry minus margin). */
  renewAt: number
}

export interface TokenRequestOptions {
  timeoutMs: number
  dispatcher?: Dispatcher
}

export interface TokenCache {
  /** A valid access token, from the cache or freshly fetched. Throws SendError. */
  get(config: SinchConfig, opts: TokenRequestOptions): Promise<string>
  /** Forgets `token` (after a 401) unless a newer one already replaced it. */
  invalidate(config: SinchConfig, token: string): void
}

/**
 * @example
 * const tokens = createTokenCache({ now: Date.now })
 * const bearer = await tokens.get(config, { timeoutMs: 10_000 })
 */
export function createTokenCache(options: { now: () => number; refreshMarginMs?: number }): TokenCache {
  const cache = new Map<string, CachedToken>()
  const inflight = new Map<string, Promise<string>>()
  const margin = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS
  const keyOf = (config: SinchConfig) => `${tokenUrl(config)}\n${config.key_id}`

  async function fetchToken(key: string, config: SinchConfig, opts: TokenRequestOptions): Promise<string> {
    const started = options.now()
    const answer = await post({
      url: tokenUrl(config),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: basicAuthorization(config),
      },
      body: 'grant_type=client_credentials',
      timeoutMs: opts.timeoutMs,
      ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    }).catch((err: unknown) => {
      // No message left yet, so a retry can never duplicate one.
      throw new SendError({ code: 'transient', providerMessage: err instanceof TransportError ? err.message : 'token request failed' })
    })
    if (answer.status < 200 || answer.status >= 300) {
      throw sendErrorFromHttp(answer.status, answer.text, answer.header('retry-after'), Date.now())
    }
    const parsed = parseTokenResponse(answer.text)
    if (!parsed) throw new SendError({ code: 'auth_failed', providerMessage: 'token endpoint answered without an access_token', httpStatus: answer.status })
    const lifetime = lifetimeMs(parsed, started)
    // Short-lived tokens would otherwise be renewed on every call: keep at least half their life.
    cache.set(key, { token: parsed.access_token, renewAt: started + lifetime - Math.min(margin, lifetime / 2) })
    return parsed.access_token
  }

  return {
    get(config, opts) {
      const key = keyOf(config)
      const cached = cache.get(key)
      if (cached && options.now() < cached.renewAt) return Promise.resolve(cached.token)
      const pending = inflight.get(key)
      if (pending) return pending
      const started = fetchToken(key, config, opts).finally(() => inflight.delete(key))
      inflight.set(key, started)
      return started
    },
    invalidate(config, token) {
      const key = keyOf(config)
      if (cache.get(key)?.token === token) cache.delete(key)
    },
  }
}

/**
 * HTTP Basic credentials of the access key, used on the token endpoint and in `basic` auth mode.
 *
 * @example
 * basicAuthorization({ key_id: 'id', key_secret: 'secret' }) // 'Basic aWQ6c2VjcmV0'
 */
export function basicAuthorization(config: Pick<SinchConfig, 'key_id' | 'key_secret'>): string {
  return `Basic ${Buffer.from(`${config.key_id}:${config.key_secret}`, 'utf8').toString('base64')}`
}

function parseTokenResponse(text: string): z.infer<typeof TokenResponseSchema> | undefined {
  try {
    const parsed = TokenResponseSchema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

function lifetimeMs(token: z.infer<typeof TokenResponseSchema>, issuedAt: number): number {
  if (token.expires_in !== undefined) return token.expires_in * 1000
  const exp = jwtExpiry(token.access_token)
  if (exp !== undefined && exp * 1000 > issuedAt) return exp * 1000 - issuedAt
  return FALLBACK_LIFETIME_MS
}

/** The `exp` claim (unix seconds) of a JWT, read without verifying it: only used for caching. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1]
  if (!payload) return undefined
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    const exp = typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined
  } catch {
    return undefined
  }
}
