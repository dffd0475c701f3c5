import { request } from 'undici'
import type { MetaSimAccount } from '../../src/simulators/meta/types.js'
import type { BenchRequest } from './load.js'
import type { WebhookTarget } from './meta-webhooks.js'
import { randomSecret } from './procs.js'

/**
 * The few calls the benchmark makes outside its measured loops: creating accounts on the gateway
 * and on the simulator, and the request bodies of the measured loops.
 *
 * @example
 * const acct = await createBenchAccount({ gatewayUrl, apiKey, simUrl, name: 'bench-send-0', index: 0, rateLimit: 1000 })
 * sendMessageRequest(apiKey, acct.name, recipients[0])
 */
export interface BenchAccount extends WebhookTarget {
  /** Gateway account id (`acc_…`). */
  id: string
  rateLimit: number
}

async function json(method: string, url: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await request(url, { method: method as 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const text = await res.body.text()
  if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode}: ${text.slice(0, 500)}`)
  return text ? (JSON.parse(text) as unknown) : undefined
}

/** Phone-number-id and business number of the n-th bench account (distinct per scenario via `series`). */
export function simAccountFor(series: number, index: number, webhookUrl: string): MetaSimAccount {
  const n = series * 100 + index
  return {
    phoneNumberId: String(7_000_000_000 + n),
    displayPhoneNumber: `1650555${String(1000 + n).padStart(4, '0')}`,
    accessToken: `EAAB${randomSecret(12)}`,
    appSecret: randomSecret(16),
    webhookUrl,
  }
}

/**
 * Registers a Meta number on the simulator (when `simUrl` is given) and the matching account on the
 * gateway, pointed at the simulator's Graph API.
 */
export async function createBenchAccount(opts: {
  gatewayUrl: string
  apiKey: string
  simUrl?: string
  name: string
  series: number
  index: number
  rateLimit: number
}): Promise<BenchAccount> {
  const account = simAccountFor(opts.series, opts.index, `${opts.gatewayUrl}/webhooks/meta/${opts.name}`)
  if (opts.simUrl) await json('POST', `${opts.simUrl}/_sim/accounts`, account)
  const created = (await json(
    'POST',
    `${opts.gatewayUrl}/v1/accounts`,
    {
      name: opts.name,
      provider: 'meta',
      phone_number: `+${account.displayPhoneNumber}`,
      rate_limit: opts.rateLimit,
      config: {
        phone_number_id: account.phoneNumberId,
        access_token: account.accessToken,
        app_secret: account.appSecret,
        base_url: opts.simUrl ?? 'http://127.0.0.1:9',
      },
    },
    { authorization: `Bearer ${opts.apiKey}` },
  )) as { id: string }
  return { id: created.id, name: opts.name, account, rateLimit: opts.rateLimit }
}

/** Adds a number to the simulator only (send baseline: its webhooks go to `webhookUrl`). */
export async function addSimAccount(simUrl: string, account: MetaSimAccount): Promise<void> {
  await json('POST', `${simUrl}/_sim/accounts`, account)
}

/**
 * `count` distinct US numbers the phone rules accept, none ending in 0000 (the simulator's "not on
 * WhatsApp" numbers).
 */
export function recipients(count: number): string[] {
  const areas = ['415', '650', '310', '212', '202', '305', '512', '617', '206', '303']
  const out: string[] = []
  for (let i = 0; out.length < count; i++) {
    const area = areas[i % areas.length] as string
    const line = 1 + Math.floor(i / areas.length)
    if (line > 9999) throw new Error('too many recipients requested')
    out.push(`+1${area}555${String(line).padStart(4, '0')}`)
  }
  return out
}

export function sendMessageRequest(apiKey: string, account: string, to: string, text: string): BenchRequest {
  return {
    method: 'POST',
    path: '/v1/messages',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ account, to, type: 'text', text }),
  }
}

export async function simStats(simUrl: string): Promise<{ sent: number; requests: number; webhooksDelivered: number; webhooksFailed: number }> {
  const res = await request(`${simUrl}/_sim/stats`)
  return (await res.body.json()) as { sent: number; requests: number; webhooksDelivered: number; webhooksFailed: number }
}

export async function simSent(simUrl: string): Promise<Array<{ account: string; at: number; providerMessageId: string }>> {
  const res = await request(`${simUrl}/_sim/sent`)
  return (await res.body.json()) as Array<{ account: string; at: number; providerMessageId: string }>
}

export interface StoreCounters {
  commits: number
  transactions: number
}

/** The store's group-commit counters from the gateway's /metrics (absent metrics read as NaN). */
export async function storeCounters(gatewayUrl: string): Promise<StoreCounters> {
  const res = await request(`${gatewayUrl}/metrics`)
  const text = await res.body.text()
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
  return { commits: read('wagate_store_commits_total'), transactions: read('wagate_store_transactions_total') }
}

/** Commits per second and transactions per commit between two readings. */
export function commitRate(a: StoreCounters, b: StoreCounters, seconds: number): { commitsPerSec: number; perCommit: number } {
  const commits = b.commits - a.commits
  return { commitsPerSec: commits / seconds, perCommit: commits > 0 ? (b.transactions - a.transactions) / commits : Number.NaN }
}
