import { randomBytes } from 'node:crypto'
import type { TwilioSimulator } from '../../src/simulators/twilio/index.js'
import type { TestGateway } from '../harness/gateway.js'

/** Shared steps of the rules tests: an SMS account on the Twilio simulator, events and messages read through the API. */

export interface EventEnvelope {
  id: string
  type: string
  topic: string
  account: string | null
  data: Record<string, any>
}

/** Every event of a type (following the cursor). */
export async function eventsOf(t: TestGateway, type: string): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = []
  let after: string | undefined
  for (;;) {
    const r = await t.api('GET', `/v1/events?type=${encodeURIComponent(type)}&limit=500${after ? `&after=${encodeURIComponent(after)}` : ''}`)
    out.push(...(r.json.data as EventEnvelope[]))
    if (!r.json.next_cursor || r.json.data.length === 0) break
    after = r.json.next_cursor
  }
  return out
}

/** Waits for the first rule event (rule.fired / rule.failed) of a rule about a triggering event matching `about`. */
export async function ruleEvent(t: TestGateway, type: 'rule.fired' | 'rule.failed', ruleId: string, about?: (e: EventEnvelope['data']) => boolean, timeoutMs = 15_000): Promise<EventEnvelope> {
  return t.waitFor(async () => (await eventsOf(t, type)).find((e) => e.data.rule.id === ruleId && (!about || about(e.data))), timeoutMs, `${type} of ${ruleId}`)
}

export async function waitForStatus(t: TestGateway, id: string, statuses: string[], timeoutMs = 15_000): Promise<any> {
  return t.waitFor(async () => {
    const r = await t.api('GET', `/v1/messages/${id}`)
    return statuses.includes(r.json?.status) ? r.json : undefined
  }, timeoutMs, `${id} to reach ${statuses.join('|')}`)
}

export async function send(t: TestGateway, body: Record<string, unknown>): Promise<string> {
  const res = await t.api('POST', '/v1/messages', body)
  if (res.status !== 202) throw new Error(`send ${JSON.stringify(body)}: ${res.status} ${res.text}`)
  return res.json.id as string
}

export async function createRule(t: TestGateway, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await t.api('POST', '/v1/rules', body)
  if (res.status !== 201) throw new Error(`POST /v1/rules: ${res.status} ${res.text}`)
  return res.json as { id: string; secret: string }
}

export function twilioSimulator(t: TestGateway): TwilioSimulator {
  const account = t.sandbox.accounts.find((a) => a.row.provider === 'twilio')
  const sim = account ? t.sandbox.simulators.get(account.row.id) : undefined
  if (!sim) throw new Error('the Twilio sandbox is not running')
  return sim as TwilioSimulator
}

/**
 * A Twilio SMS account of its own (new SID and token) on the in-process Twilio simulator, created
 * through the API like an operator would.
 */
export async function createSmsAccount(t: TestGateway, name: string, phoneNumber: string): Promise<void> {
  const sim = twilioSimulator(t)
  const accountSid = `AC${randomBytes(16).toString('hex')}`
  const authToken = randomBytes(16).toString('hex')
  sim.addAccount({ accountSid, authToken, numbers: [phoneNumber], inboundWebhookUrl: `${t.url}/webhooks/twilio/${name}` })
  const res = await t.api('POST', '/v1/accounts', { name, provider: 'twilio', channel: 'sms', phone_number: phoneNumber, config: { account_sid: accountSid, auth_token: authToken, base_url: sim.url } })
  if (res.status !== 201) throw new Error(`POST /v1/accounts (${name}): ${res.status} ${res.text}`)
}
