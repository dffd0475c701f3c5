import { z } from 'zod'
import type { SecretBox } from '../../crypto.js'
import { isPrivateUrl } from '../../domain/capability-check.js'
import { isValidPattern } from '../../domain/topics.js'
import { ApiError } from '../api-error.js'
import type { StoredSinkTarget } from './deliver.js'

/**
 * What the subscription API accepts: a webhook URL or a broker sink, NATS-style topic patterns,
 * per-endpoint limits. Broker URLs may carry a password: it is sealed with the instance key and
 * shown back replaced by `***`.
 *
 * @example
 * createSubscriptionSchema.parse({ url: 'https://app.example/hooks', topics: ['message.*.failed'] })
 */
const pattern = z.string().min(1).max(512).refine(isValidPattern, 'not a valid topic pattern (tokens separated by ".", "*" for one token, ">" last for the rest)')

const SCHEMES: Record<string, RegExp> = { webhook: /^https?:$/, nats: /^nats:$/, redis: /^rediss?:$/ }

export const createSubscriptionSchema = z
  .object({
    /** `webhook` (default), or a broker sink: `nats` (JetStream) or `redis` (a stream). */
    kind: z.enum(['webhook', 'nats', 'redis']).default('webhook'),
    /** The webhook URL (http/https), or the broker: nats://[user:pass@]host:port, redis[s]://[:pass@]host:port[/db]. */
    url: z.url({ error: 'must be a URL' }).max(2048),
    topics: z.array(pattern).min(1).max(50),
    description: z.string().max(500).optional(),
    /** Requests in flight to this endpoint at most (sinks default to 1, which keeps the log's order). */
    max_in_flight: z.number().int().min(1).max(100).optional(),
    /** Time allowed for one attempt (connect, answer and body; or the broker's acknowledgement). */
    timeout_ms: z.number().int().min(100).max(60_000).optional(),
    /** nats: put before each topic to make the subject, like `wagate.` (a JetStream stream must cover it). */
    subject_prefix: z.string().max(200).regex(/^([A-Za-z0-9_\-]+\.)*$/, 'tokens of letters, digits, _ or -, each followed by "."').optional(),
    /** redis: the stream key (default `wagate:events`). */
    stream: z.string().min(1).max(200).optional(),
    /** redis: trim the stream to about this many entries. */
    max_len: z.number().int().min(1).max(100_000_000).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    let scheme = ''
    try {
      scheme = new URL(v.url).protocol
    } catch {
      return
    }
    if (!SCHEMES[v.kind]?.test(scheme)) {
      const want = { webhook: 'an http:// or https:// URL', nats: 'a nats:// URL', redis: 'a redis:// or rediss:// URL' }[v.kind]
      ctx.addIssue({ code: 'custom', path: ['url'], message: `must be ${want} for kind "${v.kind}"` })
    }
    const misplaced = v.kind !== 'nats' && v.subject_prefix !== undefined ? 'subject_prefix' : v.kind !== 'redis' && (v.stream !== undefined || v.max_len !== undefined) ? (v.stream !== undefined ? 'stream' : 'max_len') : undefined
    if (misplaced) ctx.addIssue({ code: 'custom', path: [misplaced], message: `does not apply to kind "${v.kind}"` })
  })
export type CreateSubscriptionInput = z.infer<typeof createSubscriptionSchema>

export const deliveriesQuerySchema = z.object({
  state: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Delivery id: returns older deliveries than this one (from `next_cursor`). */
  before: z.string().max(64).optional(),
})
export type DeliveriesQuery = z.infer<typeof deliveriesQuerySchema>

/** A broker URL as shown back: the password, if any, replaced. */
export function redactUrl(url: string): string {
  const u = new URL(url)
  if (u.password) u.password = '***'
  else if (u.username && u.protocol === 'nats:') u.username = '***'
  return u.toString()
}

export function sinkSettings(input: CreateSubscriptionInput, box: SecretBox): StoredSinkTarget {
  return {
    connection_sealed: box.seal(input.url),
    ...(input.kind === 'nats' ? { subject_prefix: input.subject_prefix ?? 'wagate.' } : {}),
    ...(input.kind === 'redis' ? { stream: input.stream ?? 'wagate:events', ...(input.max_len ? { max_len: input.max_len } : {}) } : {}),
  }
}

/**
 * Refuses a webhook URL on a loopback or private address literal (DESIGN §13): a tenant must not
 * make the gateway call into its own network. `WAGATE_ALLOW_PRIVATE_WEBHOOKS` lifts it.
 *
 * @example
 * assertPublicWebhook('http://10.0.0.7/hook', false, 'url') // throws ApiError webhook_url_refused
 * assertPublicWebhook('https://hooks.example.com/in', false, 'url') // passes
 */
export function assertPublicWebhook(url: string, allowPrivate: boolean, field: string): void {
  if (allowPrivate || !isPrivateUrl(url)) return
  throw new ApiError('webhook_url_refused', `${field}: ${url} points at a loopback or private address; the gateway does not call into its own network (set WAGATE_ALLOW_PRIVATE_WEBHOOKS=true to allow it)`)
}
