import type { Logger } from 'pino'
import type { NormalizedError } from '../domain/errors.js'
import type { Store, Tx } from '../store/db.js'
import type { Clock } from './clock.js'
import type { Envelope } from './events.js'
import { failStash, releaseStash } from './stash.js'

/**
 * The stash sweeper (DESIGN §8): a timer that, with the gateway's clock,
 * - fails stashed messages past their TTL with `stash_expired`;
 * - fails the stash of an episode whose interaction request failed, with that request's error (the
 *   contact will never see the question, so waiting the whole TTL helps nobody);
 * - releases stashed messages whose conversation got an inbound message after they were stashed but
 *   whose release the inbound path missed (a concurrent accept on PostgreSQL, a contact merge);
 * - drops episodes left without stashed messages.
 * Every step is idempotent, so several gateway processes may sweep at once.
 *
 * @example
 * const sweeper = createStashSweeper({ store, clock, logger, intervalMs: 1000, onEvents, onQueued: () => worker.poke() })
 * sweeper.start(); … await sweeper.stop()
 */
export interface StashSweeperOptions {
  store: Store
  clock: Clock
  logger: Logger
  intervalMs: number
  /** Rows handled per step and tick. */
  batch?: number
  onEvents?: (events: Envelope[]) => void
  /** Called when messages were released into the outbox. */
  onQueued?: () => void
}

export interface SweepResult {
  expired: number
  failed: number
  released: number
  envelopes: Envelope[]
}

type Pair = { account_id: string; contact_id: string; account_name: string }

const pairKey = (p: { account_id: string; contact_id: string }) => `${p.account_id}\u0000${p.contact_id}`

function uniquePairs<T extends Pair>(rows: T[]): T[] {
  const seen = new Map<string, T>()
  for (const r of rows) if (!seen.has(pairKey(r))) seen.set(pairKey(r), r)
  return [...seen.values()]
}

/** One sweep in one transaction; re-runnable (everything it collects is reset at its start). */
export async function sweepStashes(tx: Tx, now: number, batch = 200): Promise<SweepResult> {
  const result: SweepResult = { expired: 0, failed: 0, released: 0, envelopes: [] }

  const expired = await tx
    .selectFrom('stashed_messages')
    .innerJoin('accounts', 'accounts.id', 'stashed_messages.account_id')
    .select(['stashed_messages.message_id', 'stashed_messages.account_id', 'stashed_messages.contact_id', 'stashed_messages.expires_at', 'accounts.name as account_name'])
    .where('stashed_messages.expires_at', '<=', now)
    .orderBy('stashed_messages.expires_at')
    .limit(batch)
    .execute()
  for (const pair of uniquePairs(expired)) {
    const ids = new Set(expired.filter((r) => pairKey(r) === pairKey(pair)).map((r) => r.message_id))
    const error: NormalizedError = { code: 'stash_expired', retryable: false, provider_message: 'the contact did not reply to the interaction request within the stash TTL' }
    result.expired += await failStash(tx, pair.account_name, pair.account_id, pair.contact_id, error, 'stash_expired', now, result.envelopes, ids)
  }

  const requestFailed = await tx
    .selectFrom('stash_episodes')
    .innerJoin('messages', 'messages.id', 'stash_episodes.request_message_id')
    .innerJoin('accounts', 'accounts.id', 'stash_episodes.account_id')
    .select(['stash_episodes.account_id', 'stash_episodes.contact_id', 'stash_episodes.request_message_id', 'messages.error', 'accounts.name as account_name'])
    .where('messages.status', '=', 'failed')
    .limit(batch)
    .execute()
  for (const e of requestFailed) {
    const cause = e.error ? (JSON.parse(e.error) as NormalizedError) : undefined
    const error: NormalizedError = {
      code: cause?.code ?? 'unknown',
      retryable: false,
      ...(cause?.provider_code ? { provider_code: cause.provider_code } : {}),
      provider_message: `the interaction request ${e.request_message_id} failed${cause ? ` (${cause.code}${cause.provider_message ? `: ${cause.provider_message}` : ''})` : ''}`,
    }
    result.failed += await failStash(tx, e.account_name, e.account_id, e.contact_id, error, 'interaction_request_failed', now, result.envelopes)
    await tx.deleteFrom('stash_episodes').where('account_id', '=', e.account_id).where('contact_id', '=', e.contact_id).execute()
  }

  // The contact wrote after these were stashed: the window is open and they should have gone out.
  const missed = await tx
    .selectFrom('stashed_messages')
    .innerJoin('messages', 'messages.id', 'stashed_messages.message_id')
    .innerJoin('conversations', (join) => join.onRef('conversations.account_id', '=', 'messages.account_id').onRef('conversations.contact_id', '=', 'messages.contact_id'))
    .innerJoin('accounts', 'accounts.id', 'stashed_messages.account_id')
    .select(['stashed_messages.account_id', 'stashed_messages.contact_id', 'accounts.name as account_name'])
    .whereRef('conversations.last_inbound_at', '>=', 'stashed_messages.stashed_at')
    .limit(batch)
    .execute()
  for (const pair of uniquePairs(missed)) {
    result.released += await releaseStash(tx, pair.account_name, pair.account_id, pair.contact_id, 'window open', now, result.envelopes)
  }

  const empty = await tx
    .selectFrom('stash_episodes')
    .leftJoin('stashed_messages', (join) => join.onRef('stashed_messages.account_id', '=', 'stash_episodes.account_id').onRef('stashed_messages.contact_id', '=', 'stash_episodes.contact_id'))
    .select(['stash_episodes.account_id', 'stash_episodes.contact_id'])
    .where('stashed_messages.message_id', 'is', null)
    .limit(batch)
    .execute()
  for (const e of empty) await tx.deleteFrom('stash_episodes').where('account_id', '=', e.account_id).where('contact_id', '=', e.contact_id).execute()

  return result
}

export function createStashSweeper(opts: StashSweeperOptions) {
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let stopped = true

  const tick = async (): Promise<SweepResult> => {
    const result = await opts.store.write((tx) => sweepStashes(tx, opts.clock.now(), opts.batch))
    if (result.envelopes.length > 0) opts.onEvents?.(result.envelopes)
    if (result.released > 0) opts.onQueued?.()
    return result
  }

  const schedule = () => {
    if (stopped) return
    timer = setTimeout(() => {
      running = tick()
        .then(() => undefined)
        .catch((err: unknown) => opts.logger.error({ err }, 'stash sweep failed; it runs again at the next tick'))
        .finally(() => {
          running = undefined
          schedule()
        })
    }, opts.intervalMs)
    timer.unref?.()
  }

  return {
    /** One sweep now (tests, and the first tick). */
    sweep: tick,
    start() {
      if (!stopped) return
      stopped = false
      schedule()
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}

export type StashSweeper = ReturnType<typeof createStashSweeper>
