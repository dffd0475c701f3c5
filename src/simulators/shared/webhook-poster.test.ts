import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createWebhookPoster } from './webhook-poster.js'

/** A receiver that holds each request until the test answers it, counting how many are open. */
async function holdingReceiver() {
  const held: ServerResponse[] = []
  let open = 0
  let mostOpen = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    open++
    mostOpen = Math.max(mostOpen, open)
    res.on('finish', () => open--)
    held.push(res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  return { url, held, mostOpen: () => mostOpen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
})

describe('createWebhookPoster', () => {
  it('keeps at most maxInFlight requests open and delivers the rest as earlier ones finish', async () => {
    const r = await holdingReceiver()
    closers.push(r.close)
    let delivered = 0
    const poster = createWebhookPoster({ maxInFlight: 2, onDelivered: () => delivered++ })
    for (let i = 0; i < 5; i++) poster.post({ url: r.url, headers: { 'content-type': 'application/json' }, body: `{"n":${i}}` })
    const answered = new Set<ServerResponse>()
    while (delivered < 5) {
      for (const res of r.held) {
        if (answered.has(res)) continue
        answered.add(res)
        res.end('ok')
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(poster.pending()).toBeLessThanOrEqual(5)
    }
    expect(r.mostOpen()).toBe(2)
    expect(r.held).toHaveLength(5)
    await poster.idle(1_000)
  })
})
