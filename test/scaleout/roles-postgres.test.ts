import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import { createLogger } from '../../src/logger.js'
import { metaSandbox } from '../../src/sandbox.js'
import { REDIS_URL, REQUIRED, redisDown } from '../conformance/redis-service.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { unreachable } from '../harness/net.js'

// Two instances on one PostgreSQL + Redis, in this process: an `api` gateway (with the sandbox's
// simulated Meta account) and a `worker` gateway whose idle poll is a minute long. The message the
// api instance accepts is sent by the worker within seconds — only the Redis notification can
// have woken it — and its statuses, posted by the simulator to the api instance, end it `read`.

const DATABASE_URL = process.env.WAGATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'


const missing = (await unreachable(DATABASE_URL, 5432)) ?? redisDown
if (missing && !REQUIRED) console.warn(`[scaleout] skipping the roles test on PostgreSQL + Redis: ${missing} (set WAGATE_TEST_REQUIRE_SERVICES to make this a failure)`)

describe.skipIf(Boolean(missing) && !REQUIRED)('roles on PostgreSQL + Redis: an api instance and a worker instance', () => {
  // A schema of this run only, so parallel test files never share an outbox.
  const schema = `wagate_roles_${randomBytes(5).toString('hex')}`
  const dbUrl = (() => {
    const u = new URL(DATABASE_URL)
    u.searchParams.set('schema', schema)
    return u.toString()
  })()
  const secretKey = randomBytes(32).toString('hex')
  let api: TestGateway
  let worker: Gateway

  beforeAll(async () => {
    if (missing) throw new Error(`WAGATE_TEST_REQUIRE_SERVICES is set but ${missing}`)
    const shared = { WAGATE_DATABASE_URL: dbUrl, WAGATE_REDIS_URL: REDIS_URL, WAGATE_SECRET_KEY: secretKey }
    api = await startTestGateway({ env: { ...shared, WAGATE_ROLE: 'api' }, sandboxes: (timings) => [metaSandbox(timings)] })
    const config = loadConfig({ ...shared, WAGATE_ROLE: 'worker', WAGATE_PORT: '0', WAGATE_API_KEY: api.apiKey, WAGATE_LOG_LEVEL: 'warn', WAGATE_DATA_DIR: ':memory:' })
    worker = await createGateway({ config, logger: createLogger({ level: 'warn' }), pollMs: 60_000 })
    await worker.listen()
    // Let the worker's first (empty) poll pass: from now on only a poke wakes it within the minute.
    await new Promise((resolve) => setTimeout(resolve, 500))
  }, 60_000)

  afterAll(async () => {
    await worker?.close()
    await api?.close()
    const client = new pg.Client({ connectionString: DATABASE_URL })
    await client.connect()
    await client.query(`drop schema if exists ${schema} cascade`)
    await client.end()
  })

  it('the api instance accepts, the worker instance sends at once (woken through Redis), and the message ends read', async () => {
    const res = await api.api('POST', '/v1/messages', { account: 'sandbox-meta', to: '+14155550123', type: 'text', text: 'across two instances' })
    expect(res.status).toBe(202)
    const id = res.json.id as string
    await api.waitFor(async () => (await api.api('GET', `/v1/messages/${id}`)).json.status !== 'queued', 10_000, 'the worker instance to send (a minute-long poll means it was notified)')
    await api.waitFor(async () => (await api.api('GET', `/v1/messages/${id}`)).json.status === 'read', 15_000, 'the message to be read')
    expect(worker.worker.stats().sent).toBe(1)
    expect(api.gw.worker.stats().sent).toBe(0)
  })

  it('the worker instance serves no API', async () => {
    const res = await fetch(`${worker.url}/v1/messages`, { headers: { authorization: `Bearer ${api.apiKey}` } })
    expect(res.status).toBe(404)
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(200)
  })
})
