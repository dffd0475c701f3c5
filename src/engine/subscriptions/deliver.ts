import type { Dispatcher } from 'undici'
import type { SecretBox } from '../../crypto.js'
import { envelopeJson } from './envelope.js'
import { postWebhook } from './http-post.js'
import type { Job, Outcome } from './queue.js'
import type { SinkPool, SinkTarget } from './sinks.js'
import { signWith, Webhook } from './signing.js'

/**
 * Sends one delivery to its target: a Standard Webhooks signed POST, or a publish to a broker sink
 * (same signature headers). The secret is opened from its sealed form once per subscription and
 * kept with its signer.
 *
 * @example
 * const outcome = await deliver(job, { box, http: agent, stop: controller.signal, now: Date.now() })
 */
export interface DeliverContext {
  box: SecretBox
  http: Dispatcher
  stop: AbortSignal
  now: number
  sinks: SinkPool
}

const signers = new Map<string, { sealed: string; signer: Webhook }>()

function signerFor(box: SecretBox, subscriptionId: string, sealed: string): Webhook {
  const hit = signers.get(subscriptionId)
  if (hit?.sealed === sealed) return hit.signer
  const signer = new Webhook(box.open(sealed))
  if (signers.size > 10_000) signers.clear()
  signers.set(subscriptionId, { sealed, signer })
  return signer
}

export async function deliver(job: Job, ctx: DeliverContext): Promise<Outcome> {
  if (!job.event) return { error: `event ${job.delivery.event_id} is no longer in the log`, latencyMs: 0 }
  let signer: Webhook
  try {
    signer = signerFor(ctx.box, job.sub.id, job.sub.secret_sealed)
  } catch {
    return { error: 'cannot open the signing secret (was WAGATE_SECRET_KEY changed?)', latencyMs: 0 }
  }
  const body = envelopeJson(job.event)
  const headers = signWith(signer, job.event.id, ctx.now, body)
  const timeoutMs = Number(job.sub.timeout_ms)
  if (job.sub.kind === 'webhook') return postWebhook(job.sub.url, body, { ...headers }, { timeoutMs, dispatcher: ctx.http, stop: ctx.stop })
  let target: SinkTarget
  try {
    target = sinkTarget(ctx.box, job.sub.kind, job.sub.target)
  } catch (err) {
    return { error: `sink settings unreadable: ${err instanceof Error ? err.message : String(err)}`, latencyMs: 0 }
  }
  return ctx.sinks.publish(target, { id: job.event.id, type: job.event.type, topic: job.event.topic, body, signed: headers }, timeoutMs)
}

/** Sink settings as stored in `subscriptions.target` (the connection URL sealed: it may hold a password). */
export interface StoredSinkTarget {
  connection_sealed: string
  subject_prefix?: string
  stream?: string
  max_len?: number
}

function sinkTarget(box: SecretBox, kind: string, stored: string | null): SinkTarget {
  const t = JSON.parse(stored ?? '{}') as StoredSinkTarget
  const url = box.open(t.connection_sealed)
  if (kind === 'nats') return { kind, url, subjectPrefix: t.subject_prefix ?? '' }
  if (kind === 'redis') return { kind, url, stream: t.stream ?? 'wagate:events', ...(t.max_len ? { maxLen: t.max_len } : {}) }
  throw new Error(`unknown subscription kind "${kind}"`)
}
