import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/engine/clock.js'
import { resolveContact } from '../../src/engine/contacts.js'
import { createInboundPipeline } from '../../src/engine/inbound.js'
import { applyStatus } from '../../src/engine/status-apply.js'
import type { MessageStatus } from '../../src/domain/status.js'
import type { StatusUpdate } from '../../src/providers/types.js'
import type { Store } from '../../src/store/db.js'
import { fakeAccount, fakeWorker, outboxLeft, queueMessages, until } from './fake-account.js'
import { openBackend, seedTenant, sleep, STORE_BACKENDS, type Backend } from './store-backends.js'

/**
 * The engine's read-then-write decisions, raced from two Store instances (two processes): contact
 * resolution creates one contact per person, statuses only move forward, and a status that
 * arrives while the worker records the send is either applied or parked where the worker finds it.
 */
const TENANT = 'tn_races'
const ACCOUNT = 'acc_races'

const statusOf = (providerMessageId: string, status: 'sent' | 'delivered' | 'read'): StatusUpdate => ({
  providerMessageId,
  status,
  providerStatus: status,
  timestamp: Date.now(),
  recipient: {},
  raw: {},
})

describe.each(STORE_BACKENDS)('engine races conformance: $name', ({ name, skip }) => {
  describe.skipIf(skip)(name, () => {
    let b: Backend
    let other: Store
    const account = fakeAccount(TENANT, ACCOUNT)
    beforeAll(async () => {
      b = await openBackend(name)
      other = await b.open()
      await seedTenant(b.store, TENANT)
      await b.store.write((tx) => tx.insertInto('accounts').values(account.row).execute())
    })
    afterAll(async () => {
      await b?.close()
    })

    it('resolving one new person concurrently from two instances creates one contact, with nothing merged', async () => {
      for (let round = 0; round < 5; round++) {
        const phone = `+1415555${String(2000 + round)}`
        const ids = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            (i % 2 ? other : b.store).write(async (tx) => {
              const resolved = await resolveContact(tx, TENANT, { phone }, Date.now())
              return resolved?.contactId
            }),
          ),
        )
        expect(new Set(ids).size).toBe(1)
        const holders = await b.store.read.selectFrom('contact_urns').select('contact_id').where('urn', '=', `tel:${phone}`).execute()
        expect(holders.map((h) => h.contact_id)).toEqual([ids[0]])
      }
      const merged = await b.store.read.selectFrom('contacts').select('id').where('tenant_id', '=', TENANT).where('state', '=', 'merged').execute()
      expect(merged).toEqual([])
    })

    it('statuses applied concurrently in any order end at the furthest one, each announced once', async () => {
      const ids = await queueMessages(b.store, account, 'status', 10)
      await b.store.write((tx) => tx.deleteFrom('outbox').where('message_id', 'in', ids).execute())
      const order: MessageStatus[] = ['sending', 'sent', 'delivered', 'read']
      await Promise.all(
        ids.flatMap((id) =>
          [...order].sort(() => Math.random() - 0.5).map((status, i) =>
            (i % 2 ? other : b.store).write(async (tx) => {
              const message = await tx.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
              await sleep(Math.random() * 3) // decide on what was read, a moment later
              return applyStatus(tx, { message, accountName: account.row.name, status, providerStatus: status, at: Date.now() }, Date.now())
            }),
          ),
        ),
      )
      const rows = await b.store.read.selectFrom('messages').select(['id', 'status']).where('id', 'in', ids).execute()
      expect(rows.map((r) => r.status)).toEqual(ids.map(() => 'read'))
      const events = await b.store.read.selectFrom('events').select(['topic', 'data']).where('type', '=', 'message.status').where('topic', 'like', `message.${account.row.name}.%`).execute()
      for (const id of ids) {
        const mine = events.filter((e) => e.data.includes(id)).map((e) => e.topic.split('.').at(-1))
        // Forward moves only: each status at most once, and read always.
        expect(new Set(mine).size).toBe(mine.length)
        expect(mine).toContain('read')
      }
    })

    it('a status posted while the worker records the send is applied, never stranded in parked_statuses', async () => {
      const inbound = createInboundPipeline({ store: other, clock: systemClock })
      const posted: Array<Promise<unknown>> = []
      // The provider's webhook is posted the moment the send call returns, racing the worker's write.
      const racing = fakeAccount(TENANT, ACCOUNT, (m) => {
        posted.push(sleep(1 + Math.random() * 2).then(() => inbound.ingest(account, [{ kind: 'status', status: statusOf(`wamid.${m.id}`, 'delivered') }])))
      })
      const w = fakeWorker(b.store, racing)
      const ids = await queueMessages(b.store, account, 'parked', 60)
      w.start()
      try {
        await until(async () => (await outboxLeft(b.store, ids)) === 0, 30_000, 'the sends to be recorded')
        await Promise.all(posted)
      } finally {
        await w.stop()
      }
      const rows = await b.store.read.selectFrom('messages').select(['id', 'status']).where('id', 'in', ids).execute()
      expect(rows.filter((r) => r.status !== 'delivered')).toEqual([])
      const stranded = await b.store.read.selectFrom('parked_statuses').select('provider_message_id').where('account_id', '=', ACCOUNT).execute()
      expect(stranded).toEqual([])
    })
  })
})
