import { createSecretBox } from '../../crypto.js'
import { openStore, type Store } from '../../store/db.js'
import type { SubscriptionTable } from '../../store/schema.js'
import { appendEvent } from '../events.js'

/** An in-memory store with tenants, for the unit tests of this folder. */
export async function memoryStore(tenants = ['tn_a', 'tn_b']): Promise<Store> {
  const store = await openStore({ dataDir: ':memory:' })
  await store.write(async (tx) => {
    for (const id of tenants) await tx.insertInto('tenants').values({ id, name: id, default_country: null, created_at: 0 }).execute()
  })
  return store
}

export const testBox = () => createSecretBox(Buffer.alloc(32, 7))

export async function addSubscription(store: Store, values: Partial<SubscriptionTable> & { id: string; tenant_id: string; topics: string }): Promise<SubscriptionTable> {
  const row: SubscriptionTable = {
    kind: 'webhook',
    url: 'http://127.0.0.1:9/',
    target: null,
    secret_sealed: testBox().seal('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'),
    description: null,
    state: 'active',
    disabled_reason: null,
    disabled_at: null,
    max_in_flight: 4,
    timeout_ms: 1_000,
    cursor_seq: 0,
    last_success_at: null,
    created_at: 0,
    updated_at: 0,
    ...values,
  }
  await store.write((tx) => tx.insertInto('subscriptions').values(row).execute())
  return row
}

export async function addEvent(store: Store, tenantId: string, topic: string) {
  return store.write((tx) => appendEvent(tx, { tenantId, type: 'test.event', topic, account: null, data: { topic } }, 1_000))
}
