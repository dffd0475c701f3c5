import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../store/db.js'
import type { MessageTable } from '../store/schema.js'
import { sweepStashes } from './stash-sweeper.js'

/** The sweeper's steps against a real (in-memory) store, rows written directly. */
const NOW = Date.UTC(2026, 10, 21, 12)
const H = 3600_000

let store: Store
let seq = 0

beforeEach(async () => {
  store = await openStore({ dataDir: ':memory:' })
  await store.write(async (tx) => {
    await tx.insertInto('tenants').values({ id: 'tn_1', name: 'default', default_country: null, created_at: NOW }).execute()
    await tx
      .insertInto('accounts')
      .values({ id: 'acc_1', tenant_id: 'tn_1', name: 'acme', provider: 'meta', channel: 'whatsapp', phone_number: '+14155552671', config_sealed: 'x', route_key: null, default_country: null, window_policy: 'stash', rate_limit: 80, settings: '{}', created_at: NOW, updated_at: NOW })
      .execute()
    for (const id of ['ct_1', 'ct_2']) await tx.insertInto('contacts').values({ id, tenant_id: 'tn_1', name: null, state: 'active', created_at: NOW, updated_at: NOW }).execute()
  })
})
afterEach(async () => store.close())

const message = (id: string, contact: string, status: string, extra: Partial<MessageTable> = {}): MessageTable => ({
  id,
  tenant_id: 'tn_1',
  account_id: 'acc_1',
  contact_id: contact,
  direction: 'out',
  type: 'text',
  content: JSON.stringify({ type: 'text', text: id }),
  urn: `tel:+1415555000${contact.slice(-1)}`,
  status,
  provider_message_id: null,
  error: null,
  attempts: 0,
  duplicate_risk: 0,
  reply_to: null,
  reply_ref: null,
  topic: null,
  metadata: null,
  created_at: NOW,
  updated_at: NOW,
  ...extra,
})

/** A stashed message with its stash row, and the pair's episode (with a queued request) if missing. */
async function stash(contact: string, stashedAt: number, ttl: number): Promise<string> {
  const id = `msg_${String(++seq).padStart(4, '0')}`
  await store.write(async (tx) => {
    await tx.insertInto('messages').values(message(id, contact, 'stashed')).execute()
    await tx.insertInto('message_history').values({ message_id: id, status: 'stashed', provider_status: 'window_closed', at: stashedAt, error: null }).execute()
    await tx.insertInto('stashed_messages').values({ message_id: id, tenant_id: 'tn_1', account_id: 'acc_1', contact_id: contact, stashed_at: stashedAt, expires_at: stashedAt + ttl }).execute()
    const episode = await tx.selectFrom('stash_episodes').select('request_message_id').where('contact_id', '=', contact).executeTakeFirst()
    if (!episode) {
      const req = `msg_req_${contact}`
      await tx.insertInto('messages').values(message(req, contact, 'queued', { type: 'template' })).execute()
      await tx.insertInto('stash_episodes').values({ account_id: 'acc_1', contact_id: contact, tenant_id: 'tn_1', request_message_id: req, started_at: stashedAt }).execute()
    }
  })
  return id
}

const statusOf = async (id: string) => (await store.read.selectFrom('messages').select(['status', 'error']).where('id', '=', id).executeTakeFirstOrThrow())
const sweep = (now: number) => store.write((tx) => sweepStashes(tx, now))

describe('sweepStashes', () => {
  it('expires only what is past its TTL, with an event per message, and ends the empty episode', async () => {
    const old = await stash('ct_1', NOW - 2 * H, H)
    const fresh = await stash('ct_2', NOW, H)
    const result = await sweep(NOW)
    expect(result).toMatchObject({ expired: 1, failed: 0, released: 0 })
    expect(result.envelopes.map((e) => e.topic)).toEqual(['message.acme.failed'])
    expect(await statusOf(old)).toMatchObject({ status: 'failed', error: expect.stringContaining('stash_expired') })
    expect((await statusOf(fresh)).status).toBe('stashed')
    const episodes = await store.read.selectFrom('stash_episodes').select('contact_id').execute()
    expect(episodes.map((e) => e.contact_id)).toEqual(['ct_2'])
    expect(await store.read.selectFrom('outbox').selectAll().execute()).toEqual([])
    // Idempotent: a second sweep (another process) finds nothing to do.
    expect(await sweep(NOW)).toMatchObject({ expired: 0, failed: 0, released: 0, envelopes: [] })
  })

  it('fails the stash when its interaction request failed, with that request’s error', async () => {
    const id = await stash('ct_1', NOW, 24 * H)
    await store.write((tx) =>
      tx.updateTable('messages').set({ status: 'failed', error: JSON.stringify({ code: 'recipient_not_on_whatsapp', retryable: false, provider_code: '131026' }) }).where('id', '=', 'msg_req_ct_1').execute(),
    )
    const result = await sweep(NOW)
    expect(result.failed).toBe(1)
    const row = await statusOf(id)
    expect(row.status).toBe('failed')
    expect(JSON.parse(row.error ?? '{}')).toMatchObject({ code: 'recipient_not_on_whatsapp', provider_code: '131026', provider_message: expect.stringContaining('msg_req_ct_1') })
    expect(await store.read.selectFrom('stash_episodes').selectAll().execute()).toEqual([])
  })

  it('releases, in order, what an inbound message should have released (the contact wrote after the stash)', async () => {
    const a = await stash('ct_1', NOW - 10_000, 24 * H)
    const b = await stash('ct_1', NOW - 5_000, 24 * H)
    const other = await stash('ct_2', NOW - 5_000, 24 * H)
    await store.write(async (tx) => {
      await tx.insertInto('conversations').values({ account_id: 'acc_1', contact_id: 'ct_1', last_inbound_at: NOW - 1_000, updated_at: NOW }).execute()
      // ct_2 wrote before its message was stashed: that is the closed window, nothing to release.
      await tx.insertInto('conversations').values({ account_id: 'acc_1', contact_id: 'ct_2', last_inbound_at: NOW - 30 * H, updated_at: NOW }).execute()
    })
    const result = await sweep(NOW)
    expect(result.released).toBe(2)
    expect(result.envelopes.map((e) => [e.topic, (e.data.message as { id: string }).id])).toEqual([
      ['message.acme.queued', a],
      ['message.acme.queued', b],
    ])
    expect((await store.read.selectFrom('outbox').select(['message_id', 'run_at']).orderBy('message_id').execute())).toEqual([
      { message_id: a, run_at: NOW },
      { message_id: b, run_at: NOW },
    ])
    expect((await statusOf(other)).status).toBe('stashed')
    const history = await store.read.selectFrom('message_history').select(['status', 'provider_status']).where('message_id', '=', a).orderBy('id').execute()
    expect(history.at(-1)).toEqual({ status: 'queued', provider_status: 'released: window open' })
  })

  it('drops an episode left without stashed messages', async () => {
    await store.write((tx) => tx.insertInto('stash_episodes').values({ account_id: 'acc_1', contact_id: 'ct_1', tenant_id: 'tn_1', request_message_id: 'msg_x', started_at: NOW }).execute())
    await sweep(NOW)
    expect(await store.read.selectFrom('stash_episodes').selectAll().execute()).toEqual([])
  })
})
