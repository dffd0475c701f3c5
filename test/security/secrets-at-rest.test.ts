import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSecretBox, keyFromSecret } from '../../src/crypto.js'
import { systemClock } from '../../src/engine/clock.js'
import { createTenant } from '../../src/engine/tenants.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { TEST_BACKEND } from '../harness/pg-schema.js'
import { allRows } from '../fuzz/api-support.js'

/**
 * Issue 7, security: API keys are stored as hashes only; provider credentials are sealed with
 * WAGATE_SECRET_KEY (nowhere in the store in clear — not in any table, not in the SQLite files on
 * disk) and never come back from any account route, even in an error; subscription secrets are
 * sealed too.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'wagate-sec-'))
let t: TestGateway
let tenantBKey = ''
let whsec = ''
/** Every credential given to the gateway in this file, by what it is. */
const credentials = new Map<string, string>()

const fresh = (label: string) => {
  const value = `${label}-${randomBytes(12).toString('hex')}`
  return value
}

const CONFIGS: Record<string, { provider: string; phone: string; config: Record<string, string> }> = {
  'sec-meta': { provider: 'meta', phone: '+14155552201', config: { phone_number_id: '300000000000001', access_token: fresh('EAAmeta'), app_secret: fresh('appsecret'), verify_token: fresh('verify') } },
  'sec-twilio': { provider: 'twilio', phone: '+14155552202', config: { account_sid: `AC${'ef'.repeat(16)}`, auth_token: fresh('authtoken'), api_key_sid: `SK${'12'.repeat(16)}`, api_key_secret: fresh('apikeysecret') } },
  'sec-sinch': { provider: 'sinch', phone: '+14155552203', config: { project_id: 'proj-sec', app_id: 'app-sec', key_id: 'key-sec', key_secret: fresh('keysecret'), webhook_secret: fresh('whsecret'), webhook_token: fresh('whtoken'), region: 'eu' } },
  'sec-gupshup': { provider: 'gupshup', phone: '+14155552204', config: { api_key: fresh('gsapikey'), app_name: 'SecApp' } },
}
const SECRET_FIELDS = ['access_token', 'app_secret', 'verify_token', 'auth_token', 'api_key_secret', 'key_secret', 'webhook_secret', 'webhook_token', 'api_key']

beforeAll(async () => {
  t = await startTestGateway({ env: { WAGATE_DATA_DIR: dataDir } })
  for (const [name, c] of Object.entries(CONFIGS)) {
    const res = await t.api('POST', '/v1/accounts', { name, provider: c.provider, phone_number: c.phone, config: c.config })
    expect(res.status, res.text).toBe(201)
    for (const field of SECRET_FIELDS) if (c.config[field]) credentials.set(`${name} ${field}`, c.config[field] as string)
  }
  for (const account of t.sandbox.accounts) {
    for (const field of SECRET_FIELDS) if (typeof account.rawConfig[field] === 'string') credentials.set(`${account.row.name} ${field}`, account.rawConfig[field] as string)
  }
  tenantBKey = (await createTenant(t.gw.store, systemClock, 'tenant-sec')).apiKey
  t.secrets.add('tenant B API key', tenantBKey)
  whsec = (await t.api('POST', '/v1/subscriptions', { url: 'http://127.0.0.1:9/hook', topics: ['message.>'] })).json.secret
  expect(whsec).toMatch(/^whsec_/)
})

afterAll(async () => {
  await t?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/** Every row of every table, as text. */
async function wholeStore(): Promise<string> {
  const parts: string[] = []
  for (const rows of (await allRows(t)).values()) parts.push(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)))
  return parts.join('\n')
}

describe('secrets at rest and in answers (issue 7)', () => {
  it('API keys are stored as SHA-256 hashes: no table holds a key in clear', async () => {
    const rows = await t.gw.store.read.selectFrom('api_keys').selectAll().execute()
    expect(rows.length).toBeGreaterThanOrEqual(2)
    const hashes = rows.map((r) => r.key_hash)
    for (const key of [t.apiKey, tenantBKey]) {
      expect(hashes).toContain(createHash('sha256').update(key).digest('hex'))
      for (const row of rows) for (const value of Object.values(row)) expect(String(value)).not.toContain(key)
    }
    // The stored prefix only helps a person tell keys apart: far too short to be the key.
    for (const row of rows) expect(row.prefix.length).toBeLessThanOrEqual(8)
    const all = await wholeStore()
    expect(all.includes(t.apiKey)).toBe(false)
    expect(all.includes(tenantBKey)).toBe(false)
  })

  it('provider credentials, WAGATE_SECRET_KEY and whsec_ secrets are nowhere in the store in clear', async () => {
    expect(credentials.size).toBeGreaterThan(12)
    const all = await wholeStore()
    for (const [what, value] of credentials) expect(all.includes(value), `${what} is stored in clear`).toBe(false)
    expect(all.includes(String(t.gw.config.WAGATE_SECRET_KEY)), 'WAGATE_SECRET_KEY is in the store').toBe(false)
    expect(all.includes(whsec), 'the whsec_ secret is in the store').toBe(false)
    expect(all.includes(whsec.slice('whsec_'.length)), 'the whsec_ key bytes are in the store').toBe(false)
  })

  it('accounts.config_sealed is AES-GCM under WAGATE_SECRET_KEY: it opens with that key and no other', async () => {
    const rows = await t.gw.store.read.selectFrom('accounts').select(['name', 'config_sealed']).execute()
    const box = createSecretBox(keyFromSecret(String(t.gw.config.WAGATE_SECRET_KEY)))
    const other = createSecretBox(randomBytes(32))
    for (const row of rows) {
      expect(row.config_sealed).toMatch(/^v1\./)
      const opened = JSON.parse(box.open(row.config_sealed)) as Record<string, unknown>
      const given = CONFIGS[row.name]
      if (given) for (const field of SECRET_FIELDS) if (given.config[field]) expect(opened[field]).toBe(given.config[field])
      expect(() => other.open(row.config_sealed)).toThrow()
    }
  })

  it('the SQLite files on disk contain no credential and no key', async () => {
    // The PostgreSQL backend keeps its data elsewhere; the row scan above covers it.
    if (TEST_BACKEND === 'postgres') return
    const files = readdirSync(dataDir).filter((f) => f.startsWith('wagate.db'))
    expect(files).toContain('wagate.db')
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dataDir, f))))
    expect(bytes.length).toBeGreaterThan(4096)
    for (const [what, value] of [...credentials, ['API key', t.apiKey] as const, ['whsec_ secret', whsec] as const]) {
      expect(bytes.includes(Buffer.from(value, 'utf8')), `${what} is in the database files`).toBe(false)
    }
    // The key itself came from WAGATE_SECRET_KEY, so no key file was written beside the database.
    expect(existsSync(join(dataDir, 'secret.key'))).toBe(false)
  })

  it('no account route returns a credential: create, get, list, patch (even of a secret), and errors', async () => {
    const answers: string[] = []
    for (const name of [...Object.keys(CONFIGS), ...t.sandbox.accounts.map((a) => a.row.name)]) answers.push((await t.api('GET', `/v1/accounts/${name}`)).text)
    answers.push((await t.api('GET', '/v1/accounts')).text)
    const newToken = fresh('rotated')
    credentials.set('sec-twilio auth_token (rotated)', newToken)
    const patched = await t.api('PATCH', '/v1/accounts/sec-twilio', { config: { auth_token: newToken }, rate_limit: 10 })
    expect(patched.status, patched.text).toBe(200)
    answers.push(patched.text)
    const newMetaSecret = fresh('appsecret2')
    credentials.set('sec-meta app_secret (rotated)', newMetaSecret)
    answers.push((await t.api('PATCH', '/v1/accounts/sec-meta', { config: { app_secret: newMetaSecret } })).text)
    // Refusals must not echo what they refused.
    const badSecret = fresh('badconfigsecret')
    credentials.set('refused config access_token', badSecret)
    const bad = await t.api('POST', '/v1/accounts', { name: 'sec-bad', provider: 'meta', phone_number: '+14155552205', config: { phone_number_id: 'not a valid id!', access_token: badSecret, app_secret: badSecret } })
    expect(bad.status).toBe(422)
    answers.push(bad.text)
    const late = { key_secret: fresh('latekeysecret'), webhook_secret: fresh('latewh') }
    credentials.set('sec-late key_secret', late.key_secret)
    credentials.set('sec-late webhook_secret', late.webhook_secret)
    const created = await t.api('POST', '/v1/accounts', { name: 'sec-late', provider: 'sinch', phone_number: '+14155552206', config: { project_id: 'p', app_id: 'a', key_id: 'k', ...late } })
    expect(created.status, created.text).toBe(201)
    answers.push(created.text)

    const gupshupUrls = new Set<string>()
    for (const text of answers) {
      const json = JSON.parse(text) as { webhook_url?: string; data?: Array<{ webhook_url?: string }> }
      for (const a of json.data ?? [json]) if (a.webhook_url?.includes('/webhooks/gupshup/')) gupshupUrls.add(a.webhook_url)
      // Gupshup signs nothing: its webhook token is the last segment of the webhook_url the user
      // gives Gupshup (DESIGN §5). That URL is the one place it may appear.
      const withoutUrls = text.replace(/"webhook_url":"[^"]*"/g, '')
      for (const [what, value] of credentials) expect((what.includes('gupshup') && what.endsWith('webhook_token') ? withoutUrls : text).includes(value), `${what} is in an account answer`).toBe(false)
    }
    expect(gupshupUrls.size).toBeGreaterThan(0)
    // No config in an answer carries a credential field at all.
    for (const text of answers) {
      const json = JSON.parse(text) as { config?: Record<string, unknown>; data?: Array<{ config?: Record<string, unknown> }> }
      for (const a of json.data ?? [json]) for (const field of SECRET_FIELDS) expect(a.config?.[field], `config.${field} returned`).toBeUndefined()
    }
  })
})
