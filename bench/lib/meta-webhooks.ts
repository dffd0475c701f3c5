import { newWamid } from '../../src/simulators/meta/ids.js'
import type { MetaSimAccount } from '../../src/simulators/meta/types.js'
import { envelope, signBody, statusValue, type StatusName } from '../../src/simulators/meta/webhooks.js'
import type { BenchRequest } from './load.js'

/**
 * Signed Meta status webhooks as the load generator sends them: the same envelope, status entry and
 * X-Hub-Signature-256 the Meta simulator produces (its builders are reused), one status per POST,
 * addressed to the per-account route `/webhooks/meta/<account name>`.
 *
 * @example
 * const target = { name: 'bench-in', account: { phoneNumberId: '1001', displayPhoneNumber: '15550001001', accessToken: 't', appSecret: 's', webhookUrl: '' } }
 * statusWebhook(target, { wamid: unknownWamid('14155550123'), waId: '14155550123' }, 'delivered', Date.now())
 */
export interface WebhookTarget {
  /** The gateway account name (URL path). */
  name: string
  account: MetaSimAccount
}

export interface KnownSend {
  wamid: string
  /** Recipient wa_id (digits). */
  waId: string
}

export function statusWebhook(target: WebhookTarget, send: KnownSend, status: StatusName, atMs: number): BenchRequest {
  const payload = envelope(
    target.account,
    statusValue(
      { wamid: send.wamid, recipientId: send.waId, recipientKind: 'phone', category: 'service', conversationId: '', withConversation: false },
      status,
      atMs,
    ),
  )
  const body = JSON.stringify(payload)
  return {
    method: 'POST',
    path: `/webhooks/meta/${target.name}`,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, target.account.appSecret), 'user-agent': 'facebookexternalua' },
    body,
  }
}

/** A wamid no gateway has seen (random part), for the parked-status variant. */
export function unknownWamid(waId: string): string {
  return newWamid(waId)
}

/**
 * Pre-builds `count` requests (so the generator spends its time sending, not hashing) and hands
 * them out in order; past the end it builds more on demand.
 */
export function requestFeed(count: number, build: (i: number) => BenchRequest): { next: () => BenchRequest; used: () => number } {
  const ready: BenchRequest[] = Array.from({ length: count }, (_, i) => build(i))
  let i = 0
  return {
    next: () => {
      const req = i < ready.length ? (ready[i] as BenchRequest) : build(i)
      i++
      return req
    },
    used: () => i,
  }
}
