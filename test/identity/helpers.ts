import type { TestGateway } from '../harness/gateway.js'

/**
 * Small HTTP helpers for the identity tests: every step goes through the public API, the sandbox
 * route or a simulator's own record of what reached it.
 */
export interface EventEnvelope {
  id: string
  type: string
  topic: string
  account: string | null
  data: Record<string, any>
}

export async function sendText(t: TestGateway, account: string, to: string, text = 'hello'): Promise<string> {
  const res = await t.api('POST', '/v1/messages', { account, to, type: 'text', text })
  if (res.status !== 202) throw new Error(`send to ${to} via ${account}: ${res.status} ${res.text}`)
  return res.json.id as string
}

export async function waitForStatus(t: TestGateway, id: string, statuses: string[], timeoutMs = 15_000): Promise<any> {
  return t.waitFor(async () => {
    const r = await t.api('GET', `/v1/messages/${id}`)
    return statuses.includes(r.json?.status) ? r.json : undefined
  }, timeoutMs, `${id} to reach ${statuses.join('|')}`)
}

/** Every event of a type (following the cursor), optionally only for one account. */
export async function eventsOf(t: TestGateway, type: string, account?: string): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = []
  let after: string | undefined
  for (;;) {
    const r = await t.api('GET', `/v1/events?type=${encodeURIComponent(type)}&limit=500${after ? `&after=${encodeURIComponent(after)}` : ''}`)
    out.push(...(r.json.data as EventEnvelope[]))
    if (!r.json.next_cursor || r.json.data.length === 0) break
    after = r.json.next_cursor
  }
  return account ? out.filter((e) => e.account === account) : out
}

export async function contactByUrn(t: TestGateway, urn: string): Promise<any | undefined> {
  const r = await t.api('GET', `/v1/contacts?urn=${encodeURIComponent(urn)}`)
  if (r.status !== 200) throw new Error(`GET /v1/contacts?urn=${urn}: ${r.status} ${r.text}`)
  return r.json.data[0]
}

export async function simulateReply(t: TestGateway, account: string, from: string, text: string): Promise<void> {
  const r = await t.api('POST', `/sandbox/${account}/inbound`, { from, text })
  if (r.status !== 202) throw new Error(`sandbox inbound from ${from}: ${r.status} ${r.text}`)
}

export async function inboundEvent(t: TestGateway, account: string, text: string): Promise<EventEnvelope> {
  return t.waitFor(async () => (await eventsOf(t, 'message.inbound', account)).find((e) => e.data.message?.text === text), 15_000, `inbound "${text}" on ${account}`)
}

export function accountId(t: TestGateway, name: string): string {
  const account = t.sandbox.accounts.find((a) => a.row.name === name)
  if (!account) throw new Error(`no sandbox account ${name}`)
  return account.row.id
}

export function simulatorOf(t: TestGateway, name: string) {
  const sim = t.sandbox.simulators.get(accountId(t, name))
  if (!sim) throw new Error(`no simulator for ${name}`)
  return sim
}

export const digitsOf = (value: string) => value.replace(/\D/g, '')
