import type { Logger } from 'pino'
import type { Dispatcher } from 'undici'
import { delayWithHint, retryDelayMs, type BackoffPolicy } from '../domain/backoff.js'
import type { OutboundContent } from '../domain/content.js'
import { SendError, type NormalizedError } from '../domain/errors.js'
import { newId } from '../domain/ids.js'
import type { OutboundMessage, Recipient } from '../providers/types.js'
import type { Store, Tx } from '../store/db.js'
import type { MessageTable } from '../store/schema.js'
import type { Account, AccountService } from './accounts.js'
import type { Clock } from './clock.js'
import type { Envelope } from './events.js'
import { learnIdentity, markUrnUnreachable } from './identity.js'
import { applyParsedStatus } from './inbound.js'
import type { RateLimiter } from './limiter.js'
import { applyStatus } from './status-apply.js'

/**
 * The outbox worker: leases due jobs, paces them per account, sends them through the adapter and
 * records each outcome in one transaction. Sends to one recipient keep their order. A job whose
 * process dies comes back when its lease expires; a send that may have reached the provider before
 * failing (timeout) is counted on the message as `duplicate_risk`.
 */
export interface WorkerOptions {
  store: Store
  accounts: AccountService
  clock: Clock
  logger: Logger
  limiter: RateLimiter
  concurrency: number
  leaseMs: number
  sendTimeoutMs: number
  maxAttempts: number
  backoff: BackoffPolicy
  dispatcher?: Dispatcher
  onEvents?: (events: Envelope[]) => void
  /** Idle poll interval; `poke()` wakes the worker sooner. */
  pollMs?: number
}

interface Job {
  message: MessageTable
  attempts: number
}

export interface WorkerStats {
  sent: number
  failed: number
  retried: number
  inflight: number
  /** Attempts after a send that may have reached the provider. */
  possibleDuplicates: number
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export function createOutboxWorker(opts: WorkerOptions) {
  const owner = newId('wrk')
  const stats: WorkerStats = { sent: 0, failed: 0, retried: 0, inflight: 0, possibleDuplicates: 0 }
  const chains = new Map<string, Promise<void>>()
  const pollMs = opts.pollMs ?? 200
  let running = false
  let wake: (() => void) | undefined
  let loopDone: Promise<void> | undefined

  const lease = (tx: Tx, now: number, max: number) =>
    (async () => {
      const due = await tx
        .selectFrom('outbox')
        .select(['message_id', 'attempts'])
        .where('run_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .orderBy('run_at')
        .orderBy('message_id')
        .limit(max)
        .execute()
      if (due.length === 0) return []
      const ids = due.map((d) => d.message_id)
      await tx.updateTable('outbox').set({ lease_owner: owner, lease_until: now + opts.leaseMs }).where('message_id', 'in', ids).execute()
      const messages = await tx.selectFrom('messages').selectAll().where('id', 'in', ids).execute()
      const byId = new Map(messages.map((m) => [m.id, m]))
      return due.flatMap((d) => {
        const message = byId.get(d.message_id)
        return message ? [{ message, attempts: d.attempts }] : []
      })
    })()

  const emit = (events: Envelope[]) => {
    if (events.length > 0) opts.onEvents?.(events)
  }

  const recipientFor = async (message: MessageTable, now: number): Promise<Recipient | NormalizedError> => {
    const urns = message.contact_id
      ? await opts.store.read.selectFrom('contact_urns').selectAll().where('contact_id', '=', message.contact_id).execute()
      : []
    const target = urns.find((u) => u.urn === message.urn)
    if (target?.unreachable_until && Number(target.unreachable_until) > now) {
      return { code: 'recipient_not_on_whatsapp', retryable: false, provider_message: `marked unreachable until ${new Date(Number(target.unreachable_until)).toISOString()} (${target.unreachable_reason ?? 'not on WhatsApp'})` }
    }
    const [scheme, value = ''] = splitUrn(message.urn)
    if (scheme === 'wauser') return { userId: value }
    if (scheme === 'whatsapp') return { waId: value }
    const wa = urns.find((u) => u.urn.startsWith('whatsapp:'))
    return { phone: value, ...(wa ? { waId: wa.urn.slice('whatsapp:'.length) } : {}) }
  }

  /** wagate ids in reply_to / reaction targets become provider ids; undefined while the target is unsent. */
  const providerIdOf = async (ref: string | null | undefined): Promise<string | undefined | null> => {
    if (!ref) return null
    if (!ref.startsWith('msg_')) return ref
    const row = await opts.store.read.selectFrom('messages').select('provider_message_id').where('id', '=', ref).executeTakeFirst()
    return row?.provider_message_id ?? undefined
  }

  const fail = async (job: Job, account: Account, error: NormalizedError, attempts: number) => {
    const envelopes: Envelope[] = []
    await opts.store.write(async (tx) => {
      const now = opts.clock.now()
      const current = (await tx.selectFrom('messages').selectAll().where('id', '=', job.message.id).executeTakeFirst()) ?? job.message
      await tx.updateTable('messages').set({ attempts, error: JSON.stringify(error) }).where('id', '=', current.id).execute()
      const applied = await applyStatus(tx, { message: { ...current, attempts }, accountName: account.row.name, status: 'failed', providerStatus: 'send_error', at: now, error }, now)
      if (applied.envelope) envelopes.push(applied.envelope)
      await tx.deleteFrom('outbox').where('message_id', '=', current.id).execute()
      if (error.code === 'recipient_not_on_whatsapp' && applied.changed) await markUrnUnreachable(tx, account, current, error, now, envelopes)
    })
    stats.failed++
    emit(envelopes)
  }

  const retry = async (job: Job, attempts: number, delayMs: number, error: NormalizedError | undefined, maybeDelivered: boolean) => {
    await opts.store.write(async (tx) => {
      const now = opts.clock.now()
      await tx.updateTable('outbox').set({ run_at: now + delayMs, attempts, lease_owner: null, lease_until: null }).where('message_id', '=', job.message.id).execute()
      await tx
        .updateTable('messages')
        .set((eb) => ({
          attempts,
          updated_at: now,
          ...(error ? { error: JSON.stringify(error) } : {}),
          ...(maybeDelivered ? { duplicate_risk: eb('duplicate_risk', '+', 1) } : {}),
        }))
        .where('id', '=', job.message.id)
        .execute()
    })
    stats.retried++
    if (maybeDelivered) stats.possibleDuplicates++
  }

  const succeed = async (job: Job, account: Account, attempts: number, result: { providerMessageId: string; waId?: string; userId?: string; providerStatus?: string }, to: Recipient) => {
    const envelopes: Envelope[] = []
    await opts.store.write(async (tx) => {
      const now = opts.clock.now()
      const current = (await tx.selectFrom('messages').selectAll().where('id', '=', job.message.id).executeTakeFirst()) ?? job.message
      const withId: MessageTable = { ...current, provider_message_id: result.providerMessageId, attempts, error: null }
      await tx.updateTable('messages').set({ provider_message_id: result.providerMessageId, attempts, error: null, updated_at: now }).where('id', '=', current.id).execute()
      const applied = await applyStatus(tx, { message: withId, accountName: account.row.name, status: 'sending', providerStatus: result.providerStatus ?? 'accepted', at: now }, now)
      await tx.deleteFrom('outbox').where('message_id', '=', current.id).execute()
      if (current.contact_id && (result.waId || result.userId)) {
        await learnIdentity(tx, account, current.contact_id, { waId: result.waId, userId: result.userId, phone: to.phone }, now, envelopes)
      }
      const parked = await tx
        .selectFrom('parked_statuses')
        .selectAll()
        .where('account_id', '=', account.row.id)
        .where('provider_message_id', '=', result.providerMessageId)
        .orderBy('id')
        .execute()
      let message = applied.message
      for (const p of parked) {
        await applyParsedStatus(tx, account, message, JSON.parse(p.payload), now, envelopes)
        message = (await tx.selectFrom('messages').selectAll().where('id', '=', current.id).executeTakeFirst()) ?? message
      }
      if (parked.length > 0) await tx.deleteFrom('parked_statuses').where('id', 'in', parked.map((p) => p.id)).execute()
    })
    stats.sent++
    emit(envelopes)
  }

  const process = async (job: Job) => {
    const account = await opts.accounts.byId(job.message.account_id)
    if (!account) {
      opts.logger.error({ message: job.message.id }, 'outbox job for a deleted account')
      return
    }
    const attempts = job.attempts + 1
    const now = opts.clock.now()
    const to = await recipientFor(job.message, now)
    if ('code' in to) return fail(job, account, to, job.attempts)
    const content = JSON.parse(job.message.content) as OutboundContent
    const replyTo = await providerIdOf(job.message.reply_to)
    const reactionTarget = content.type === 'reaction' ? await providerIdOf(content.reaction.message_id) : null
    if (replyTo === undefined || reactionTarget === undefined) {
      // The quoted message is not sent yet; wait for it without spending an attempt.
      return retry(job, job.attempts, 1_000, undefined, false)
    }
    const slot = await opts.limiter.reserve(account.row.id, { ratePerSec: account.row.rate_limit, burst: 1 }, opts.leaseMs / 3)
    if (!slot.ok) return retry(job, job.attempts, slot.waitMs, undefined, false)
    if (slot.waitMs > 0) await sleep(slot.waitMs)
    const message: OutboundMessage = {
      id: job.message.id,
      to,
      content: content.type === 'reaction' && reactionTarget ? { ...content, reaction: { ...content.reaction, message_id: reactionTarget } } : content,
      ...(replyTo ? { replyTo } : {}),
      attempt: attempts,
    }
    try {
      const result = await account.adapter.send(account.ctx, message, { timeoutMs: opts.sendTimeoutMs, ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}) })
      await succeed(job, account, attempts, result, to)
    } catch (err) {
      const error =
        err instanceof SendError
          ? err
          : new SendError({ code: 'transient', providerMessage: `adapter error: ${err instanceof Error ? err.message : String(err)}` })
      if (!(err instanceof SendError)) opts.logger.error({ err, message: job.message.id }, 'adapter threw a non-SendError')
      if (!error.retryable) return fail(job, account, error.toNormalized(), attempts)
      if (attempts >= opts.maxAttempts) {
        return fail(job, account, { ...error.toNormalized(), retryable: false, provider_message: `gave up after ${attempts} attempts: ${error.providerMessage ?? error.code}` }, attempts)
      }
      const delay = delayWithHint(retryDelayMs(attempts, opts.backoff), error.retryAfterMs, opts.backoff.maxMs)
      if (error.throttle === 'account') await opts.limiter.penalize(account.row.id, opts.clock.now() + delay)
      return retry(job, attempts, delay, error.toNormalized(), error.maybeDelivered)
    }
  }

  /** Runs jobs of one (account, recipient) strictly one after the other. */
  const enqueue = (job: Job) => {
    const key = `${job.message.account_id}|${job.message.urn}`
    stats.inflight++
    const previous = chains.get(key) ?? Promise.resolve()
    const next = previous
      .then(() => process(job))
      .catch((err: unknown) => opts.logger.error({ err, message: job.message.id }, 'outbox job failed to record; its lease will expire and it will run again'))
      .finally(() => {
        stats.inflight--
        if (chains.get(key) === next) chains.delete(key)
        wake?.()
      })
    chains.set(key, next)
  }

  const loop = async () => {
    while (running) {
      const free = opts.concurrency - stats.inflight
      let leased: Job[] = []
      if (free > 0) {
        try {
          leased = await opts.store.write((tx) => lease(tx, opts.clock.now(), Math.min(free, 500)))
        } catch (err) {
          opts.logger.error({ err }, 'outbox lease failed')
        }
      }
      for (const job of leased) enqueue(job)
      if (leased.length > 0 && leased.length === Math.min(free, 500)) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs)
        wake = () => {
          clearTimeout(timer)
          wake = undefined
          resolve()
        }
      })
    }
  }

  return {
    owner,
    stats: () => ({ ...stats }),
    start() {
      if (running) return
      running = true
      loopDone = loop()
    },
    poke() {
      wake?.()
    },
    async stop(timeoutMs = 10_000) {
      running = false
      wake?.()
      await loopDone
      const deadline = Date.now() + timeoutMs
      while (stats.inflight > 0 && Date.now() < deadline) await sleep(20)
    },
  }
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>

function splitUrn(u: string): [string, string] {
  const i = u.indexOf(':')
  return [u.slice(0, i), u.slice(i + 1)]
}
