import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASE_URL } from './harness.js'
import { assertRequired, postgresDown, warnSkip } from './services.js'
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js'

/**
 * The fault tests' TCP proxy does what they rely on, checked with a plain node-postgres client:
 * `pass` forwards, `cut` breaks open connections and refuses new ones, `blackhole` leaves queries
 * and new connections unanswered, and `pass` after a blackhole lets held bytes through again.
 */
warnSkip('the TCP proxy self-test', postgresDown)

const settle = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then((value) => ({ done: true as const, value }), (error: unknown) => ({ done: true as const, error })), new Promise<{ done: false }>((r) => setTimeout(() => r({ done: false }), ms))])

describe.skipIf(Boolean(postgresDown) && !process.env.WAGATE_TEST_REQUIRE_SERVICES)('fault harness: the TCP proxy in front of PostgreSQL', () => {
  let proxy: TcpProxy
  const clients: pg.Client[] = []
  const client = async () => {
    const c = new pg.Client({ connectionString: proxy.rewrite(DATABASE_URL), connectionTimeoutMillis: 3_000 })
    c.on('error', () => undefined)
    clients.push(c)
    await c.connect()
    return c
  }

  beforeAll(async () => {
    assertRequired(postgresDown)
    const u = new URL(DATABASE_URL)
    proxy = await startTcpProxy(u.hostname, Number(u.port || 5432))
  })
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined)
    await proxy?.close()
  })

  it('pass forwards; cut breaks the open connection and refuses new ones', async () => {
    const c = await client()
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    proxy.set('cut')
    await expect(c.query('select 1')).rejects.toThrow()
    await expect(client()).rejects.toThrow()
    expect(proxy.counts().cut).toBeGreaterThanOrEqual(2)
    proxy.set('pass')
    const again = await client()
    expect((await again.query('select 2 as two')).rows).toEqual([{ two: 2 }])
  })

  it('blackhole answers nothing, open or new; pass lets the held query finish', async () => {
    const c = await client()
    proxy.set('blackhole')
    const held = c.query('select 3 as three')
    expect((await settle(held, 1_000)).done).toBe(false)
    const fresh = client()
    expect((await settle(fresh, 1_000)).done).toBe(false)
    proxy.set('pass')
    const out = await settle(held, 5_000)
    expect(out).toMatchObject({ done: true, value: { rows: [{ three: 3 }] } })
    const connected = await settle(fresh, 5_000)
    expect(connected.done && !('error' in connected)).toBe(true)
  })
})
