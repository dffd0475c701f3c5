import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/**
 * Watches the processes of a benchmark through /proc (Linux): resident memory sampled a few times
 * a second, CPU time per process and for the whole machine between two marks, so a figure can be
 * read together with how busy each process — and everything else on the machine — was.
 * Elsewhere the readings are absent (NaN) and the benchmark still runs.
 *
 * @example
 * const mon = new ProcessMonitor({ gateway: gw.pid, bench: process.pid })
 * mon.start(); const a = mon.mark(); …; const use = mon.cpuBetween(a, mon.mark()); mon.stop()
 * use.cores.gateway // ≈ 1.0 when the gateway's thread was busy all the time
 */
export interface CpuMark {
  at: number
  /** CPU seconds per named process. */
  proc: Record<string, number>
  /** Busy and total CPU seconds of the machine (all cores). */
  busy: number
  total: number
  /** Per watched group (e.g. every `postgres` process), CPU seconds per pid. */
  groups: Record<string, Map<number, number>>
}

export interface CpuUse {
  seconds: number
  /** Average cores used per named process over the interval. */
  cores: Record<string, number>
  /** Average cores used by everything else on the machine (other helpers, the OS). */
  otherCores: number
  machineBusyCores: number
}

let ticksPerSecond: number | undefined
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** CPU seconds (user + system) of one process, NaN when unreadable. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name may hold spaces: fields are counted after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / clockTicks()
  } catch {
    return Number.NaN
  }
}

/** Resident set size in bytes, NaN when unreadable. */
export function processRssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** CPU seconds of every process whose command name (`comm`) one of the matchers accepts, per matcher. */
function groupCpu(matchers: Map<string, (comm: string) => boolean>): Record<string, Map<number, number>> {
  const out: Record<string, Map<number, number>> = {}
  for (const name of matchers.keys()) out[name] = new Map()
  if (matchers.size === 0) return out
  let entries: string[]
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e))
  } catch {
    return out
  }
  for (const e of entries) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8')
    } catch {
      continue // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    for (const [name, match] of matchers) {
      if (!match(comm)) continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out[name]?.set(Number(e), (Number(fields[11]) + Number(fields[12])) / clockTicks())
    }
  }
  return out
}

function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0)
    const idle = (v[3] ?? 0) + (v[4] ?? 0)
    return { busy: (total - idle) / clockTicks(), total: total / clockTicks() }
  } catch {
    return { busy: Number.NaN, total: Number.NaN }
  }
}

export class ProcessMonitor {
  private timer: NodeJS.Timeout | undefined
  private readonly peaks = new Map<string, number>()
  private readonly windowPeaks = new Map<string, number>()

  constructor(private readonly pids: Record<string, number>, private readonly intervalMs = 200) {}

  /** Adds (or replaces) a watched process. */
  watch(name: string, pid: number): void {
    this.pids[name] = pid
  }

  unwatch(name: string): void {
    delete this.pids[name]
  }

  private readonly groups = new Map<string, (comm: string) => boolean>()

  /**
   * CPU (not memory) of every process whose command name matches, summed — a database server's
   * backends come and go with its connections. A process that exits between two marks takes its
   * CPU time with it.
   */
  watchGroup(name: string, match: (comm: string) => boolean): void {
    this.groups.set(name, match)
  }

  unwatchGroup(name: string): void {
    this.groups.delete(name)
  }

  private lastMark: CpuMark | undefined
  private otherSeconds = 0
  private watchedSeconds = 0
  private ticks = 0

  start(): void {
    this.sample()
    this.lastMark = this.mark()
    this.timer = setInterval(() => {
      this.sample()
      // once a second, charge what the rest of the machine did to the run's noise figure
      if (++this.ticks % Math.max(1, Math.round(1000 / this.intervalMs)) === 0) {
        const now = this.mark()
        if (this.lastMark) {
          const use = this.cpuBetween(this.lastMark, now)
          if (Number.isFinite(use.otherCores)) {
            this.otherSeconds += use.otherCores * use.seconds
            this.watchedSeconds += use.seconds
          }
        }
        this.lastMark = now
      }
    }, this.intervalMs)
    this.timer.unref()
  }

  /** Average cores used by processes other than the watched ones since start(). */
  otherCoresAverage(): number {
    return this.watchedSeconds > 0 ? this.otherSeconds / this.watchedSeconds : Number.NaN
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      const rss = processRssBytes(pid)
      if (!Number.isFinite(rss)) continue
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, rss))
      this.windowPeaks.set(name, Math.max(this.windowPeaks.get(name) ?? 0, rss))
    }
  }

  /** Highest RSS seen for a process since it was first watched. */
  peakRss(name: string): number {
    return this.peaks.get(name) ?? Number.NaN
  }

  /** Highest RSS per process since the last call (one scenario's peak). */
  takeWindowPeaks(): Record<string, number> {
    this.sample()
    const out = Object.fromEntries(this.windowPeaks)
    this.windowPeaks.clear()
    return out
  }

  mark(): CpuMark {
    const proc: Record<string, number> = {}
    for (const [name, pid] of Object.entries(this.pids)) proc[name] = processCpuSeconds(pid)
    return { at: performance.now(), proc, ...machineCpu(), groups: groupCpu(this.groups) }
  }

  cpuBetween(a: CpuMark, b: CpuMark): CpuUse {
    const seconds = (b.at - a.at) / 1000
    const cores: Record<string, number> = {}
    let ours = 0
    for (const name of Object.keys(b.proc)) {
      const used = (b.proc[name] ?? Number.NaN) - (a.proc[name] ?? Number.NaN)
      cores[name] = used / seconds
      if (Number.isFinite(used)) ours += used
    }
    for (const [name, now] of Object.entries(b.groups ?? {})) {
      const before = a.groups?.[name]
      if (!before) {
        cores[name] = Number.NaN
        continue
      }
      let used = 0
      // a process new since mark a used all its CPU time in between
      for (const [pid, cpu] of now) used += cpu - (before.get(pid) ?? 0)
      cores[name] = used / seconds
      ours += used
    }
    const machineBusyCores = (b.busy - a.busy) / seconds
    return { seconds, cores, otherCores: Math.max(0, machineBusyCores - ours / seconds), machineBusyCores }
  }
}
