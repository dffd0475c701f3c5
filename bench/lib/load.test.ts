import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedLoop, fixedCount, generatorBehind, openLoop, sustained, type BenchRequest, type LoadResult } from './load.js'

let server: Server
let url = ''
let hits = 0
let inflight = 0
let maxInflight = 0

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++
    inflight++
    maxInflight = Math.max(maxInflight, inflight)
    req.resume()
    req.on('end', () => {
      setTimeout(() => {
        inflight--
        res.writeHead(req.url === '/fail' ? 503 : 200).end('{}')
      }, 2)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()))
})

const post = (path = '/ok'): BenchRequest => ({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: '{}' })

describe('openLoop', () => {
  it('sends rate × duration requests and times every answer', async () => {
    const pool = new Pool(url, { connections: 16 })
    hits = 0
    const r = await openLoop(pool, () => post(), { rate: 500, durationMs: 400 })
    await pool.close()
    expect(r.sent).toBe(200)
    expect(hits).toBe(200)
    expect(r.ok).toBe(200)
    expect(r.errors).toBe(0)
    expect(r.rate).toBe(500)
    // the server holds each request 2 ms, and latency is counted from the scheduled time
    expect(r.latency.p50).toBeGreaterThanOrEqual(2)
  })

  it('counts non-2xx answers as errors with the first cause', async () => {
    const pool = new Pool(url, { connections: 4 })
    const r = await openLoop(pool, () => post('/fail'), { rate: 200, durationMs: 100 })
    await pool.close()
    expect(r.ok).toBe(0)
    expect(r.errors).toBe(r.sent)
    expect(r.statuses['503']).toBe(r.sent)
    expect(r.firstError).toBe('HTTP 503')
  })
})

describe('closedLoop', () => {
  it('never has more than `concurrency` requests outstanding', async () => {
    const pool = new Pool(url, { connections: 8 })
    maxInflight = 0
    const r = await closedLoop(pool, () => post(), { durationMs: 300, concurrency: 5 })
    await pool.close()
    expect(maxInflight).toBeLessThanOrEqual(5)
    expect(maxInflight).toBeGreaterThanOrEqual(2)
    expect(r.ok).toBe(r.sent)
    expect(r.throughput).toBeGreaterThan(0)
  })
})

describe('fixedCount', () => {
  it('sends exactly count requests, each built once', async () => {
    const pool = new Pool(url, { connections: 8 })
    hits = 0
    const seen = new Set<number>()
    const r = await fixedCount(pool, (i) => {
      seen.add(i)
      return post()
    }, { count: 123, concurrency: 10 })
    await pool.close()
    expect(r.sent).toBe(123)
    expect(hits).toBe(123)
    expect(seen.size).toBe(123)
  })
})

describe('sustained', () => {
  const base: LoadResult = { sent: 1000, ok: 1000, errors: 0, statuses: { '200': 1000 }, elapsedMs: 1000, throughput: 1000, latency: { p50: 2, p90: 4, p99: 9, max: 20 }, rate: 1000, late: 0, maxLagMs: 1 }

  it('accepts a clean step and refuses errors and slow tails', () => {
    expect(sustained(base, 100)).toBe(true)
    expect(sustained({ ...base, errors: 1, ok: 999 }, 100)).toBe(false)
    expect(sustained({ ...base, latency: { ...base.latency, p99: 101 } }, 100)).toBe(false)
  })

  it('flags a generator that sent more than 1% late', () => {
    expect(generatorBehind({ ...base, late: 10 })).toBe(false)
    expect(generatorBehind({ ...base, late: 11 })).toBe(true)
  })
})
