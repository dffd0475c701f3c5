import { execFileSync } from 'node:child_process'
import { cpus, freemem, loadavg, release, totalmem, type as osType } from 'node:os'

/**
 * What the figures were measured on: CPU, cores, memory, kernel, Node, the file system the data
 * directories live on (fsync cost differs wildly between tmpfs, SSD and network disks) and the
 * commit under test.
 *
 * @example
 * describeMachine('/tmp').cores // 2
 */
export interface MachineInfo {
  cpu: string
  cores: number
  memoryGiB: number
  freeMemoryGiB: number
  os: string
  node: string
  fileSystem: string
  commit: string
  /** Files under src/ changed from that commit when the run started (other work in progress). */
  uncommittedSrcFiles: number
  loadAverage: number[]
  /** What ran the gateway: compiled dist/ or src/ through tsx (procs.ts gatewayRuntime). */
  gatewayRuntime?: string
}

function tryRun(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], ...(cwd ? { cwd } : {}) }).trim()
  } catch {
    return 'unknown'
  }
}

export function describeMachine(dataRoot: string, repoRoot: string): MachineInfo {
  const info = cpus()
  return {
    cpu: info[0]?.model.trim() ?? 'unknown',
    cores: info.length,
    memoryGiB: totalmem() / 2 ** 30,
    freeMemoryGiB: freemem() / 2 ** 30,
    os: `${osType()} ${release()}`,
    node: process.version,
    fileSystem: tryRun('df', ['-T', '--output=source,fstype', dataRoot]).split('\n').slice(1).join(' ').trim() || tryRun('stat', ['-f', '-c', '%T', dataRoot]),
    commit: tryRun('git', ['rev-parse', '--short', 'HEAD'], repoRoot),
    uncommittedSrcFiles: tryRun('git', ['status', '--porcelain', '--', 'src'], repoRoot).split('\n').filter((l) => l.trim() !== '' && l !== 'unknown').length,
    loadAverage: loadavg(),
  }
}
