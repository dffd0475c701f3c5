import { describe, expect, it } from 'vitest'
import { parseOptions } from './options.js'

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
})
