import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { request, type Dispatcher } from 'undici'

/**
 * Small helpers of the fault tests: settings from the environment, bounded HTTP calls, polling,
 * and the arithmetic of the checks (sliding-window counts, tallies). No child processes here.
 *
 * @example
 * const res = await http('GET', `${url}/healthz`, { timeoutMs: 2_000 })
 * await waitFor(async () => (await sim.stats()).sent >= 10, 30_000, 'ten sends')
 * maxInWindow([0, 10, 990, 1000], 1000) // 3
 */
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
  let res: Dispatcher.ResponseData
  let text: string
  try {
    res = await request(url, {
      method: method as 'POST',
      headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    })
    text = await res.body.text()
  } catch (err) {
    // Name the call: undici's timeout errors say nothing of which request it was.
    throw new Error(`${method} ${url.replace(/\?.*/, '')}: ${Date.now() - started >= timeoutMs ? `no answer within ${timeoutMs} ms` : String(err)}`, { cause: err })
  }
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.statusCode, json, text, headers: res.headers, ms: Date.now() - started }
}

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

export function report(test: string, figures: Record<string, unknown>): void {
  console.log(`[faults] ${test}: ${JSON.stringify(figures)}`)
}

export { freePort, unreachable } from '../harness/net.js'
