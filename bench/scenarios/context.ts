import type { ProcessMonitor } from '../lib/monitor.js'
import type { BenchOptions } from '../lib/options.js'

/** What every scenario gets from the runner. */
export interface RunContext {
  opts: BenchOptions
  monitor: ProcessMonitor
  log: (line: string) => void
  /** Parent of the scenario data directories (removed at the end). */
  tmpRoot: string
  /** A fresh directory for the CPU profiles of one scenario's gateway. */
  profileDir: (scenario: string) => string
}
