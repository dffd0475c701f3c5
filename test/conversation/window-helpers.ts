import type { TestGateway } from '../harness/gateway.js'
import { simulatorOf } from '../identity/helpers.js'

/**
 * Helpers for the window / stash / template tests: everything goes through the public API, the
 * sandbox route, or the simulator's own record of what reached it.
 */
export const HOUR = 3600 * 1000

/** A clock the test moves: the gateway's time is real time plus `offset`. */
export function movableClock() {
  const clock = { offset: 0, now: () => Date.now() + clock.offset }
  return clock
}

export async function patchAccount(t: TestGateway, account: string, body: Record<string, unknown>): Promise<any> {
  const r = await t.api('PATCH', `/v1/accounts/${account}`, body)
  if (r.status !== 200) throw new Error(`PATCH ${account}: ${r.status} ${r.text}`)
  return r.json
}

export async function getMessage(t: TestGateway, id: string): Promise<any> {
  const r = await t.api('GET', `/v1/messages/${id}`)
  if (r.status !== 200) throw new Error(`GET ${id}: ${r.status} ${r.text}`)
  return r.json
}

/** Outbound messages of the account to one contact, oldest first. */
export async function outboundTo(t: TestGateway, account: string, contactId: string): Promise<any[]> {
  const r = await t.api('GET', `/v1/messages?account=${account}&contact=${contactId}&direction=out&limit=500`)
  return (r.json.data as any[]).slice().reverse()
}

/** What the account's simulator accepted for a recipient (any address spelling, compared on digits). */
export function sentTo(t: TestGateway, account: string, to: string) {
  const digits = to.replace(/\D/g, '')
  return simulatorOf(t, account)
    .sent()
    .filter((r) => r.to.replace(/\D/g, '') === digits)
}

/** The text body of a Meta send record. */
export const metaText = (body: unknown) => (body as { text?: { body?: string } }).text?.body

export async function waitAll(t: TestGateway, ids: string[], statuses: string[], timeoutMs = 20_000): Promise<any[]> {
  return t.waitFor(
    async () => {
      const all = await Promise.all(ids.map((id) => getMessage(t, id)))
      return all.every((m) => statuses.includes(m.status)) ? all : undefined
    },
    timeoutMs,
    `${ids.length} messages to reach ${statuses.join('|')}`,
  )
}
