import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { processCpuSeconds, processRssBytes, ProcessMonitor } from './monitor.js'

const linux = existsSync('/proc/self/stat')

describe.runIf(linux)('ProcessMonitor (Linux /proc)', () => {
  it('reads this process: RSS in bytes, CPU seconds that grow while it computes', () => {
    expect(processRssBytes(process.pid)).toBeGreaterThan(10 * 2 ** 20)
    const before = processCpuSeconds(process.pid)
    const until = Date.now() + 300
    let x = 0
    while (Date.now() < until) x += Math.sqrt(x + 1)
    expect(x).toBeGreaterThan(0)
    expect(processCpuSeconds(process.pid)).toBeGreaterThan(before)
  })

  it('reports cores used by a watched process between two marks', () => {
    const mon = new ProcessMonitor({ self: process.pid })
    const a = mon.mark()
    const until = Date.now() + 400
    let x = 0
    while (Date.now() < until) x += Math.sqrt(x + 1)
    const use = mon.cpuBetween(a, mon.mark())
    // a busy loop on one thread: most of one core (less when the machine is shared)
    expect(use.cores.self).toBeGreaterThan(0.2)
    expect(use.cores.self).toBeLessThan(1.5)
    expect(use.seconds).toBeGreaterThan(0.35)
  })

  it('sums the CPU of every process of a group by command name, and leaves it out of "other"', () => {
    const comm = readFileSync('/proc/self/comm', 'utf8').trim()
    const mon = new ProcessMonitor({})
    mon.watchGroup('mine', (c) => c === comm)
    mon.watchGroup('nobody', (c) => c === 'no-such-command-xyz')
    const a = mon.mark()
    const until = Date.now() + 400
    let x = 0
    while (Date.now() < until) x += Math.sqrt(x + 1)
    const use = mon.cpuBetween(a, mon.mark())
    expect(use.cores.mine).toBeGreaterThan(0.2)
    expect(use.cores.nobody).toBe(0)
    expect(use.otherCores).toBeLessThanOrEqual(use.machineBusyCores - (use.cores.mine ?? 0) + 1e-9)
    mon.unwatchGroup('mine')
    expect(mon.cpuBetween(a, mon.mark()).cores.mine).toBeUndefined()
  })

  it('keeps the peak RSS seen per process', () => {
    const mon = new ProcessMonitor({ self: process.pid }, 20)
    mon.start()
    mon.stop()
    expect(mon.peakRss('self')).toBeGreaterThan(10 * 2 ** 20)
    expect(mon.peakRss('other')).toBeNaN()
    expect(mon.takeWindowPeaks().self).toBeGreaterThan(0)
  })
})

describe('unreadable processes', () => {
  it('give NaN instead of throwing', () => {
    expect(processRssBytes(2 ** 30)).toBeNaN()
    expect(processCpuSeconds(2 ** 30)).toBeNaN()
  })
})
