import { randomBytes } from 'node:crypto'
import { request } from 'undici'
import { loadConfig, type Config } from '../../src/config.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import type { Clock } from '../../src/engine/clock.js'
import { createLogger } from '../../src/logger.js'
import { ALL_SANDBOXES, startSandbox, type RunningSandbox, type SandboxProvider } from '../../src/sandbox.js'
import type { StatusTimings } from '../../src/simulators/types.js'
import { createTestSchema, TEST_BACKEND } from './pg-schema.js'
import { KnownSecrets } from './secret-scan.js'

/**
 * Boots a real gateway (HTTP on a loopback port, SQLite in memory or in a directory, or a fresh
 * PostgreSQL schema with WAGATE_TEST_BACKEND=postgres) with the
 * in-process simulators, exactly as `npm start` does, for end-to-end tests.
 *
 * @example
 * const t = await startTestGateway()
 * const res = await t.api('POST', '/v1/messages', { account: 'sandbox-meta', to: '+14155550123', type: 'text', text: 'hi' })
 * await t.close()
 */
export interface TestGateway {
  gw: Gateway
  sandbox: RunningSandbox
  url: string
  apiKey: string
  /** Log lines written during the run (for secret scans). */
  logs: string[]
  /**
   * The secrets `close()` looks for in `logs` (API key, WAGATE_SECRET_KEY, every sandbox and API-created
   * account's credentials, whsec_ secrets returned to `api()`); tests add their own with `add(kind, value)`.
   */
  secrets: KnownSecrets
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; text: string; headers: Record<string, string | string[] | undefined> }>
  /** Polls until `check` returns a truthy value or the timeout passes. */
  waitFor<T>(check: () => Promise<T | undefined | false | null>, timeoutMs?: number, what?: string): Promise<T>
  close(): Promise<void>
}

export interface TestGatewayOptions {
  /** Which sandboxes to start (default: all four). */
  sandboxes?: (timings: Partial<StatusTimings>) => SandboxProvider[]
  timings?: Partial<StatusTimings>
  env?: Record<string, string>
  config?: Partial<Config>
  /** Time source of the gateway (worker, inbound, expiries), so tests can move time. */
  clock?: Clock
  /**
   * `false` gives the logger no secrets to mask, so the log scan at close() sees what the code itself
   * wrote rather than what masking left (test/security/logs.test.ts). Default true, as in production.
   */
  maskSecrets?: boolean
}

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const apiKey = `wg_test_${randomBytes(12).toString('hex')}`
  // WAGATE_TEST_BACKEND=postgres: a PostgreSQL schema of its own instead of SQLite (pg-schema.ts).
  const pgSchema = TEST_BACKEND === 'postgres' && !opts.env?.WAGATE_DATABASE_URL ? await createTestSchema({ dataDir: opts.env?.WAGATE_DATA_DIR }) : undefined
  const config = loadConfig(
    {
      WAGATE_PORT: '0',
      WAGATE_DATA_DIR: ':memory:',
      WAGATE_API_KEY: apiKey,
      WAGATE_SECRET_KEY: randomBytes(32).toString('hex'),
      WAGATE_LOG_LEVEL: 'warn',
      WAGATE_RETRY_BASE_MS: '20',
      WAGATE_RETRY_MAX_MS: '500',
      WAGATE_SEND_TIMEOUT_MS: '2000',
      // The receivers and simulators of the tests listen on loopback.
      WAGATE_ALLOW_PRIVATE_WEBHOOKS: 'true',
      ...(pgSchema ? { WAGATE_DATABASE_URL: pgSchema.url } : {}),
      ...opts.env,
    },
    opts.config,
  )
  const logs: string[] = []
  const secrets = new Set<string>()
  const logger = createLogger({ level: config.WAGATE_LOG_LEVEL, secrets: opts.maskSecrets === false ? new Set<string>() : secrets, destination: { write: (line: string) => void logs.push(line) } })
  const gw = await createGateway({ config, logger, secrets, pollMs: 20, ...(opts.clock ? { clock: opts.clock } : {}) })
  const url = await gw.listen()
  const timings = opts.timings ?? { sentMs: 5, deliveredMs: 15, readMs: 30 }
  const sandbox = await startSandbox(gw, (opts.sandboxes ?? ALL_SANDBOXES)(timings))
  // Issue 7: close() fails the suite if any of these reached the log.
  const known = new KnownSecrets()
  known.add('API key', apiKey)
  known.add('WAGATE_SECRET_KEY', config.WAGATE_SECRET_KEY)
  for (const account of sandbox.accounts) known.addAccount(account)

  const api: TestGateway['api'] = async (method, path, body, headers = {}) => {
    const res = await request(url + path, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    })
    const text = await res.body.text()
    let json: unknown
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      json = undefined
    }
    known.observe(method.toUpperCase(), path, typeof body === 'string' ? undefined : body, json)
    return { status: res.statusCode, json, text, headers: res.headers }
  }

  const waitFor: TestGateway['waitFor'] = async (check, timeoutMs = 10_000, what = 'condition') => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = await check()
      if (value) return value
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  return {
    gw,
    sandbox,
    url,
    apiKey,
    logs,
    secrets: known,
    api,
    waitFor,
    async close() {
      await sandbox.stop()
      await gw.close()
      await pgSchema?.drop()
      known.scan(logs)
    },
  }
}
