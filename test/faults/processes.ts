import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FaultRule, SimulatorStats } from '../../src/simulators/types.js'
import { freePort, http, REPO_ROOT, secret, sleep, type HttpAnswer } from './util.js'

/**
 * The processes of a fault test: gateways (`node --import tsx src/cli.ts serve`) and the Meta
 * simulator (`src/simulators/meta/main.ts`), each a child of the test so that it can be `kill -9`ed
 * exactly as in production. Every child is killed when the test process exits, whatever happened.
 *
 * @example
 * const sim = await startSimulator()
 * const gw = await startGatewayProcess({ shared: sharedSettings(), dataDir })
 * await gw.kill9(); await gw.restart()
 */
/** Makes each child exit once this process is gone, even after a SIGKILL that skips 'exit' below. */
const ORPHAN_GUARD = new URL('./orphan-guard.mjs', import.meta.url).href
const live = new Set<ChildProcess>()

process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

interface Spawned {
  child: ChildProcess
  tail(): string
  /** Resolves with the first non-empty stdout line. */
  firstLine: Promise<string>
  exited: Promise<void>
}

function spawnNode(name: string, script: string, args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, ['--import', ORPHAN_GUARD, '--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', FAULT_TEST_PARENT_PID: String(process.pid), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  let tail = ''
  // WAGATE_FAULT_LOG_DIR: each process's whole output in <dir>/<name>.log, for a diagnosis.
  const logFile = process.env.WAGATE_FAULT_LOG_DIR ? join(process.env.WAGATE_FAULT_LOG_DIR, `${name}.log`) : undefined
  const keep = (chunk: string) => {
    tail = (tail + chunk).slice(-6000)
    if (logFile) appendFileSync(logFile, chunk)
  }
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', keep)
  let out = ''
  child.stdout?.setEncoding('utf8')
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      keep(chunk)
      if (out.length > 10_000) return
      out += chunk
      const line = out.split('\n').slice(0, -1).find((l) => l.trim() !== '')
      if (line !== undefined) resolve(line.trim())
    })
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${tail}`)))
  })
  firstLine.catch(() => undefined)
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    child.once('exit', () => {
      live.delete(child)
      resolve()
    })
  })
  return { child, tail: () => tail, firstLine, exited }
}

function isRunning(child: ChildProcess) {
  return child.exitCode === null && child.signalCode === null
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */

async function terminate(s: Spawned, graceMs: number): Promise<void> {
  if (!isRunning(s.child)) return
  const timer = setTimeout(() => s.child.kill('SIGKILL'), graceMs)
  s.child.kill('SIGTERM')
  await s.exited
  clearTimeout(timer)
}

async function waitHttp(url: string, s: Spawned, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!isRunning(s.child)) throw new Error(`process exited (${s.child.exitCode ?? s.child.signalCode}) before ${url} answered:\n${s.tail()}`)
    try {
      const res = await http('GET', url, { timeoutMs: 2_000 })
      if (res.status < 500) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${s.tail()}`)
    await sleep(100)
  }
}

export interface SharedSettings {
  apiKey: string
  secretKey: string
}

export function sharedSettings(): SharedSettings {
  return { apiKey: `wg_fault_${secret(12)}`, secretKey: secret(32) }
}

export interface GatewayOptions {
  shared: SharedSettings
  name?: string
  /** SQLite data directory (default store). */
  dataDir?: string
  databaseUrl?: string
  redisUrl?: string
  role?: 'all' | 'api' | 'worker'
  /** Keep the port across restarts so that the simulator's webhooks keep reaching us. */
  port?: number
  env?: Record<string, string>
}

export interface GatewayProcess {
  name: string
  url: string
  port: number
  readonly pid: number
  apiKey: string
  /** An authenticated API call, bounded in time (default 15 s). */
  api(method: string, path: string, body?: unknown, opts?: { timeoutMs?: number; headers?: Record<string, string> }): Promise<HttpAnswer>
  /** A number from /metrics (NaN when absent). */
  metric(name: string): Promise<number>
  running(): boolean
  /** `kill -9`: no shutdown hook runs, nothing is flushed. */
  kill9(): Promise<void>
  stop(graceMs?: number): Promise<void>
  /** Starts the same process again (same port, data directory, database and settings), optionally in another role. */
  restart(role?: 'all' | 'api' | 'worker'): Promise<void>
  tail(): string
}

/** Fast retries and a short lease so that faults resolve within a test; each test overrides what it needs. */

const GATEWAY_DEFAULTS: Record<string, string> = {
  WAGATE_LOG_LEVEL: 'warn',
  WAGATE_RETRY_BASE_MS: '100',
  WAGATE_RETRY_MAX_MS: '1000',
  WAGATE_SEND_TIMEOUT_MS: '10000',
  WAGATE_LEASE_MS: '3000',
}

export async function startGatewayProcess(opts: GatewayOptions): Promise<GatewayProcess> {
  const name = opts.name ?? 'gateway'
  const port = opts.port ?? (await freePort())
  const url = `http://127.0.0.1:${port}`
  const env: Record<string, string> = {
    ...GATEWAY_DEFAULTS,
    WAGATE_PORT: String(port),
    WAGATE_HOST: '127.0.0.1',
    WAGATE_PUBLIC_URL: url,
    WAGATE_API_KEY: opts.shared.apiKey,
    WAGATE_SECRET_KEY: opts.shared.secretKey,
    ...(opts.dataDir ? { WAGATE_DATA_DIR: opts.dataDir } : {}),
    ...(opts.databaseUrl ? { WAGATE_DATABASE_URL: opts.databaseUrl } : {}),
    ...(opts.redisUrl ? { WAGATE_REDIS_URL: opts.redisUrl } : {}),
    ...opts.env,
  }
  let role = opts.role
  let current: Spawned
  const boot = async () => {
    current = spawnNode(name, 'src/cli.ts', ['serve', ...(role ? ['--role', role] : [])], env)
    // Every role serves /healthz (the worker role only the ops routes).
    await waitHttp(`${url}/healthz`, current)
  }
  await boot()
  const auth = { authorization: `Bearer ${opts.shared.apiKey}` }
  return {
    name,
    url,
    port,
    get pid() {
      return current.child.pid ?? -1
    },
    apiKey: opts.shared.apiKey,
    api: (method, path, body, o = {}) => http(method, url + path, { body, headers: { ...auth, ...o.headers }, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }),
    async metric(metricName) {
      const res = await http('GET', `${url}/metrics`, { timeoutMs: 5_000 })
      return Number(new RegExp(`^${metricName} (\\S+)$`, 'm').exec(res.text)?.[1] ?? Number.NaN)
    },
    running: () => isRunning(current.child),
    async kill9() {
      if (!isRunning(current.child)) return
      current.child.kill('SIGKILL')
      await current.exited
    },
    stop: (graceMs = 15_000) => terminate(current, graceMs),
    async restart(nextRole) {
      await terminate(current, 15_000)
      if (nextRole) role = nextRole
      await boot()
    },
    tail: () => current.tail(),
  }
}

export interface SentRecordWire {
  providerMessageId: string
  account: string
  to: string
  clientRef?: string
  at: number
}

export interface SimulatorProcess {
  url: string
  readonly pid: number
  addAccount(account: SimAccount): Promise<void>
  setFaults(rules: FaultRule[]): Promise<void>
  clearFaults(): Promise<void>
  stats(): Promise<SimulatorStats>
  sent(): Promise<SentRecordWire[]>
  stop(): Promise<void>
  tail(): string
}

export interface SimAccount {
  phoneNumberId: string
  displayPhoneNumber: string
  accessToken: string
  appSecret: string
  webhookUrl: string
}

/**
 * Providers retry webhooks for hours with growing delays (Meta: up to 7 days); here for about five
 * minutes: 0.1 s, 0.25 s, then doubling up to 30 s. A gateway that is down, or sheds webhooks with 503
 * under load, gets them again — without a retry storm that would keep it overloaded.
 */
const WEBHOOK_RETRIES = ['100', '250', '500', '1000', '2000', '4000', '8000', '15000', ...Array.from({ length: 9 }, () => '30000')].join(',')

/**
 * The Meta simulator (`src/simulators/meta/main.ts`) in its own process: its own event loop stamps
 * send arrivals (`at`) as the provider would see them. Webhooks are retried for about five minutes
 * so that a gateway restart, a database outage or an overloaded gateway loses none of them.
 */
export async function startSimulator(env: Record<string, string> = {}): Promise<SimulatorProcess> {
  const s = spawnNode('meta simulator', 'src/simulators/meta/main.ts', [], {
    SIM_PORT: '0',
    SIM_WEBHOOK_RETRY_DELAYS_MS: WEBHOOK_RETRIES,
    // A gateway shedding webhooks holds each up to its 4 s acquire timeout; unbounded, the simulator
    // kept ~10,000 of them open and answered sends after the gateway's 30 s send timeout.
    SIM_WEBHOOK_MAX_IN_FLIGHT: '512',
    ...env,
  })
  const url = await s.firstLine
  await waitHttp(`${url}/_sim/stats`, s)
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await http(method, url + path, { body, timeoutMs: 30_000 })
    if (res.status >= 300) throw new Error(`simulator ${method} ${path} → ${res.status}: ${res.text.slice(0, 300)}`)
    return res.json as unknown
  }
  return {
    url,
    get pid() {
      return s.child.pid ?? -1
    },
    addAccount: async (account) => void (await call('POST', '/_sim/accounts', account)),
    setFaults: async (rules) => void (await call('PUT', '/_sim/faults', { rules })),
    clearFaults: async () => void (await call('DELETE', '/_sim/faults')),
    stats: async () => (await call('GET', '/_sim/stats')) as SimulatorStats,
    sent: async () => (await call('GET', '/_sim/sent')) as SentRecordWire[],
    stop: () => terminate(s, 5_000),
    tail: s.tail,
  }
}
