import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { fixedCount } from './load.js'
import { RoundRobin } from './round-robin.js'
import { TrackedPool } from './tracked-pool.js'

/** Two receivers standing in for two gateway processes; each counts what it got. */
const servers: Server[] = []
async function receiver(delayMs = 0): Promise<{ url: string; hits: () => number }> {
  let hits = 0
  const server = createServer((req, res) => {
    hits++
    req.resume()
    setTimeout(() => res.end('ok'), delayMs)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  servers.push(server)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits }
}
afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()))
})

const get = () => ({ method: 'GET' as const, path: '/', headers: {} })

describe('RoundRobin', () => {
  it('gives each process every other request, even when one answers slower', async () => {
    const fast = await receiver(0)
    const slow = await receiver(20)
    const rr = new RoundRobin([fast.url, slow.url], { connections: 8, pipelining: 1 })
    const r = await fixedCount(rr, get, { count: 41, concurrency: 8 })
    await rr.close()
    expect(r.ok).toBe(41)
    expect(fast.hits()).toBe(21)
    expect(slow.hits()).toBe(20)
    expect(rr.counts).toEqual([21, 20])
  })
})

describe('TrackedPool', () => {
  it('counts requests until they are answered, and says when the backlog is gone', async () => {
    const slow = await receiver(300)
    const pool = new TrackedPool(new Pool(slow.url, { connections: 4 }))
    const pending = Promise.all([1, 2, 3].map(() => pool.request({ method: 'GET', path: '/' }).then((res) => res.body.dump())))
    expect(pool.pending).toBe(3)
    expect(await pool.idle(50)).toBe(false)
    expect(await pool.idle(5_000)).toBe(true)
    expect(pool.pending).toBe(0)
    await pending
    await pool.close()
  })
})
