import { hashApiKey, newApiKey } from '../crypto.js'
import { newId } from '../domain/ids.js'
import type { Store } from '../store/db.js'
import type { Clock } from './clock.js'

/**
 * Tenants and their API keys (stored as hashes only). The embedded default has one tenant,
 * `default`; its key comes from WAGATE_API_KEY or is generated once and shown once.
 *
 * @example
 * const { tenantId, generatedKey } = await ensureDefaultTenant(store, clock, process.env.WAGATE_API_KEY)
 */
export interface Tenant {
  id: string
  name: string
  defaultCountry: string | undefined
}

export async function ensureDefaultTenant(store: Store, clock: Clock, configuredKey?: string): Promise<{ tenantId: string; generatedKey?: string }> {
  return store.write(async (tx) => {
    const now = clock.now()
    let tenant = await tx.selectFrom('tenants').select('id').where('name', '=', 'default').executeTakeFirst()
    if (!tenant) {
      tenant = { id: 'tn_default' }
      await tx.insertInto('tenants').values({ id: tenant.id, name: 'default', default_country: null, created_at: now }).execute()
    }
    if (configuredKey) {
      await tx
        .insertInto('api_keys')
        .values({ id: newId('key', now), tenant_id: tenant.id, key_hash: hashApiKey(configuredKey), prefix: configuredKey.slice(0, 6), created_at: now })
        .onConflict((oc) => oc.column('key_hash').doNothing())
        .execute()
      return { tenantId: tenant.id }
    }
    const any = await tx.selectFrom('api_keys').select('id').where('tenant_id', '=', tenant.id).executeTakeFirst()
    if (any) return { tenantId: tenant.id }
    const key = newApiKey()
    await tx.insertInto('api_keys').values({ id: newId('key', now), tenant_id: tenant.id, key_hash: hashApiKey(key), prefix: key.slice(0, 6), created_at: now }).execute()
    return { tenantId: tenant.id, generatedKey: key }
  })
}

/** Creates another tenant with its own key (used by tests and multi-tenant setups). */
export async function createTenant(store: Store, clock: Clock, name: string): Promise<{ tenantId: string; apiKey: string }> {
  const key = newApiKey()
  const now = clock.now()
  const tenantId = newId('tn', now)
  await store.write(async (tx) => {
    await tx.insertInto('tenants').values({ id: tenantId, name, default_country: null, created_at: now }).execute()
    await tx.insertInto('api_keys').values({ id: newId('key', now), tenant_id: tenantId, key_hash: hashApiKey(key), prefix: key.slice(0, 6), created_at: now }).execute()
  })
  return { tenantId, apiKey: key }
}

export function createAuthenticator(store: Store) {
  const cache = new Map<string, { tenant: Tenant; at: number }>()
  return async (key: string): Promise<Tenant | undefined> => {
    const hash = hashApiKey(key)
    const hit = cache.get(hash)
    if (hit && Date.now() - hit.at < 30_000) return hit.tenant
    const row = await store.read
      .selectFrom('api_keys')
      .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
      .select(['tenants.id', 'tenants.name', 'tenants.default_country'])
      .where('api_keys.key_hash', '=', hash)
      .executeTakeFirst()
    if (!row) return undefined
    const tenant = { id: row.id, name: row.name, defaultCountry: row.default_country ?? undefined }
    cache.set(hash, { tenant, at: Date.now() })
    return tenant
  }
}
