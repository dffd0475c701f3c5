import pino from 'pino'
import type { Account, AccountService } from '../../src/engine/accounts.js'
import { systemClock } from '../../src/engine/clock.js'
import { createMemoryLimiter, type RateLimiter } from '../../src/engine/limiter.js'
import { createOutboxWorker, type OutboxWorker } from '../../src/engine/outbox.js'
import type { AnyAdapter } from '../../src/providers/registry.js'
import type { OutboundMessage } from '../../src/providers/types.js'
import type { Store } from '../../src/store/db.js'
import type { AccountTable, MessageTable } from '../../src/store/schema.js'
import { sleep } from './store-backends.js'

/**
 * An account whose provider only records sends, the outbox worker around it, and queued messages:
 * enough to run the engine's queue and status paths against a bare store.
 *
 * @example
 * const account = fakeAccount('tn_a', 'acc_a', (m) => sends.push(m.id))
 * await store.write((tx) => tx.insertInto('accounts').values(account.row).execute())
 * const w = fakeWorker(store, account); w.start()
 */
export function accountRow(tenantId: string, id: string): AccountTable {
  return {
    id,
    tenant_id: tenantId,
    name: id.replace(/^acc_/, ''),
    provider: 'meta',
    channel: 'whatsapp',
    phone_number: '+14155550000',
    config_sealed: 'x',
    route_key: null,
    default_country: null,
    window_policy: 'off',
    rate_limit: 10_000,
    settings: '{}',
    created_at: 1,
    updated_at: 1,
  }
}

/** `onSend` runs for each provider call; the call takes a few ms, like a real one. */
export function fakeAccount(tenantId: string, id: string, onSend: (message: OutboundMessage) => void = () => undefined): Account {
  const row = accountRow(tenantId, id)
  const adapter = {
    id: 'meta',
    async send(_ctx: unknown, message: OutboundMessage) {
      onSend(message)
      await sleep(2)
      return { providerMessageId: `wamid.${message.id}` }
    },
  } as unknown as AnyAdapter
  return {
    row,
    adapter,
    ctx: { id, name: row.name, provider: 'meta', channel: 'whatsapp', phoneNumber: row.phone_number, config: {}, webhookUrl: 'http://127.0.0.1:9/' },
    settings: { sandbox: false, split_long_text: true, allow_private_media: false, commands: false, stash_ttl_minutes: 60 },
    rawConfig: {},
  } as unknown as Account
}

export function fakeWorker(store: Store, account: Account | Account[], leaseMs = 5_000, limiter: RateLimiter = createMemoryLimiter()): OutboxWorker {
  const known = Array.isArray(account) ? account : [account]
  const accounts = { byId: async (id: string) => known.find((a) => a.row.id === id) } as unknown as AccountService
  return createOutboxWorker({
    store,
    accounts,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    limiter,
    concurrency: 16,
    leaseMs,
    sendTimeoutMs: 2_000,
    maxAttempts: 3,
    backoff: { baseMs: 10, maxMs: 100 },
    pollMs: 10,
  })
}

/** Queues `n` text messages, one recipient each (the worker runs recipients concurrently). */
export async function queueMessages(store: Store, account: Account, prefix: string, n: number, lease?: { owner: string; until: number }, recipients = 9000): Promise<string[]> {
  const now = Date.now()
  const ids = Array.from({ length: n }, (_, i) => `msg_${prefix}_${String(i).padStart(4, '0')}`)
  await store.write(async (tx) => {
    for (const [i, id] of ids.entries()) {
      const row = {
        id,
        tenant_id: account.row.tenant_id,
        account_id: account.row.id,
        contact_id: null,
        direction: 'out',
        type: 'text',
        content: JSON.stringify({ type: 'text', text: `hi ${i}` }),
        urn: `tel:+1415555${String(1000 + (i % recipients)).padStart(4, '0')}`,
        status: 'queued',
        provider_message_id: null,
        error: null,
        attempts: 0,
        duplicate_risk: 0,
        reply_to: null,
        reply_ref: null,
        topic: null,
        metadata: null,
        created_at: now,
        updated_at: now,
      } as MessageTable
      await tx.insertInto('messages').values(row).execute()
      await tx.insertInto('outbox').values({ message_id: id, account_id: account.row.id, run_at: now, attempts: 0, lease_owner: lease?.owner ?? null, lease_until: lease?.until ?? null, created_at: now, recipient: row.urn }).execute()
    }
  })
  return ids
}

export const outboxLeft = async (store: Store, ids: string[]) => (await store.read.selectFrom('outbox').select('message_id').where('message_id', 'in', ids).execute()).length

export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}
