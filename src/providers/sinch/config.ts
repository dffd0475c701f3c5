import { z } from 'zod'
import { httpUrl } from '../../domain/content.js'

/**
 * Account configuration for the Sinch Conversation API (sinch.md §1). `base_url` / `auth_url` exist
 * so the sandbox and tests can point the adapter at a simulator or capture server.
 */

export const SINCH_REGIONS = ['us', 'eu', 'br'] as const
export type SinchRegion = (typeof SINCH_REGIONS)[number]

/** The current SDKs use this token endpoint for every region (sinch.md §1). */
export const DEFAULT_AUTH_URL = 'https://auth.sinch.com/oauth2/token'

/**
 * @example
 * const config = SinchConfigSchema.parse({ project_id: 'p', app_id: 'a', key_id: 'k', key_secret: 's', region: 'eu' })
 * config.auth_mode // 'oauth'
 */
export const SinchConfigSchema = z.object({
  project_id: z.string().min(1).max(256),
  app_id: z.string().min(1).max(256),
  key_id: z.string().min(1).max(256),
  key_secret: z.string().min(1).max(1024),
  region: z.enum(SINCH_REGIONS).default('us'),
  /** HMAC secret of the Sinch webhook (`x-sinch-webhook-signature`). */
  webhook_secret: z.string().min(1).max(1024).optional(),
  /** Extra shared token the webhook URL (or a Bearer header) must carry. */
  webhook_token: z.string().min(1).max(1024).optional(),
  /** Replaces `https://{region}.conversation.api.sinch.com`. */
  base_url: httpUrl.optional(),
  /** Replaces the OAuth token endpoint; a bare origin gets `/oauth2/token` appended. */
  auth_url: httpUrl.optional(),
  /** `basic` sends key_id:key_secret on every call instead of fetching a token (DOCS21). */
  auth_mode: z.enum(['oauth', 'basic']).default('oauth'),
})

export type SinchConfig = z.infer<typeof SinchConfigSchema>

/**
 * The API origin for an account, without a trailing slash.
 *
 * @example
 * apiBaseUrl({ region: 'br' }) // 'https://br.conversation.api.sinch.com'
 */
export function apiBaseUrl(config: Pick<SinchConfig, 'region' | 'base_url'>): string {
  const base = config.base_url ?? `https://${config.region}.conversation.api.sinch.com`
  return base.replace(/\/+$/, '')
}

/**
 * The OAuth2 token endpoint for an account.
 *
 * @example
 * tokenUrl({ auth_url: 'http://127.0.0.1:4000' }) // 'http://127.0.0.1:4000/oauth2/token'
 */
export function tokenUrl(config: Pick<SinchConfig, 'auth_url'>): string {
  if (!config.auth_url) return DEFAULT_AUTH_URL
  const u = new URL(config.auth_url)
  // An origin alone is almost certainly a simulator base URL, not the token endpoint itself.
  if (u.pathname === '/' || u.pathname === '') return `${u.origin}/oauth2/token${u.search}`
  return config.auth_url
}

/** The endpoint of `messages:send` for an account. */
export function sendUrl(config: Pick<SinchConfig, 'region' | 'base_url' | 'project_id'>): string {
  return `${apiBaseUrl(config)}/v1/projects/${encodeURIComponent(config.project_id)}/messages:send`
}
