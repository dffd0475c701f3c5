import type { GatewayProcess, SentRecordWire, SimAccount, SimulatorProcess } from './processes.js'
import { logSummary, pool, secret, sleep, type HttpAnswer } from './util.js'

/**
 * Accounts and messages through the public API: a Meta account on the simulator and the gateway,
 * many messages posted at once, every outbound message read back, duplicates counted.
 *
 * @example
 * const acct = await createMetaAccount(gw, sim, { name: 'f1', rateLimit: 400 })
 * const ids = await sendMany(gw, 100, (i) => ({ account: acct.name, to: recipient(i), type: 'text', text: `m${i}` }))
 * const rows = await allOutbound(gw)
 */
export interface FaultAccount extends SimAccount {
  name: string
  id: string
}

let accountSeq = 0

/**
 * A Meta number on the simulator and the matching gateway account (created through the API)
 * pointed at the simulator's Graph API (or `graphUrl`, a proxy in front of it); the simulator posts
 * its webhooks to `webhookGateway` (default: `gw`).
 */
export async function createMetaAccount(
  gw: GatewayProcess,
  sim: SimulatorProcess,
  opts: { name: string; rateLimit: number; webhookGateway?: GatewayProcess; graphUrl?: string },
): Promise<FaultAccount> {
  const n = (process.pid % 1000) * 1000 + accountSeq++
  const account: SimAccount = {
    phoneNumberId: String(8_100_000_000 + n),
    displayPhoneNumber: `1650555${String(n % 10_000).padStart(4, '0')}`,
    accessToken: `EAAF${secret(12)}`,
    appSecret: secret(16),
    webhookUrl: `${(opts.webhookGateway ?? gw).url}/webhooks/meta/${opts.name}`,
  }
  await sim.addAccount(account)
  const created = await gw.api('POST', '/v1/accounts', {
    name: opts.name,
    provider: 'meta',
    phone_number: `+${account.displayPhoneNumber}`,
    rate_limit: opts.rateLimit,
    config: { phone_number_id: account.phoneNumberId, access_token: account.accessToken, app_secret: account.appSecret, base_url: opts.graphUrl ?? sim.url },
  })
  if (created.status !== 201) throw new Error(`account ${opts.name} not created: ${created.status} ${created.text}`)
  return { ...account, name: opts.name, id: created.json.id as string }
}

/**
 * The i-th of many distinct US numbers (none ending in 0000, the simulator's "not on WhatsApp").
 *
 * @example
 * recipient(0) // '+14155550001'
 */
export function recipient(i: number): string {
  const areas = ['415', '650', '310', '212', '202', '305', '512', '617', '206', '303']
  const area = areas[i % areas.length] as string
  const line = 1 + (Math.floor(i / areas.length) % 9999)
  return `+1${area}555${String(line).padStart(4, '0')}`
}

/** Runs `task(0..count-1)` with at most `width` at a time. */

export interface SendManyOptions {
  /** Parallel requests (default 32). */
  width?: number
  /**
   * Retry a 503 after its Retry-After (at most 1 s here, for up to 90 s), as a client should, with the
   * same Idempotency-Key so that a retried request can never make a second message; a 409 "still in
   * flight" for that key (its first request died with the database) and a request left without an
   * answer are retried too. Counted in `retried`.
   */
  retryUnavailable?: boolean
  retried?: { count: number }
}

/** POSTs `count` messages (each must get a 202) across the given gateways, round-robin; returns the ids. */

export async function sendMany(gws: GatewayProcess | GatewayProcess[], count: number, body: (i: number) => Record<string, unknown>, opts: SendManyOptions = {}): Promise<string[]> {
  const list = Array.isArray(gws) ? gws : [gws]
  return pool(count, opts.width ?? 32, async (i) => {
    const headers: Record<string, string> = opts.retryUnavailable ? { 'idempotency-key': `fault-${secret(12)}` } : {}
    const giveUpAt = Date.now() + 90_000
    for (let attempt = 1; ; attempt++) {
      const gw = list[(i + attempt - 1) % list.length] as GatewayProcess
      let res: HttpAnswer
      try {
        res = await gw.api('POST', '/v1/messages', body(i), { headers })
      } catch (err) {
        // No answer (a saturated process): safe to send again under the same Idempotency-Key.
        if (!opts.retryUnavailable || Date.now() >= giveUpAt) throw err
        if (opts.retried) opts.retried.count++
        continue
      }
      if (res.status === 202) return res.json.id as string
      const retryable = res.status === 503 || (res.status === 409 && res.json?.code === 'idempotency_key_in_flight')
      if (opts.retryUnavailable && retryable && Date.now() < giveUpAt) {
        if (opts.retried) opts.retried.count++
        await sleep(Math.min(1_000, Number(res.headers['retry-after'] ?? 1) * 1000))
        continue
      }
      throw new Error(`message ${i} refused by ${gw.name}: ${res.status} ${res.text}\n${gw.name} warnings and errors:\n${logSummary(gw.tail())}`)
    }
  })
}

export interface MessageRow {
  id: string
  status: string
  attempts: number
  duplicate_risk: number
  provider_message_id: string | null
  error: unknown
}

/** Every outbound message of the tenant (all pages). */

export async function allOutbound(gw: GatewayProcess, query = ''): Promise<MessageRow[]> {
  const out: MessageRow[] = []
  let before: string | null | undefined
  for (;;) {
    const r = await gw.api('GET', `/v1/messages?direction=out&limit=500${query}${before ? `&before=${before}` : ''}`, undefined, { timeoutMs: 30_000 })
    if (r.status !== 200) throw new Error(`GET /v1/messages answered ${r.status}: ${r.text}`)
    out.push(...(r.json.data as MessageRow[]))
    before = r.json.next_before as string | null | undefined
    if (!before) return out
  }
}

/** Cheap progress probe: is there at least one outbound message in one of these statuses? */

export async function anyWithStatus(gw: GatewayProcess, statuses: string[]): Promise<boolean> {
  const answers = await Promise.all(statuses.map((s) => gw.api('GET', `/v1/messages?direction=out&status=${s}&limit=1`)))
  for (const a of answers) if (a.status !== 200) throw new Error(`GET /v1/messages answered ${a.status}: ${a.text}`)
  return answers.some((a) => (a.json.data as unknown[]).length > 0)
}

/** Status counts of a message list, e.g. `{ read: 998, failed: 2 }`. */

export function duplicateRefs(records: SentRecordWire[]): number {
  const seen = new Set<string>()
  let dups = 0
  for (const r of records) {
    if (r.clientRef === undefined) continue
    if (seen.has(r.clientRef)) dups++
    else seen.add(r.clientRef)
  }
  return dups
}

/** Prints a figure the report quotes (vitest shows console output of passing tests too). */
