import { Pool } from 'undici'
import type { RequestPool } from './load.js'

/**
 * Spreads requests over several gateway processes in strict turn (1st to A, 2nd to B, 3rd to A…),
 * so two processes sharing one database each get half the load whatever their speed — unlike a
 * least-busy balancer, which would hide a slow process by sending it less. Each process gets its own
 * undici Pool with `connections` split between them, so the total held open stays what one process
 * would get.
 *
 * @example
 * const rr = new RoundRobin([gwA.url, gwB.url], { connections: 64, pipelining: 4 })
 * await closedLoop(rr, next, { durationMs: 3000, concurrency: 256 })
 * await rr.close()
 */
export class RoundRobin implements RequestPool {
  private readonly pools: Pool[]
  private turn = 0

  constructor(urls: string[], opts: { connections: number; pipelining: number; keepAliveTimeout?: number }) {
    if (urls.length === 0) throw new Error('RoundRobin needs at least one URL')
    const connections = Math.max(1, Math.ceil(opts.connections / urls.length))
    this.pools = urls.map((u) => new Pool(u, { connections, pipelining: opts.pipelining, keepAliveTimeout: opts.keepAliveTimeout ?? 60_000 }))
  }

  /** Requests started on each process so far, in the order of the URLs. */
  readonly counts: number[] = []

  request: Pool['request'] = ((...args: Parameters<Pool['request']>) => {
    const i = this.turn
    this.turn = (this.turn + 1) % this.pools.length
    this.counts[i] = (this.counts[i] ?? 0) + 1
    return (this.pools[i] as Pool).request(...(args as [Parameters<Pool['request']>[0]]))
  }) as Pool['request']

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()))
  }
}
