/**
 * How many due jobs each account may lease in one round of the outbox worker. Leasing in `run_at`
 * order across accounts let one account's backlog hold every in-flight slot: a campaign of 10,000
 * messages on an 80 msg/s number kept a one-off message of another account waiting two minutes,
 * and when the gateway itself was the bottleneck, accounts shared it in proportion to their backlog.
 * Here each account holds at most about `AHEAD_SECONDS` of its own rate in this worker (more would
 * only wait for the limiter), and the free slots are dealt one at a time, round-robin from a
 * rotating start, so every account with work gets an equal share of what is left (max-min fair).
 *
 * @example
 * fairQuotas([{ id: 'a', ratePerSec: 1000, inflight: 0 }, { id: 'b', ratePerSec: 2, inflight: 1 }], { free: 10, concurrency: 256, start: 0 })
 * // Map { 'a' => 9, 'b' => 1 }: b may hold two (one second at 2/s) and has one already
 */
export interface AccountLoad {
  id: string
  /** The account's configured send rate (msg/s). */
  ratePerSec: number
  /** Jobs of this account this worker holds now. */
  inflight: number
}

/** An account holds at most this many seconds of its rate in one worker's hands. */
export const AHEAD_SECONDS = 1

/** Most jobs one account may hold in one worker: a second of its rate, at least one, at most all slots. */
export function accountCap(ratePerSec: number, concurrency: number): number {
  return Math.max(1, Math.min(concurrency, Math.ceil(ratePerSec * AHEAD_SECONDS)))
}

/**
 * Quotas for the accounts with due jobs (only those with a quota > 0 are in the map). Their sum is
 * at most `free`; no account goes over its cap. `start` rotates who is dealt first, so when there
 * are fewer free slots than accounts, the same accounts are not always the ones left out.
 */
export function fairQuotas(accounts: readonly AccountLoad[], opts: { free: number; concurrency: number; start: number }): Map<string, number> {
  const quotas = new Map<string, number>()
  const n = accounts.length
  if (n === 0 || opts.free <= 0) return quotas
  const offset = ((opts.start % n) + n) % n
  const order = accounts.map((_, i) => accounts[(offset + i) % n] as AccountLoad)
  const room = order.map((a) => Math.max(0, accountCap(a.ratePerSec, opts.concurrency) - a.inflight))
  let left = opts.free
  let dealt = true
  while (left > 0 && dealt) {
    dealt = false
    for (let i = 0; i < order.length && left > 0; i++) {
      if ((room[i] as number) <= 0) continue
      const id = (order[i] as AccountLoad).id
      quotas.set(id, (quotas.get(id) ?? 0) + 1)
      room[i] = (room[i] as number) - 1
      left--
      dealt = true
    }
  }
  return quotas
}
