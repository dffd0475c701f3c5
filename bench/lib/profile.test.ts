import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { summarizeProfile, summarizeProfileFile } from './profile.js'

const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' })

// root → idle, program, GC, run (better-sqlite3 JS) → native step, ingest (src/engine)
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5, 7] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('(program)') },
    { id: 4, callFrame: frame('(garbage collector)') },
    { id: 5, callFrame: frame('run', 'file:///app/node_modules/better-sqlite3/lib/methods/wrappers.js'), children: [6] },
    { id: 6, callFrame: frame('step') },
    { id: 7, callFrame: frame('ingest', 'file:///app/src/engine/inbound.ts') },
  ],
  startTime: 0,
  endTime: 2_000_000,
  // each sample lasts 100 ms
  samples: [2, 2, 2, 2, 2, 6, 6, 6, 6, 5, 7, 7, 7, 3, 4],
  timeDeltas: Array.from({ length: 15 }, () => 100_000),
}

describe('summarizeProfileFile', () => {
  const file = join(dir, 'a.cpuprofile')
  writeFileSync(file, JSON.stringify(profile))
  const s = summarizeProfileFile(file)

  it('leaves idle out of the busy time', () => {
    expect(s.wallSeconds).toBe(2)
    expect(s.busySeconds).toBeCloseTo(1.0, 5)
  })

  it('charges native frames to the package that called them', () => {
    const byName = Object.fromEntries(s.categories.map((c) => [c.name, c.pct]))
    expect(byName['better-sqlite3 (native)']).toBeCloseTo(40, 5)
    expect(byName['better-sqlite3']).toBeCloseTo(10, 5)
    expect(byName['wagate src/engine']).toBeCloseTo(30, 5)
    expect(byName.GC).toBeCloseTo(10, 5)
    expect(byName['V8 / runtime (program)']).toBeCloseTo(10, 5)
    expect(s.categories[0]?.name).toBe('better-sqlite3 (native)')
  })

  it('lists the top functions with their location', () => {
    expect(s.functions[0]?.name).toBe('step — better-sqlite3 (native)')
    expect(s.functions.some((f) => f.name === 'ingest — src/engine/inbound.ts:1')).toBe(true)
  })

  it('summarizeProfile picks the busiest profile of a directory, and is undefined without one', () => {
    const quiet = { ...profile, samples: [2, 2, 3], timeDeltas: [100_000, 100_000, 100_000] }
    writeFileSync(join(dir, 'worker.cpuprofile'), JSON.stringify(quiet))
    expect(summarizeProfile(dir)?.busySeconds).toBeCloseTo(1.0, 5)
    expect(summarizeProfile(dir)?.file).toBe(file)
    expect(summarizeProfile(join(dir, 'missing'))).toBeUndefined()
  })
})
