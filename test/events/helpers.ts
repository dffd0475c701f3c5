import { Agent, request } from 'undici'
import { Webhook } from 'standardwebhooks'
import type { CapturedRequest } from '../harness/capture-server.js'
import type { TestGateway } from '../harness/gateway.js'

/** Shared steps of the events-out tests: produce events through the sandbox, read what a receiver got. */

export const header = (req: CapturedRequest, name: string): string => {
  const v = req.headers[name]
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '')
}

/** The Standard Webhooks headers of a captured request, as `Webhook.verify` takes them. */
export const swHeaders = (req: CapturedRequest) => ({
  'webhook-id': header(req, 'webhook-id'),
  'webhook-timestamp': header(req, 'webhook-timestamp'),
  'webhook-signature': header(req, 'webhook-signature'),
})

export const verifies = (secret: string, req: CapturedRequest): boolean => {
  try {
    new Webhook(secret).verify(req.raw, swHeaders(req))
    return true
  } catch {
    return false
  }
}

/** A contact writes to the Meta sandbox account; resolves once its message.inbound event is in the log. */
export async function inbound(t: TestGateway, text: string, from = '+14155550123'): Promise<{ id: string; topic: string }> {
  const res = await t.api('POST', '/sandbox/sandbox-meta/inbound', { from, text })
  if (res.status !== 202) throw new Error(`sandbox inbound answered ${res.status}: ${res.text}`)
  return t.waitFor(async () => {
    const r = await t.api('GET', '/v1/events?type=message.inbound&limit=1000')
    return (r.json.data as Array<{ id: string; topic: string; data: { message: { text?: string } } }>).find((e) => e.data.message.text === text)
  }, 15_000, `inbound event "${text}"`)
}

/** The log's current end, as a cursor for `after` / `from`. */
export async function logEnd(t: TestGateway): Promise<string> {
  let cursor = ''
  for (;;) {
    const r = await t.api('GET', `/v1/events?limit=1000${cursor ? `&after=${cursor}` : ''}`)
    if (r.json.next_cursor === cursor || r.json.data.length === 0) return r.json.next_cursor as string
    cursor = r.json.next_cursor as string
  }
}

export interface SseMessage {
  id: string
  data: string
}

/** A Server-Sent Events reader over undici, for GET /v1/events/stream. */
export async function openStream(t: TestGateway, query: string, lastEventId?: string) {
  const controller = new AbortController()
  // Its own connection pool, closed with the stream: aborting a request on the shared pool can leave a
  // fresh, request-less connection behind that would hold the gateway's server open at close.
  const agent = new Agent({ pipelining: 0 })
  const res = await request(`${t.url}/v1/events/stream${query}`, {
    dispatcher: agent,
    headers: { authorization: `Bearer ${t.apiKey}`, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: controller.signal,
  })
  const messages: SseMessage[] = []
  let buffer = ''
  const reading = (async () => {
    try {
      for await (const chunk of res.body) {
        buffer += Buffer.from(chunk as Uint8Array).toString('utf8')
        let cut: number
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const fields = block.split('\n').filter((l) => !l.startsWith(':'))
          const id = fields.find((l) => l.startsWith('id: '))?.slice(4)
          const data = fields.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
          if (id !== undefined) messages.push({ id, data })
        }
      }
    } catch {
      // aborted by close()
    }
    await agent.destroy()
  })()
  return {
    status: res.statusCode,
    headers: res.headers,
    messages,
    /** Resolves when the server ends the stream. */
    ended: reading,
    close() {
      controller.abort()
      return reading
    },
  }
}
