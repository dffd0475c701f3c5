import { afterEach, describe, expect, it } from 'vitest'
import { createSecretBox, keyFromSecret } from '../crypto.js'
import { createRegistry } from '../providers/registry.js'
import { openStore, type Store } from '../store/db.js'
import { createAccountService, type CreateAccountInput } from './accounts.js'
import { systemClock } from './clock.js'

/**
 * The account lookups that webhooks and the worker make on every request are served from memory:
 * a change made through this service shows at once; a change another process made to the shared
 * store shows once the cache's TTL has passed.
 */
const stores: Store[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
})

async function setup(cacheTtlMs = 60_000) {
  const store = await openStore({ dataDir: ':memory:' })
  stores.push(store)
  const box = createSecretBox(keyFromSecret('test-secret-key-for-accounts-cache-0123456789'))
  const deps = { store, registry: createRegistry(), box, clock: systemClock, publicUrl: () => 'http://gw.test', cacheTtlMs }
  // Two services over one store stand for two gateway processes sharing a database.
  const here = createAccountService(deps)
  const there = createAccountService(deps)
  const now = Date.now()
  await store.write((tx) => tx.insertInto('tenants').values({ id: 'ten_1', name: 'default', default_country: null, created_at: now }).execute())
  return { store, here, there }
}

const input = (name: string, appSecret: string, phoneNumberId = '1065550001'): CreateAccountInput => ({
  name,
  provider: 'meta',
  phone_number: '+16505550001',
  channel: 'whatsapp',
  window_policy: 'send',
  rate_limit: 80,
  config: { phone_number_id: phoneNumberId, access_token: 'EAAB-token', app_secret: appSecret, verify_token: 'vt' },
})

const appSecretOf = (a: { ctx: { config: unknown } } | undefined) => (a?.ctx.config as { app_secret?: string } | undefined)?.app_secret

describe('account lookups for webhooks and the worker', () => {
  it('serve the same resolved account again without the store', async () => {
    const { store, here } = await setup()
    await here.create('ten_1', input('acme', 'secret-1'))
    const [first] = await here.byProviderAndName('meta', 'acme')
    // Gone from the store behind the service's back: the cached routing still answers.
    await store.write((tx) => tx.deleteFrom('accounts').execute())
    const [again] = await here.byProviderAndName('meta', 'acme')
    expect(again).toBe(first)
    expect(await here.byRouteKey('meta', '1065550001')).toBeUndefined() // never looked up: read, not found
  })

  it('use a PATCHed secret at once in the process that made the change', async () => {
    const { here } = await setup()
    const created = await here.create('ten_1', input('acme', 'secret-1'))
    expect(appSecretOf((await here.byProviderAndName('meta', 'acme'))[0])).toBe('secret-1')
    expect(appSecretOf(await here.byRouteKey('meta', '1065550001'))).toBe('secret-1')
    expect(appSecretOf((await here.allOfProvider('meta'))[0])).toBe('secret-1')
    expect(appSecretOf(await here.byId(created.row.id))).toBe('secret-1')

    expect(appSecretOf(await here.resolve('ten_1', 'acme'))).toBe('secret-1')

    await here.update('ten_1', 'acme', { config: { app_secret: 'secret-2', phone_number_id: '1065550002' } })
    expect(appSecretOf(await here.resolve('ten_1', 'acme'))).toBe('secret-2')
    expect(appSecretOf(await here.resolve('ten_1', created.row.id))).toBe('secret-2')
    expect(appSecretOf((await here.byProviderAndName('meta', 'acme'))[0])).toBe('secret-2')
    expect(appSecretOf(await here.byRouteKey('meta', '1065550002'))).toBe('secret-2')
    expect(await here.byRouteKey('meta', '1065550001')).toBeUndefined()
    expect(appSecretOf((await here.allOfProvider('meta'))[0])).toBe('secret-2')
    expect(appSecretOf(await here.byId(created.row.id))).toBe('secret-2')
  })

  it('forget a deleted account at once, and find a new one at once', async () => {
    const { here } = await setup()
    expect(await here.byProviderAndName('meta', 'acme')).toEqual([])
    await here.create('ten_1', input('acme', 'secret-1'))
    expect(await here.byProviderAndName('meta', 'acme')).toHaveLength(1)
    await here.resolve('ten_1', 'acme')
    await here.remove('ten_1', 'acme')
    expect(await here.byProviderAndName('meta', 'acme')).toEqual([])
    expect(await here.allOfProvider('meta')).toEqual([])
    await expect(here.resolve('ten_1', 'acme')).rejects.toMatchObject({ code: 'unknown_account' })
    await expect(here.resolve('ten_2', 'acme')).rejects.toMatchObject({ code: 'unknown_account' })
  })

  it('see an unknown name created by another process on the next request (unknown names are not cached)', async () => {
    const { here, there } = await setup()
    expect(await here.byProviderAndName('meta', 'acme')).toEqual([])
    await there.create('ten_1', input('acme', 'secret-1'))
    expect(appSecretOf((await here.byProviderAndName('meta', 'acme'))[0])).toBe('secret-1')
  })

  it("see another process's change once the TTL has passed", async () => {
    const { here, there } = await setup(150)
    const created = await there.create('ten_1', input('acme', 'secret-1'))
    expect(appSecretOf((await here.byProviderAndName('meta', 'acme'))[0])).toBe('secret-1')
    expect(appSecretOf(await here.byId(created.row.id))).toBe('secret-1')
    await there.update('ten_1', 'acme', { config: { app_secret: 'secret-2' } })
    await new Promise((r) => setTimeout(r, 200))
    expect(appSecretOf((await here.byProviderAndName('meta', 'acme'))[0])).toBe('secret-2')
    expect(appSecretOf(await here.byId(created.row.id))).toBe('secret-2')
    await there.remove('ten_1', 'acme')
    await new Promise((r) => setTimeout(r, 200))
    expect(await here.byProviderAndName('meta', 'acme')).toEqual([])
    expect(await here.byId(created.row.id)).toBeUndefined()
  })
})
