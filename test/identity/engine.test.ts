import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parsePhone, parseRecipient } from '../../src/domain/phone.js'
import type { Account } from '../../src/engine/accounts.js'
import { ApiError } from '../../src/engine/api-error.js'
import { applyContactEvent, resolveContact } from '../../src/engine/contacts.js'
import type { Envelope } from '../../src/engine/events.js'
import { learnIdentity, sinkOf } from '../../src/engine/identity.js'
import { assertSendable, onSendFailure, recipientOf, wireRecipient, UNREACHABLE_TTL_MS } from '../../src/engine/reachability.js'
import { openStore, type Store } from '../../src/store/db.js'
import type { MessageTable } from '../../src/store/schema.js'

/** The identity engine against a real (in-memory) store, below the HTTP layer. */
const NOW = Date.UTC(2026, 10, 21, 12)

describe('recipient parsing (DESIGN §7)', () => {
  it('accepts the legacy Mexican "+52 1" and Brazilian eight-digit mobile forms as written', () => {
    expect(parsePhone('+52 1 55 1234 5678')).toEqual({ ok: true, e164: '+5215512345678' })
    expect(parsePhone('+55 35 8765-4321')).toEqual({ ok: true, e164: '+553587654321' })
    expect(parsePhone('+52 55 1234 5678')).toEqual({ ok: true, e164: '+525512345678' })
  })

  it('still refuses invalid numbers, naming the problem', () => {
    const landlineWithNine = parsePhone('+52 1 05 1234 5678')
    expect(landlineWithNine.ok).toBe(false)
    const short = parsePhone('+55 35 1234')
    expect(short).toMatchObject({ ok: false, reason: expect.stringMatching(/not a valid number/) })
    expect(parsePhone('35 98765-4321')).toMatchObject({ ok: false, reason: expect.stringMatching(/default_country/) })
  })

  it('uses the default country for a number without +', () => {
    expect(parsePhone('(35) 98765-4321', 'BR')).toEqual({ ok: true, e164: '+5535987654321' })
  })

  it('never reads a business-scoped user id as a phone number', () => {
    expect(parseRecipient('US.1234')).toEqual({ ok: true, kind: 'user_id', userId: 'US.1234' })
    expect(parseRecipient('wauser:US.ENT.5678')).toEqual({ ok: true, kind: 'user_id', userId: 'US.ENT.5678' })
    expect(parseRecipient('US.1234', 'US')).toMatchObject({ kind: 'user_id' })
  })
})

describe('wireRecipient: which address a tel: message goes to', () => {
  const row = (urn: string, until: number | null = null) => ({ urn, unreachable_until: until, unreachable_reason: until ? 'recipient_not_on_whatsapp' : null })

  it('prefers the wa_id WhatsApp revealed for that number', () => {
    expect(wireRecipient([row('tel:+5535987654321'), row('whatsapp:553587654321')], 'tel:+5535987654321', NOW)).toEqual({ phone: '+5535987654321', waId: '553587654321' })
    // A wa_id that only echoes the number loses to the revealed one.
    expect(wireRecipient([row('tel:+5535987654321'), row('whatsapp:5535987654321'), row('whatsapp:553587654321')], 'tel:+5535987654321', NOW)).toMatchObject({ waId: '553587654321' })
  })

  it('never sends one number of a contact to the wa_id of another of its numbers', () => {
    const urns = [row('tel:+14155550101'), row('whatsapp:14155550101'), row('tel:+14155550202'), row('whatsapp:14155550202')]
    expect(wireRecipient(urns, 'tel:+14155550202', NOW)).toEqual({ phone: '+14155550202', waId: '14155550202' })
    expect(wireRecipient([row('tel:+14155550101'), row('tel:+14155550202'), row('whatsapp:14155550101')], 'tel:+14155550202', NOW)).toEqual({ phone: '+14155550202' })
  })

  it('fails an unreachable URN until its expiry, then lets one send through', () => {
    const until = NOW + 1000
    expect(wireRecipient([row('tel:+14155510000', until)], 'tel:+14155510000', NOW)).toMatchObject({ code: 'recipient_not_on_whatsapp', retryable: false })
    expect(wireRecipient([row('tel:+14155510000', until)], 'tel:+14155510000', until)).toEqual({ phone: '+14155510000' })
  })

  it('sends user-id and wa_id URNs as they are', () => {
    expect(wireRecipient([row('wauser:US.1234'), row('tel:+14155550101')], 'wauser:US.1234', NOW)).toEqual({ userId: 'US.1234' })
    expect(wireRecipient([], 'whatsapp:553587654321', NOW)).toEqual({ waId: '553587654321' })
  })
})

describe('contacts in the store', () => {
  let store: Store
  let account: Account
  let other: Account
  const tenantId = 'tn_test'

  const accountRow = (id: string, name: string) => ({
    id,
    tenant_id: tenantId,
    name,
    provider: 'meta',
    channel: 'whatsapp',
    phone_number: '+14155552671',
    config_sealed: 'x',
    route_key: id,
    default_country: null,
    window_policy: 'send',
    rate_limit: 80,
    settings: '{}',
    created_at: NOW,
    updated_at: NOW,
  })

  beforeEach(async () => {
    store = await openStore({ dataDir: ':memory:' })
    await store.write(async (tx) => {
      await tx.insertInto('tenants').values({ id: tenantId, name: 'test', default_country: null, created_at: NOW }).execute()
      await tx.insertInto('accounts').values([accountRow('acc_1', 'acme-br'), accountRow('acc_2', 'acme-mx')]).execute()
    })
    account = { row: accountRow('acc_1', 'acme-br') } as unknown as Account
    other = { row: accountRow('acc_2', 'acme-mx') } as unknown as Account
  })
  afterEach(async () => store.close())

  const urnsOf = (contactId: string) => store.read.selectFrom('contact_urns').select('urn').where('contact_id', '=', contactId).orderBy('urn').execute().then((r) => r.map((u) => u.urn))

  it('an inbound wa_id joins the contact of an equivalent number and announces it once', async () => {
    const envelopes: Envelope[] = []
    const known = await store.write((tx) => resolveContact(tx, tenantId, { phone: '+5535987654321' }, NOW))
    const joined = await store.write((tx) => resolveContact(tx, tenantId, { phone: '+553587654321', waId: '553587654321', name: 'Ana' }, NOW + 1, { sink: sinkOf(account, envelopes), inbound: true }))
    expect(joined?.contactId).toBe(known?.contactId)
    expect(await urnsOf(known?.contactId ?? '')).toEqual(['tel:+5535987654321', 'whatsapp:553587654321'])
    expect(envelopes.map((e) => [e.type, e.data.phone, e.data.wa_id])).toEqual([['contact.wa_id_changed', '+5535987654321', '553587654321']])
    // The same wa_id again: nothing new, nothing announced.
    await store.write((tx) => resolveContact(tx, tenantId, { phone: '+553587654321', waId: '553587654321' }, NOW + 2, { sink: sinkOf(account, envelopes), inbound: true }))
    await store.write((tx) => learnIdentity(tx, account, known?.contactId ?? '', { waId: '553587654321', phone: '+5535987654321' }, NOW + 3, envelopes))
    expect(envelopes).toHaveLength(1)
  })

  it('a number the business writes joins the contact an inbound wa_id created, announced once', async () => {
    const envelopes: Envelope[] = []
    const sink = sinkOf(account, envelopes)
    const fromInbound = await store.write((tx) => resolveContact(tx, tenantId, { phone: '+525512345678', waId: '525512345678' }, NOW, { sink, inbound: true }))
    expect(envelopes).toHaveLength(0)
    const written = await store.write((tx) => resolveContact(tx, tenantId, { phone: '+5215512345678' }, NOW + 1, { sink }))
    expect(written?.contactId).toBe(fromInbound?.contactId)
    expect(envelopes.map((e) => e.data)).toEqual([expect.objectContaining({ phone: '+5215512345678', wa_id: '525512345678' })])
    // The provider then confirms the wa_id for that number: already known, not announced again.
    await store.write((tx) => learnIdentity(tx, account, written?.contactId ?? '', { waId: '525512345678', phone: '+5215512345678' }, NOW + 2, envelopes))
    expect(envelopes).toHaveLength(1)
  })

  it('does not join a Brazilian landline to the mobile that differs by the ninth digit', async () => {
    const landline = await store.write((tx) => resolveContact(tx, tenantId, { phone: '+553532345678' }, NOW))
    const mobile = await store.write((tx) => resolveContact(tx, tenantId, { phone: '+5535932345678', waId: '5535932345678' }, NOW + 1))
    expect(mobile?.contactId).not.toBe(landline?.contactId)
  })

  it('merges two contacts a provider names as one person; the older survives with the conversation state', async () => {
    const phone = await store.write((tx) => resolveContact(tx, tenantId, { phone: '+14155550188' }, NOW))
    const user = await store.write((tx) => resolveContact(tx, tenantId, { userId: 'US.888' }, NOW + 1))
    await store.write(async (tx) => {
      await tx.insertInto('conversations').values({ account_id: 'acc_1', contact_id: user?.contactId ?? '', last_inbound_at: NOW + 1, updated_at: NOW + 1, stopped_at: NOW + 1, stopped_reason: 'opted_out' }).execute()
      await tx.insertInto('conversations').values({ account_id: 'acc_1', contact_id: phone?.contactId ?? '', last_inbound_at: NOW - 5, updated_at: NOW }).execute()
    })
    const envelopes: Envelope[] = []
    const both = await store.write((tx) => resolveContact(tx, tenantId, { phone: '+14155550188', waId: '14155550188', userId: 'US.888' }, NOW + 2, { sink: sinkOf(account, envelopes) }))
    expect(both?.contactId).toBe(phone?.contactId)
    expect(await urnsOf(phone?.contactId ?? '')).toEqual(['tel:+14155550188', 'wauser:US.888', 'whatsapp:14155550188'])
    const gone = await store.read.selectFrom('contacts').selectAll().where('id', '=', user?.contactId ?? '').executeTakeFirstOrThrow()
    expect(gone).toMatchObject({ state: 'merged', merged_into: phone?.contactId })
    const conversations = await store.read.selectFrom('conversations').selectAll().execute()
    expect(conversations).toHaveLength(1)
    expect(conversations[0]).toMatchObject({ contact_id: phone?.contactId, last_inbound_at: NOW + 1, stopped_at: NOW + 1 })
    expect(envelopes.map((e) => e.type)).toEqual(['contact.merged'])
  })

  it('a failed send teaches: not on WhatsApp marks the URN (once), an opt-out stops the contact for that account (once)', async () => {
    const c = await store.write((tx) => resolveContact(tx, tenantId, { phone: '+14155510000' }, NOW))
    const message = { id: 'msg_1', tenant_id: tenantId, account_id: 'acc_1', contact_id: c?.contactId ?? null, urn: 'tel:+14155510000' } as MessageTable
    const envelopes: Envelope[] = []
    const notOnWa = { code: 'recipient_not_on_whatsapp' as const, retryable: false, provider_code: '131026' }
    await store.write((tx) => onSendFailure(tx, account, message, notOnWa, NOW, envelopes))
    await store.write((tx) => onSendFailure(tx, account, message, notOnWa, NOW + 1000, envelopes))
    expect(envelopes.map((e) => e.type)).toEqual(['contact.urn_unreachable'])
    expect(envelopes[0]?.data).toMatchObject({ urn: 'tel:+14155510000', reason: 'recipient_not_on_whatsapp (131026)', until: new Date(NOW + UNREACHABLE_TTL_MS).toISOString() })
    expect(await store.write((tx) => recipientOf(tx, message, NOW + UNREACHABLE_TTL_MS - 1))).toMatchObject({ code: 'recipient_not_on_whatsapp' })
    expect(await store.write((tx) => recipientOf(tx, message, NOW + UNREACHABLE_TTL_MS))).toEqual({ phone: '+14155510000' })

    const optedOut = { code: 'recipient_opted_out' as const, retryable: false, provider_code: '21610' }
    await store.write((tx) => onSendFailure(tx, account, message, optedOut, NOW, envelopes))
    await store.write((tx) => onSendFailure(tx, account, message, optedOut, NOW + 1, envelopes))
    expect(envelopes.map((e) => e.type)).toEqual(['contact.urn_unreachable', 'contact.opted_out'])
    expect(envelopes[1]?.topic).toBe('contact.acme-br.opted_out')
    await expect(store.write((tx) => assertSendable(tx, tenantId, 'acc_1', c?.contactId))).rejects.toMatchObject({ code: 'recipient_opted_out', status: 422 })
    // Stopped for one account only.
    await expect(store.write((tx) => assertSendable(tx, tenantId, 'acc_2', c?.contactId))).resolves.toBeUndefined()
  })

  it('opt-in clears the stop; a block is separate and wins while set', async () => {
    const c = await store.write((tx) => resolveContact(tx, tenantId, { phone: '+14155550199' }, NOW))
    const contactId = c?.contactId ?? ''
    const envelopes: Envelope[] = []
    const event = (type: 'opted_in' | 'opted_out') => ({ type, contact: { phone: '+14155550199' }, timestamp: NOW, raw: {} })
    await store.write((tx) => applyContactEvent(tx, other, event('opted_out'), NOW, envelopes))
    await store.write((tx) => tx.updateTable('contacts').set({ state: 'blocked' }).where('id', '=', contactId).execute())
    const err = await store.write((tx) => assertSendable(tx, tenantId, 'acc_2', contactId)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ code: 'contact_blocked' })
    await store.write((tx) => tx.updateTable('contacts').set({ state: 'active' }).where('id', '=', contactId).execute())
    await expect(store.write((tx) => assertSendable(tx, tenantId, 'acc_2', contactId))).rejects.toMatchObject({ code: 'recipient_opted_out' })
    await store.write((tx) => applyContactEvent(tx, other, event('opted_in'), NOW + 1, envelopes))
    await expect(store.write((tx) => assertSendable(tx, tenantId, 'acc_2', contactId))).resolves.toBeUndefined()
    expect(envelopes.map((e) => e.topic)).toEqual(['contact.acme-mx.opted_out', 'contact.acme-mx.opted_in'])
  })
})
