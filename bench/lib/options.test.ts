import { describe, expect, it } from 'vitest'
import { describeSizing, parseOptions, postgresSizing } from './options.js'

describe('parseOptions', () => {
  it('runs every scenario five times by default', () => {
    const o = parseOptions([])
    expect(o.reps).toBe(5)
    expect(o.quick).toBe(false)
    expect([...o.only].sort()).toEqual(['ingest', 'ratelimit', 'send'])
    expect(o.ingest.openRate).toBe(5000)
    expect(o.out).toBe('bench/RESULTS.md')
  })

  it('--quick shortens the phases', () => {
    const full = parseOptions([])
    const quick = parseOptions(['--quick'])
    expect(quick.reps).toBe(3)
    expect(quick.ingest.closedMs).toBeLessThan(full.ingest.closedMs)
    expect(quick.send.messagesPerRep).toBeLessThan(full.send.messagesPerRep)
  })

  it('reads --only, --out and --note, and refuses what it does not know', () => {
    const o = parseOptions(['--only=send,ratelimit', '--out=/tmp/x.md', '--note=shared machine'])
    expect([...o.only].sort()).toEqual(['ratelimit', 'send'])
    expect(o.out).toBe('/tmp/x.md')
    expect(o.note).toBe('shared machine')
    expect(() => parseOptions(['--only=everything'])).toThrow(/unknown scenario/)
    expect(() => parseOptions(['--fast'])).toThrow(/unknown option/)
  })

  it('runs SQLite and PostgreSQL + Redis with one and two processes by default; --backend narrows it', () => {
    expect(parseOptions([]).backends).toEqual([
      { kind: 'sqlite', processes: 1 },
      { kind: 'postgres', processes: 1 },
      { kind: 'postgres', processes: 2 },
    ])
    expect(parseOptions(['--backend=sqlite']).backends).toEqual([{ kind: 'sqlite', processes: 1 }])
    // the space-separated form, and a single process count
    expect(parseOptions(['--quick', '--backend', 'postgres:2']).backends).toEqual([{ kind: 'postgres', processes: 2 }])
    expect(parseOptions(['--backend', 'postgres,postgres:1']).backends).toHaveLength(2)
    expect(() => parseOptions(['--backend=mysql'])).toThrow(/unknown backend "mysql"/)
  })

  it('runs the PostgreSQL variants once in --quick, five times otherwise, and takes the services from the environment', () => {
    expect(parseOptions(['--quick']).backendReps).toBe(1)
    expect(parseOptions([]).backendReps).toBe(5)
    expect(parseOptions([]).services).toEqual({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/test', redisUrl: 'redis://127.0.0.1:6379' })
    const o = parseOptions([], { WAGATE_BENCH_DATABASE_URL: 'postgres://u@db:5433/bench', WAGATE_BENCH_REDIS_URL: 'redis://cache:6380/2' })
    expect(o.services).toEqual({ databaseUrl: 'postgres://u@db:5433/bench', redisUrl: 'redis://cache:6380/2' })
  })

  it('sizes the PostgreSQL variants smaller but keeps their repetitions and scenarios, and says so', () => {
    const full = parseOptions([])
    const pg = postgresSizing(full)
    expect(pg.reps).toBe(full.backendReps)
    expect(pg.send.messagesPerRep).toBeLessThan(full.send.messagesPerRep)
    expect(pg.rateLimit.seconds).toBeLessThan(full.rateLimit.seconds)
    expect(pg.rateLimit.limits).toEqual(full.rateLimit.limits)
    expect(pg.ingest.openRate).toBe(5_000)
    expect(pg.ingest.rampRates.slice(0, 2)).toEqual([250, 500])
    expect(describeSizing(pg)).toContain(`${pg.send.messagesPerRep.toLocaleString('en-US')} messages per send run`)
    expect(postgresSizing(parseOptions(['--quick'])).send.messagesPerRep).toBeLessThanOrEqual(pg.send.messagesPerRep)
  })
})
