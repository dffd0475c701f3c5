import { describe, expect, it } from 'vitest'
import { coalesce } from './event-order.js'
import { parseDatabaseUrl } from './postgres.js'

describe('coalesce (horizon reads)', () => {
  it('shares a read among callers, but never answers a caller with a read that began before its call', async () => {
    let started = 0
    const releases: Array<(v: number) => void> = []
    const read = () =>
      new Promise<number>((resolve) => {
        started++
        releases.push(resolve)
      })
    const next = coalesce(read)
    const a = next()
    const b = next() // arrives while the first read runs: must wait for a fresh one
    const c = next() // shares b's
    expect(started).toBe(1)
    releases[0]?.(10)
    expect(await a).toBe(10)
    await new Promise((r) => setTimeout(r, 0))
    expect(started).toBe(2)
    releases[1]?.(20)
    expect(await b).toBe(20)
    expect(await c).toBe(20)
    const d = next()
    expect(started).toBe(3)
    releases[2]?.(30)
    expect(await d).toBe(30)
  })

  it('a failed read fails its callers only; the next call reads again', async () => {
    let n = 0
    const next = coalesce(async () => {
      n++
      if (n === 1) throw new Error('down')
      return n
    })
    await expect(next()).rejects.toThrow('down')
    expect(await next()).toBe(2)
  })
})

describe('parseDatabaseUrl', () => {
  it('takes wagate settings out of the URL and leaves the rest for the driver', () => {
    const parsed = parseDatabaseUrl('postgres://u:p%40ss@db:5432/wagate?schema=gw&pool_max=20&statement_timeout_ms=5000&sslmode=require')
    expect(parsed.schema).toBe('gw')
    expect(parsed.settings).toEqual({ pool_max: 20, statement_timeout_ms: 5000 })
    expect(parsed.connectionString).toBe('postgres://u:p%40ss@db:5432/wagate?sslmode=require')
  })

  it('defaults to the public schema and refuses nonsense numbers', () => {
    expect(parseDatabaseUrl('postgresql://db/wagate').schema).toBe('public')
    expect(() => parseDatabaseUrl('postgres://db/w?pool_max=0')).toThrow(/pool_max/)
    expect(() => parseDatabaseUrl('postgres://db/w?connect_timeout_ms=abc')).toThrow(/connect_timeout_ms/)
  })
})
