import { createServer, connect, type Server, type Socket } from 'node:net'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorHandler } from '../../src/http/errors.js'
import type { Store } from '../../src/store/db.js'
import { StoreUnavailableError } from '../../src/store/errors.js'
import { openPostgresStore } from '../../src/store/postgres.js'
import { createTestSchema, type TestSchema } from '../harness/pg-schema.js'
import { pgSkipped, PG_URL, sleep } from './store-backends.js'

/**
 * PostgreSQL out of reach: through a TCP proxy that refuses, or blackholes (accepts and never
 * answers), every store call fails within its timeouts as StoreUnavailableError — the API answers
 * 503 with Retry-After — and the same store works again once the database is reachable, without
 * being reopened.
 */
type Mode = 'pass' | 'blackhole'

function startProxy(target: { host: string; port: number }) {
  let mode: Mode = 'pass'
  let server: Server | undefined
  const sockets = new Set<Socket>()
  let port = 0
  const handle = (client: Socket) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    if (mode === 'blackhole') return // accepted, never answered
    const upstream = connect(target.port, target.host)
    sockets.add(upstream)
    upstream.on('close', () => {
      sockets.delete(upstream)
      client.destroy()
    })
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    // Data is dropped, not queued, while blackholed: the connection looks alive and says nothing.
    client.on('data', (chunk) => mode === 'pass' && upstream.write(chunk))
    upstream.on('data', (chunk) => mode === 'pass' && client.write(chunk))
  }
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer(handle)
      server.listen(port, '127.0.0.1', () => {
        port = (server?.address() as { port: number }).port
        resolve()
      })
    })
  return {
    listen,
    get port() {
      return port
    },
    blackhole() {
      mode = 'blackhole'
    },
    pass() {
      mode = 'pass'
    },
    /** Closes the listener and cuts every connection: new ones are refused. */
    async refuse() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
      server = undefined
    },
    async close() {
      await this.refuse()
    },
  }
}

describe.skipIf(pgSkipped)('store outage on PostgreSQL', () => {
  let schema: TestSchema
  let proxy: ReturnType<typeof startProxy>
  let store: Store
  const dropped: Error[] = []

  beforeAll(async () => {
    schema = await createTestSchema({ url: PG_URL })
    const target = new URL(PG_URL ?? '')
    proxy = startProxy({ host: target.hostname, port: Number(target.port || 5432) })
    await proxy.listen()
    const viaProxy = new URL(schema.url)
    viaProxy.host = `127.0.0.1:${proxy.port}`
    store = await openPostgresStore({ url: viaProxy.toString(), poolSize: 4, connectTimeoutMs: 800, acquireTimeoutMs: 1_500, statementTimeoutMs: 800, onError: (e) => dropped.push(e) })
    await store.write((tx) => tx.insertInto('tenants').values({ id: 'tn_outage', name: 'outage', default_country: null, created_at: 1 }).execute())
  })
  afterAll(async () => {
    proxy?.pass()
    await store?.close().catch(() => undefined)
    await proxy?.close()
    await schema?.drop()
  })

  const write = (id: string) => store.write((tx) => tx.insertInto('tenants').values({ id, name: id, default_country: null, created_at: 2 }).execute())
  const timed = async (p: Promise<unknown>) => {
    const start = Date.now()
    const result = await p.then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    )
    return { ...result, ms: Date.now() - start }
  }

  it('a refused database fails writes and reads fast with StoreUnavailableError, then the pool heals', async () => {
    await proxy.refuse()
    const w = await timed(write('tn_refused'))
    const r = await timed(store.read.selectFrom('tenants').selectAll().execute())
    expect(w.ok).toBe(false)
    expect(r.ok).toBe(false)
    if (!w.ok) expect(w.error).toBeInstanceOf(StoreUnavailableError)
    if (!r.ok) expect(r.error).toBeInstanceOf(StoreUnavailableError)
    expect(w.ms).toBeLessThan(3_000)
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError)
    await proxy.listen()
    await write('tn_after_refused')
    expect(await store.ping()).toBe(true)
  })

  it('a blackholed database fails within the timeouts instead of hanging, then the pool heals', async () => {
    await write('tn_warm') // connections open in the pool, about to go silent
    proxy.blackhole()
    const results = await Promise.all([timed(write('tn_black_1')), timed(write('tn_black_2')), timed(store.read.selectFrom('tenants').selectAll().execute())])
    for (const r of results) {
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error).toBeInstanceOf(StoreUnavailableError)
      // statement 0.8 s + 1 s client margin, or the 1.5 s wait for a connection: never a hang.
      expect(r.ms).toBeLessThan(6_000)
    }
    proxy.pass()
    // The silent connections were dropped, not returned to the pool: fresh ones answer.
    const deadline = Date.now() + 10_000
    for (;;) {
      const attempt = await timed(write(`tn_after_black_${Date.now()}`))
      if (attempt.ok) break
      if (Date.now() > deadline) throw new Error('the store did not recover after the blackhole')
      await sleep(200)
    }
    const rows = await store.read.selectFrom('tenants').select('id').where('id', 'like', 'tn_black_%').execute()
    expect(rows).toEqual([])
  })

  it('the API answers a store outage with 503 problem+json and Retry-After', async () => {
    const app = Fastify()
    app.setErrorHandler(errorHandler)
    app.get('/probe', async () => store.read.selectFrom('tenants').select('id').limit(1).execute())
    await proxy.refuse()
    try {
      const res = await app.inject({ method: 'GET', url: '/probe' })
      expect(res.statusCode).toBe(503)
      expect(res.headers['content-type']).toContain('application/problem+json')
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
      expect(res.json()).toMatchObject({ code: 'store_unavailable', status: 503 })
    } finally {
      await proxy.listen()
      await app.close()
    }
    await write('tn_after_api')
  })
})
