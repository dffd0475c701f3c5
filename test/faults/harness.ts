import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createConnection, createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import type { FaultRule, SimulatorStats } from '../../src/simulators/types.js'

/**
 * Fault-test harness: real gateway processes (`node --import tsx src/cli.ts serve`), the Meta
 * simulator in its own process driven through its `/_sim/*` routes, and helpers to poll both over
 * HTTP. Everything is a child process of the test, so a gateway can be `kill -9`ed exactly as in
 * production; every child is killed when the test process exits, whatever happened.
 *
 * @example
 * const sim = await startSimulator()
 * const gw = await startGatewayProcess({ shared: sharedSettings(), dataDir })
 * const acct = await createMetaAccount(gw, sim, { name: 'f1', rateLimit: 400 })
 * const ids = await sendMany(gw, 100, (i) => ({ account: acct.name, to: recipient(i), type: 'text', text: `m${i}` }))
 * await gw.kill9()
 */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const REQUIRED = Boolean(process.env.WAGATE_TEST_REQUIRE_SERVICES)
export const DATABASE_URL = process.env.WAGATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.WAGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A number from the environment (for the long versions of the tests), or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number (got "${raw}")`)
  return n
}

export function secret(bytes = 24): string {
  return randomBytes(bytes).toString('hex')
}

/** A port that was free a moment ago (the child binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Undefined when something listens at the URL's host and port, else why not (for skip messages). */
export function unreachable(url: string, defaultPort: number): Promise<string | undefined> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = createConnection({ host: u.hostname, port: Number(u.port || defaultPort), timeout: 2_000 })
    socket.once('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve(`${url} did not answer in 2 s`)
    })
    socket.once('error', (err) => resolve(`${url} is unreachable (${err.message})`))
  })
}

/** Polls until `check` returns a truthy value; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false | null>, timeoutMs: number, what: string, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`)
    await sleep(intervalMs)
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpAnswer {
  status: number
  json: any
  text: string
  headers: Record<string, string | string[] | undefined>
  ms: number
}

/** One HTTP call bounded in time: a server that accepts but never answers is an error after `timeoutMs`. */
export async function http(method: string, url: string, opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<HttpAnswer> {
  const started = Date.now()
  const timeoutMs = opts.timeoutMs ?? 15_000
  const res = await request(url, {
    method: method as 'POST',
    headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await res.body.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.statusCode, json, text, headers: res.headers, ms: Date.now() - started }
}

// ---------------------------------------------------------------------------------------------
// Child processes

interface Spawned {
  child: ChildProcess
  tail(): string
  /** Resolves with the first non-empty stdout line. */
  firstLine: Promise<string>
  exited: Promise<void>
}

function spawnNode(name: string, script: string, args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  let tail = ''
  const keep = (chunk: string) => {
    tail = (tail + chunk).slice(-6000)
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

// ---------------------------------------------------------------------------------------------
// Gateway processes

/** What every process of one deployment shares: the API key and the credential key. */
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

// ---------------------------------------------------------------------------------------------
// Meta simulator process

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
 * The Meta simulator (`src/simulators/meta/main.ts`) in its own process: its own event loop stamps
 * send arrivals (`at`) as the provider would see them. Webhooks are retried for about a minute so
 * that a gateway restart or a database outage loses none of them.
 */
export async function startSimulator(env: Record<string, string> = {}): Promise<SimulatorProcess> {
  const s = spawnNode('meta simulator', 'src/simulators/meta/main.ts', [], {
    SIM_PORT: '0',
    SIM_WEBHOOK_RETRY_DELAYS_MS: '100,250,500,1000,2000,3000,5000,5000,5000,5000,5000,5000,5000,5000,5000',
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

// ---------------------------------------------------------------------------------------------
// Accounts, messages

export interface FaultAccount extends SimAccount {
  name: string
  id: string
}

let accountSeq = 0

/**
 * A Meta number on the simulator and the matching gateway account (created through the API)
 * pointed at the simulator's Graph API; the simulator posts its webhooks to `webhookGateway`.
 */
export async function createMetaAccount(
  gw: GatewayProcess,
  sim: SimulatorProcess,
  opts: { name: string; rateLimit: number; webhookGateway?: GatewayProcess },
): Promise<FaultAccount> {
  const n = (process.pid % 1000) * 1000 + accountSeq++
  const account: SimAccount = {
    phoneNumberId: String(8_100_000_000 + n),
    displayPhoneNumber: `1650555${String(n % 10_000).padStart(4, '0')}`,
    accessToken: `EAAF${secret(12)}`,
    appSecret: secret(16),
    webhookUrl: `${(opts.webhookGateway ?? gw).url}/webhooks/meta/${opts.name}`,
  }
  await sim.addAccount(account)
  const created = await gw.api('POST', '/v1/accounts', {
    name: opts.name,
    provider: 'meta',
    phone_number: `+${account.displayPhoneNumber}`,
    rate_limit: opts.rateLimit,
    config: { phone_number_id: account.phoneNumberId, access_token: account.accessToken, app_secret: account.appSecret, base_url: sim.url },
  })
  if (created.status !== 201) throw new Error(`account ${opts.name} not created: ${created.status} ${created.text}`)
  return { ...account, name: opts.name, id: created.json.id as string }
}

/**
 * The i-th of many distinct US numbers (none ending in 0000, the simulator's "not on WhatsApp").
 *
 * @example
 * recipient(0) // '+14155550001'
 */
export function recipient(i: number): string {
  const areas = ['415', '650', '310', '212', '202', '305', '512', '617', '206', '303']
  const area = areas[i % areas.length] as string
  const line = 1 + (Math.floor(i / areas.length) % 9999)
  return `+1${area}555${String(line).padStart(4, '0')}`
}

/** Runs `task(0..count-1)` with at most `width` at a time. */
export async function pool<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) {
        const i = next++
        out[i] = await task(i)
      }
    }),
  )
  return out
}

/** POSTs `count` messages (each must get a 202) across the given gateways, round-robin; returns the ids. */
export async function sendMany(gws: GatewayProcess | GatewayProcess[], count: number, body: (i: number) => Record<string, unknown>, width = 32): Promise<string[]> {
  const list = Array.isArray(gws) ? gws : [gws]
  return pool(count, width, async (i) => {
    const gw = list[i % list.length] as GatewayProcess
    const res = await gw.api('POST', '/v1/messages', body(i))
    if (res.status !== 202) throw new Error(`message ${i} refused by ${gw.name}: ${res.status} ${res.text}\n${gw.name} warnings and errors:\n${logSummary(gw.tail())}`)
    return res.json.id as string
  })
}

/**
 * The warnings and errors of a pino log tail, one short line each (message, error and its cause),
 * for failure messages.
 */
export function logSummary(tail: string): string {
  const lines: string[] = []
  for (const line of tail.split('\n')) {
    let entry: { level?: number; msg?: string; err?: { message?: string; cause?: { message?: string } } }
    try {
      entry = JSON.parse(line) as typeof entry
    } catch {
      if (line.trim()) lines.push(line.slice(0, 300))
      continue
    }
    if ((entry.level ?? 0) < 40) continue
    lines.push(`${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}${entry.err?.cause?.message ? ` (cause: ${entry.err.cause.message})` : ''}`.slice(0, 400))
  }
  return lines.slice(-12).join('\n')
}

export interface MessageRow {
  id: string
  status: string
  attempts: number
  duplicate_risk: number
  provider_message_id: string | null
  error: unknown
}

/** Every outbound message of the tenant (all pages). */
export async function allOutbound(gw: GatewayProcess, query = ''): Promise<MessageRow[]> {
  const out: MessageRow[] = []
  let before: string | null | undefined
  for (;;) {
    const r = await gw.api('GET', `/v1/messages?direction=out&limit=500${query}${before ? `&before=${before}` : ''}`, undefined, { timeoutMs: 30_000 })
    if (r.status !== 200) throw new Error(`GET /v1/messages answered ${r.status}: ${r.text}`)
    out.push(...(r.json.data as MessageRow[]))
    before = r.json.next_before as string | null | undefined
    if (!before) return out
  }
}

/** Cheap progress probe: is there at least one outbound message in one of these statuses? */
export async function anyWithStatus(gw: GatewayProcess, statuses: string[]): Promise<boolean> {
  const answers = await Promise.all(statuses.map((s) => gw.api('GET', `/v1/messages?direction=out&status=${s}&limit=1`)))
  for (const a of answers) if (a.status !== 200) throw new Error(`GET /v1/messages answered ${a.status}: ${a.text}`)
  return answers.some((a) => (a.json.data as unknown[]).length > 0)
}

/** Status counts of a message list, e.g. `{ read: 998, failed: 2 }`. */
export function countBy<T>(rows: T[], key: (row: T) => string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of rows) out[key(r)] = (out[key(r)] ?? 0) + 1
  return out
}

/** Most items in any window of `windowMs` starting at an item (sliding window over sorted times). */
export function maxInWindow(times: number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b)
  let max = 0
  let j = 0
  for (let i = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] as number) < (sorted[i] as number) + windowMs) j++
    max = Math.max(max, j - i)
  }
  return max
}

/** How many clientRefs (wagate message ids) the simulator accepted more than once. */
export function duplicateRefs(records: SentRecordWire[]): number {
  const seen = new Set<string>()
  let dups = 0
  for (const r of records) {
    if (r.clientRef === undefined) continue
    if (seen.has(r.clientRef)) dups++
    else seen.add(r.clientRef)
  }
  return dups
}

/** Prints a figure the report quotes (vitest shows console output of passing tests too). */
export function report(test: string, figures: Record<string, unknown>): void {
  console.log(`[faults] ${test}: ${JSON.stringify(figures)}`)
}
