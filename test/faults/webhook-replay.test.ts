import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  allOutbound,
  createMetaAccount,
  http,
  pool,
  recipient,
  report,
  secret,
  sendMany,
  sharedSettings,
  startGatewayProcess,
  startSimulator,
  waitFor,
  type FaultAccount,
  type GatewayProcess,
  type SimulatorProcess,
} from './harness.js'
import { assertRequired, createDatabase, postgresMissing, warnSkip, type TestDatabase } from './services.js'

/**
 * Fault: providers deliver webhooks at least once and in no particular order. Every webhook here —
 * one inbound message and the sent/delivered/read statuses of M sent messages — is posted three
 * times, all of them shuffled and posted concurrently, signed like Meta (X-Hub-Signature-256, HMAC
 * of the raw body with the app secret; computed in this test, not by the gateway's code).
 * Expected: one inbound message and one `message.inbound` event; every message ends `read`; each
 * message's status events only ever move forward (never `delivered` after `read`), with no status
 * announced twice. Run on SQLite, and on PostgreSQL where concurrent transactions really overlap.
 */
const M = 30
const COPIES = 3
const STATUSES = ['sent', 'delivered', 'read'] as const
const RANK: Record<string, number> = { accepted: 0, queued: 2, sending: 3, sent: 4, delivered: 5, read: 6 }

const pgMissing = postgresMissing
warnSkip('the PostgreSQL webhook replay test', pgMissing)

function shuffle<T>(items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

function envelope(acct: FaultAccount, value: Record<string, unknown>): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: `waba${acct.phoneNumberId}`,
        changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: acct.displayPhoneNumber, phone_number_id: acct.phoneNumberId }, ...value } }],
      },
    ],
  })
}

function statusBody(acct: FaultAccount, wamid: string, status: string, recipientId: string, ts: number): string {
  return envelope(acct, {
    statuses: [
      {
        id: wamid,
        status,
        timestamp: String(ts),
        recipient_id: recipientId,
        ...(status === 'read' ? {} : { pricing: { billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' } }),
      },
    ],
  })
}

function inboundBody(acct: FaultAccount, wamid: string, from: string, ts: number): string {
  return envelope(acct, {
    contacts: [{ profile: { name: 'Replay Tester' }, wa_id: from }],
    messages: [{ from, id: wamid, timestamp: String(ts), type: 'text', text: { body: 'posted three times' } }],
  })
}

const sign = (body: string, appSecret: string) => `sha256=${createHmac('sha256', appSecret).update(body, 'utf8').digest('hex')}`

/** Every event of a type, oldest first (all pages). */
async function events(gw: GatewayProcess, type: string): Promise<Array<{ id: string; topic: string; data: any }>> {
  const out: Array<{ id: string; topic: string; data: any }> = []
  let after = ''
  for (;;) {
    const r = await gw.api('GET', `/v1/events?type=${type}&limit=1000${after ? `&after=${after}` : ''}`)
    if (r.status !== 200) throw new Error(`GET /v1/events answered ${r.status}: ${r.text}`)
    out.push(...r.json.data)
    if (r.json.data.length < 1000 || !r.json.next_cursor) return out
    after = r.json.next_cursor
  }
}

function replaySuite(backend: 'sqlite' | 'postgres') {
  let sim: SimulatorProcess
  let gw: GatewayProcess
  let acct: FaultAccount
  let db: TestDatabase | undefined
  let dir = ''

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagate-fault-replay-'))
    if (backend === 'postgres') assertRequired(pgMissing)
    // The simulator's own status webhooks are pushed out of the test: this test posts them itself.
    sim = await startSimulator({ SIM_SENT_MS: '3600000', SIM_DELIVERED_MS: '3600000', SIM_READ_MS: '3600000' })
    if (backend === 'postgres') db = await createDatabase()
    gw = await startGatewayProcess({ shared: sharedSettings(), ...(db ? { databaseUrl: db.url } : { dataDir: dir }) })
    acct = await createMetaAccount(gw, sim, { name: 'fault-replay', rateLimit: 1000 })
  }, 90_000)

  afterAll(async () => {
    await gw?.stop()
    await sim?.stop()
    await db?.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  it(`${COPIES} copies of every webhook, shuffled: one inbound event, statuses only move forward`, async () => {
    const started = Date.now()
    const ids = await sendMany(gw, M, (i) => ({ account: acct.name, to: recipient(i), type: 'text', text: `replay ${i}` }))
    const sending = await waitFor(
      async () => {
        const rows = await allOutbound(gw)
        return rows.length === M && rows.every((r) => r.status === 'sending' && r.provider_message_id) ? rows : undefined
      },
      30_000,
      'every message accepted by the provider',
    )
    const sent = await sim.sent()
    const waIdOf = new Map(sent.map((s) => [s.providerMessageId, s.to.replace(/\D/g, '')]))

    const ts = Math.floor(Date.now() / 1000)
    const bodies: string[] = []
    for (const m of sending) {
      const wamid = m.provider_message_id as string
      STATUSES.forEach((status, k) => bodies.push(statusBody(acct, wamid, status, waIdOf.get(wamid) ?? '14155550001', ts + k)))
    }
    const inboundWamid = `wamid.FAULT${secret(10).toUpperCase()}`
    const from = '14155559876'
    bodies.push(inboundBody(acct, inboundWamid, from, ts))
    const posts = shuffle(bodies.flatMap((b) => Array.from({ length: COPIES }, () => b)))

    const answers = await pool(posts.length, 16, (i) => {
      const body = posts[i] as string
      return http('POST', `${gw.url}/webhooks/meta/${acct.name}`, { body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, acct.appSecret) } })
    })
    expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`)).toEqual([])

    // One inbound message, one event for it.
    const inboundEvents = (await events(gw, 'message.inbound')).filter((e) => e.data.message?.provider_message_id === inboundWamid)
    expect(inboundEvents).toHaveLength(1)
    const inboundRows = await gw.api('GET', '/v1/messages?direction=in&limit=50')
    expect(inboundRows.json.data.filter((m: { provider_message_id: string }) => m.provider_message_id === inboundWamid)).toHaveLength(1)

    // Every message read; its status events strictly forward, none twice, the last one `read`.
    const rows = await allOutbound(gw)
    expect(rows.filter((r) => r.status !== 'read').map((r) => `${r.id} ${r.status}`)).toEqual([])
    const statusEvents = await events(gw, 'message.status')
    const mine = new Set(ids)
    const sequences = new Map<string, string[]>()
    for (const e of statusEvents) {
      const id = e.data.message?.id as string
      if (!mine.has(id)) continue
      sequences.set(id, [...(sequences.get(id) ?? []), e.data.message.status as string])
    }
    const backwards: string[] = []
    let skipped = 0
    for (const id of ids) {
      const seq = sequences.get(id) ?? []
      for (let k = 1; k < seq.length; k++) if ((RANK[seq[k] as string] ?? 0) <= (RANK[seq[k - 1] as string] ?? 0)) backwards.push(`${id}: ${seq.join(' → ')}`)
      expect(seq.at(-1), `${id}: ${seq.join(' → ')}`).toBe('read')
      // accepted, sending + the three provider statuses, minus those a later one overtook.
      skipped += 5 - seq.length
    }
    expect(backwards).toEqual([])

    // Replays changed nothing: one history row per (status), not one per copy.
    for (const id of ids.slice(0, 5)) {
      const one = await gw.api('GET', `/v1/messages/${id}`)
      const history = one.json.history as Array<{ status: string }>
      for (const status of STATUSES) expect(history.filter((h) => h.status === status), `${id} ${status}`).toHaveLength(1)
    }

    report(`webhook replay (${backend})`, { posts: posts.length, messages: M, overtakenStatuses: skipped, totalMs: Date.now() - started })
  }, 90_000)
}

describe('fault: webhooks replayed and shuffled, SQLite', () => replaySuite('sqlite'))
describe.skipIf(Boolean(pgMissing) && !process.env.WAGATE_TEST_REQUIRE_SERVICES)('fault: webhooks replayed and shuffled, PostgreSQL', () => replaySuite('postgres'))
