import type { Logger } from 'pino'
import type { Dispatcher } from 'undici'
import { delayWithHint, retryDelayMs, type BackoffPolicy } from '../domain/backoff.js'
import type { OutboundContent } from '../domain/content.js'
import { SendError, type NormalizedError } from '../domain/errors.js'
import { newId } from '../domain/ids.js'
import type { OutboundMessage, Recipient } from '../providers/types.js'
import type { Store } from '../store/db.js'
import { isConnectionFailure } from '../store/errors.js'
import { lockKeys } from '../store/locks.js'
import type { MessageTable } from '../store/schema.js'
import type { Account, AccountService } from './accounts.js'
import type { Clock } from './clock.js'
import type { Envelope } from './events.js'
import { learnIdentity } from './identity.js'
import { onSendFailure, recipientOf } from './reachability.js' // identity (issue 4)
import { applyParsedStatus } from './inbound.js'
import { createDispatchWindow } from './dispatch-window.js'
import { RATE_SAFETY, type RateLimiter } from './limiter.js'
import { applyStatus, parkKey } from './status-apply.js'
import { createWaker } from './waker.js'
import { deleteOutboxJob, parkedStatusesOf, recordProviderId } from './message-statements.js'
import { loadMessage } from './messages.js'
import { leaseRound, type LeasedJob } from './outbox-lease.js'

/**
 * The outbox worker: leases due jobs, paces them per account, sends them through the adapter and
 * records each outcome in one transaction. Sends to one recipient keep their order. A job whose
 * process dies comes back when its lease expires; a send that may have reached the provider before
 * failing (timeout), and a job taken over from an expired lease, are counted on the message as
 * `duplicate_risk`.
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

interface Job extends LeasedJob {
  /** Set once the adapter was called: from then on a failure to record may leave a sent message. */
  handedOver?: boolean
}

type Target = { kind: 'none' } | { kind: 'wait' } | { kind: 'id'; id: string } | { kind: 'gone'; reason: string }

export interface WorkerStats {
  sent: number
  failed: number
  retried: number
  inflight: number
  /** Attempts after a send that may have reached the provider. */
  possibleDuplicates: number
  /** Send slots given up because this process woke too late for them (event loop stalled). */
  lateSlots: number
}

/** How late a wake-up may be for its send slot before the slot is given up and another booked. */
const LATE_SLOT_MS = 10
/** Beyond this many late wake-ups in a row the send goes anyway (the dispatch window still caps it). */
const MAX_REBOOKINGS = 5

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export function createOutboxWorker(opts: WorkerOptions) {
  const owner = newId('wrk')
  const stats: WorkerStats = { sent: 0, failed: 0, retried: 0, inflight: 0, possibleDuplicates: 0, lateSlots: 0 }
  const chains = new Map<string, Promise<void>>()
  const dispatchWindow = createDispatchWindow()
  const pollMs = opts.pollMs ?? 200
  let running = false
  const waker = createWaker()
  let loopDone: Promise<void> | undefined

  const emit = (events: Envelope[]) => {
    if (events.length > 0) opts.onEvents?.(events)
  }

  // identity (issue 4): unreachable URN, blocked / stopped contact, and the wa_id to send to — reachability.ts
  const recipientFor = (message: MessageTable, now: number, channel: string): Promise<Recipient | NormalizedError> => recipientOf(opts.store.read, message, now, channel)

  /**
   * wagate ids in reply_to / reaction targets become provider ids. A target still being sent is
   * waited for; one that failed (or vanished) never gets an id, so waiting would loop forever.
   */
  const targetOf = async (ref: string | null | undefined): Promise<Target> => {
    if (!ref) return { kind: 'none' }
    if (!ref.startsWith('msg_')) return { kind: 'id', id: ref }
    const row = await opts.store.read.selectFrom('messages').select(['provider_message_id', 'status']).where('id', '=', ref).executeTakeFirst()
    if (row?.provider_message_id) return { kind: 'id', id: row.provider_message_id }
    if (!row) return { kind: 'gone', reason: `${ref} does not exist` }
    if (row.status === 'failed') return { kind: 'gone', reason: `${ref} failed and was never sent` }
    return { kind: 'wait' }
  }

  const fail = async (job: Job, account: Account, error: NormalizedError, attempts: number) => {
    const envelopes: Envelope[] = []
    await opts.store.write(async (tx) => {
      envelopes.length = 0 // a PostgreSQL retry runs this again
      const now = opts.clock.now()
      const current = (await loadMessage(tx, job.message.id)) ?? job.message
      await tx.updateTable('messages').set({ attempts, error: JSON.stringify(error) }).where('id', '=', current.id).execute()
      const applied = await applyStatus(tx, { message: { ...current, attempts }, accountName: account.row.name, status: 'failed', providerStatus: 'send_error', at: now, error }, now)
      if (applied.envelope) envelopes.push(applied.envelope)
      await deleteOutboxJob(tx, { messageId: current.id })
      if (applied.changed) await onSendFailure(tx, account, current, error, now, envelopes) // identity (issue 4): unreachable URN / opt-out
    })
    stats.failed++
    emit(envelopes)
  }

  const retry = async (job: Job, attempts: number, delayMs: number, error: NormalizedError | undefined, maybeDelivered: boolean) => {
    await opts.store.write(async (tx) => {
      const now = opts.clock.now()
      // Whole milliseconds: limiter waits are fractional, and PostgreSQL refuses them in a bigint.
      // Only while we still hold it: a job another worker took over is theirs to schedule.
      await tx
        .updateTable('outbox')
        .set({ run_at: Math.ceil(now + delayMs), attempts, lease_owner: null, lease_until: null })
        .where('message_id', '=', job.message.id)
        .where('lease_owner', '=', owner)
        .execute()
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
      // Each failed attempt stays visible in the history (provider_status names the attempt, so the
      // unique key keeps one row per attempt).
      if (error) {
        await tx
          .insertInto('message_history')
          .values({ message_id: job.message.id, status: 'queued', provider_status: `retry after attempt ${attempts}`, at: now, error: JSON.stringify(error) })
          .onConflict((oc) => oc.columns(['message_id', 'status', 'provider_status']).doNothing())
          .execute()
      }
    })
    stats.retried++
    if (maybeDelivered) stats.possibleDuplicates++
  }

  const succeed = async (job: Job, account: Account, attempts: number, result: { providerMessageId: string; waId?: string; userId?: string; providerStatus?: string }, to: Recipient) => {
    const envelopes: Envelope[] = []
    await opts.store.write(async (tx) => {
      envelopes.length = 0 // a PostgreSQL retry runs this again
      // PostgreSQL: statuses for this provider id arriving meanwhile wait, then apply (no-op on SQLite).
      await lockKeys(tx, [parkKey(account.row.id, result.providerMessageId)])
      const now = opts.clock.now()
      const current = (await loadMessage(tx, job.message.id)) ?? job.message
      const withId: MessageTable = { ...current, provider_message_id: result.providerMessageId, attempts, error: null }
      await recordProviderId(tx, { id: current.id, providerMessageId: result.providerMessageId, attempts, updatedAt: now })
      const applied = await applyStatus(tx, { message: withId, accountName: account.row.name, status: 'sending', providerStatus: result.providerStatus ?? 'accepted', at: now }, now)
      await deleteOutboxJob(tx, { messageId: current.id })
      if (current.contact_id && (result.waId || result.userId)) {
        await learnIdentity(tx, account, current.contact_id, { waId: result.waId, userId: result.userId, phone: to.phone }, now, envelopes)
      }
      const parked = (await parkedStatusesOf(tx, { accountId: account.row.id, providerMessageId: result.providerMessageId })).rows
      let message = applied.message
      for (const p of parked) {
        await applyParsedStatus(tx, account, message, JSON.parse(p.payload), now, envelopes)
        message = (await loadMessage(tx, current.id)) ?? message
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
    const to = await recipientFor(job.message, now, account.row.channel)
    if ('code' in to) return fail(job, account, to, job.attempts)
    const content = JSON.parse(job.message.content) as OutboundContent
    const quoted = await targetOf(job.message.reply_to)
    const reacted: Target = content.type === 'reaction' ? await targetOf(content.reaction.message_id) : { kind: 'none' }
    const gone = [quoted, reacted].find((x) => x.kind === 'gone')
    if (gone?.kind === 'gone') return fail(job, account, { code: 'invalid_request', retryable: false, provider_message: `the message replied or reacted to: ${gone.reason}` }, job.attempts)
    // The quoted message is not sent yet; wait for it without spending an attempt.
    if (quoted.kind === 'wait' || reacted.kind === 'wait') return retry(job, job.attempts, 1_000, undefined, false)
    const replyTo = quoted.kind === 'id' ? quoted.id : undefined
    const reactionTarget = reacted.kind === 'id' ? reacted.id : undefined
    // A slot is a moment in a schedule shared by every process (Redis). A process whose event loop
    // stalled wakes long after its moment; sending then would add its stale slots to sends that
    // other processes make on time, and the provider would see more than the limit in that second.
    // So a wake-up later than LATE_SLOT_MS books a fresh slot instead.
    for (let late = 0; ; late++) {
      const slot = await opts.limiter.reserve(account.row.id, { ratePerSec: account.row.rate_limit, burst: 1 }, opts.leaseMs / 3)
      if (!slot.ok) return retry(job, job.attempts, slot.waitMs, undefined, false)
      const due = Date.now() + slot.waitMs
      if (slot.waitMs > 0) await sleep(slot.waitMs)
      if (!opts.limiter.shared || Date.now() - due <= LATE_SLOT_MS || late >= MAX_REBOOKINGS) break
      stats.lateSlots++
    }
    // The booked slot says when we meant to send; the window caps when sends really go (same tick
    // as the call), so wake-ups bunched by a stalled event loop wait instead of bursting.
    const cap = Math.floor(account.row.rate_limit * RATE_SAFETY)
    for (let wait = dispatchWindow.take(account.row.id, cap, Date.now()); wait > 0; wait = dispatchWindow.take(account.row.id, cap, Date.now())) await sleep(wait)
    const message: OutboundMessage = {
      id: job.message.id,
      to,
      content: content.type === 'reaction' && reactionTarget ? { ...content, reaction: { ...content.reaction, message_id: reactionTarget } } : content,
      ...(replyTo ? { replyTo } : {}),
      attempt: attempts,
    }
    // Fencing without a query: every renewal records how long our lease runs. A job whose lease has
    // (nearly) run out while it waited for a slot — renewals lagging on a saturated database — may be
    // taken over by another worker at any moment; sending it here too could be a duplicate. Left
    // alone, it is leased again once the lease ends, by whichever worker, at no risk.
    if (opts.clock.now() > job.leaseUntil - opts.leaseMs / 3) {
      opts.logger.warn({ message: job.message.id, leaseLeftMs: job.leaseUntil - opts.clock.now() }, 'outbox lease too close to its end to send; leaving the job to be leased again')
      markUnsent(job.message.id)
      // Hand it back now if the database lets us, so the next worker neither waits for the lease
      // to end nor counts a possible duplicate; if it does not, the lease simply runs out.
      await opts.store
        .write((tx) => tx.updateTable('outbox').set({ lease_owner: null, lease_until: null }).where('message_id', '=', job.message.id).where('lease_owner', '=', owner).execute())
        .catch((err: unknown) => opts.logger.warn({ err, message: job.message.id }, 'could not hand back an outbox job; its lease will run out'))
      return
    }
    let result: Awaited<ReturnType<typeof account.adapter.send>>
    try {
      job.handedOver = true
      result = await account.adapter.send(account.ctx, message, { timeoutMs: opts.sendTimeoutMs, ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}) })
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
    // Outside the try: the provider accepted the message, so a store failure while recording that is
    // not a send failure — retrying the send would duplicate it. While the database is out of reach
    // the outcome is kept here and recorded once it answers (the job stays queued, so this process
    // does not lease it again); any other error reaches the chain's handler, the lease expires and
    // the job is taken over as a counted possible duplicate.
    for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
      try {
        return await succeed(job, account, attempts, result, to)
      } catch (err) {
        if (!running || !isConnectionFailure(err)) throw err
        if (wait === 100) opts.logger.warn({ err, message: job.message.id }, 'store unavailable while recording a send; retrying until it answers')
        await sleep(wait)
      }
    }
  }

  /**
   * Jobs leased here and not finished. A job can wait in its recipient's chain longer than a lease
   * (a burst to one contact behind a slow provider); its lease is kept alive by `renewLeases`, and a
   * job leased again while still queued is never queued twice — that was a second send.
   */
  const queued = new Map<string, Job>()
  /** Jobs queued here per account id: each account holds at most a second of its rate (fair-share.ts). */
  const inflightByAccount = new Map<string, number>()
  let leaseRounds = 0

  /** Extends our leases; a job whose row another worker now holds is marked lost (leaseUntil 0). */
  const renewLeases = async () => {
    const ids = [...queued.keys()]
    const until = opts.clock.now() + opts.leaseMs
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500)
      const renewed = await opts.store.write((tx) =>
        tx.updateTable('outbox').set({ lease_until: until }).where('lease_owner', '=', owner).where('message_id', 'in', chunk).returning('message_id').execute(),
      )
      const kept = new Set(renewed.map((r) => r.message_id))
      for (const id of chunk) {
        const job = queued.get(id)
        if (job) job.leaseUntil = kept.has(id) ? until : 0
      }
    }
  }

  /** Our jobs that failed before the adapter was called (store down): leasing them again is no risk. */
  const unsent = new Set<string>()
  const markUnsent = (id: string) => {
    // Ids another process leases stay here; the set only sharpens the count, so bound it.
    if (unsent.size >= 10_000) unsent.clear()
    unsent.add(id)
  }

  /** Runs jobs of one (account, recipient) strictly one after the other. */
  const enqueue = (job: Job) => {
    if (queued.has(job.message.id)) return
    queued.set(job.message.id, job)
    const accountId = job.message.account_id
    const key = `${accountId}|${job.message.urn}`
    stats.inflight++
    inflightByAccount.set(accountId, (inflightByAccount.get(accountId) ?? 0) + 1)
    const previous = chains.get(key) ?? Promise.resolve()
    const next = previous
      .then(() => process(job))
      .catch((err: unknown) => {
        if (!job.handedOver) markUnsent(job.message.id)
        opts.logger.error({ err, message: job.message.id }, 'outbox job failed to record; its lease will expire and it will run again')
      })
      .finally(() => {
        queued.delete(job.message.id)
        stats.inflight--
        const left = (inflightByAccount.get(accountId) ?? 1) - 1
        if (left > 0) inflightByAccount.set(accountId, left)
        else inflightByAccount.delete(accountId)
        if (chains.get(key) === next) chains.delete(key)
        waker.wake()
      })
    chains.set(key, next)
  }

  // Renewal runs on its own timer, not between lease queries: a lease query stuck behind a saturated
  // database must not let the leases of jobs already waiting for their slot run out.
  let renewTimer: ReturnType<typeof setInterval> | undefined
  let renewing = false
  const renewTick = () => {
    if (renewing || queued.size === 0) return
    renewing = true
    renewLeases()
      .catch((err: unknown) => opts.logger.error({ err }, 'outbox lease renewal failed'))
      .finally(() => {
        renewing = false
      })
  }

  const loop = async () => {
    while (running) {
      const free = opts.concurrency - stats.inflight
      let leased: Job[] = []
      if (free > 0) {
        try {
          const ours = (id: string) => queued.has(id) || unsent.has(id)
          const round = { owner, leaseMs: opts.leaseMs, free: Math.min(free, 500), concurrency: opts.concurrency, inflight: inflightByAccount, start: leaseRounds++, ours }
          leased = await opts.store.write((tx) => leaseRound(tx, { ...round, now: opts.clock.now() }))
        } catch (err) {
          opts.logger.error({ err }, 'outbox lease failed')
        }
      }
      for (const job of leased) {
        if (job.takenOver) stats.possibleDuplicates++
        unsent.delete(job.message.id)
        enqueue(job)
      }
      // Slots left and jobs found: another round may deal the slots an account could not fill.
      if (leased.length > 0 && stats.inflight < opts.concurrency) continue
      await waker.sleep(pollMs)
    }
  }

  return {
    owner,
    stats: () => ({ ...stats }),
    start() {
      if (running) return
      running = true
      renewTimer = setInterval(renewTick, opts.leaseMs / 4)
      loopDone = loop()
    },
    poke() {
      waker.wake()
    },
    async stop(timeoutMs = 10_000) {
      running = false
      waker.wake()
      await loopDone
      const deadline = Date.now() + timeoutMs
      while (stats.inflight > 0 && Date.now() < deadline) await sleep(20)
      clearInterval(renewTimer)
    },
  }
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>
