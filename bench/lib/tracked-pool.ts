import type { Pool } from 'undici'
import type { RequestPool } from './load.js'

/**
 * Counts the requests of a pool still waiting for their answer, so a scenario can wait for a
 * server's backlog to drain before it measures again. A server that fell far behind (an open loop
 * at 5,000/s against one that completes a few hundred) is still answering the previous run's
 * requests minutes later; without the wait, that backlog would be charged to the next run.
 *
 * @example
 * const pool = new TrackedPool(new Pool(url))
 * await openLoop(pool, next, { rate: 5000, durationMs: 3000 })
 * await pool.idle(30_000) // true once every request got its answer
 */
export class TrackedPool implements RequestPool {
  private outstanding = 0

  constructor(private readonly inner: RequestPool & { close(): Promise<void> }) {}

  get pending(): number {
    return this.outstanding
  }

  request: Pool['request'] = ((...args: Parameters<Pool['request']>) => {
    this.outstanding++
    const done = () => {
      this.outstanding--
    }
    const p = this.inner.request(...(args as [Parameters<Pool['request']>[0]]))
    p.then(done, done)
    return p
  }) as Pool['request']

  /** Resolves true once nothing is pending, false if `maxMs` passed first. */
  async idle(maxMs: number): Promise<boolean> {
    const until = Date.now() + maxMs
    while (this.outstanding > 0) {
      if (Date.now() > until) return false
      await new Promise((r) => setTimeout(r, 50))
    }
    return true
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
