import { Pool } from 'undici'
import { metaSandbox } from '../../src/sandbox.js'
import { startTestGateway } from '../../test/harness/gateway.js'

/**
 * Not part of `npm run bench`: the send path in ONE process for `node --cpu-prof` — API accept,
 * outbox worker (one account at 1,000 msg/s), the in-process Meta simulator, and its sent / delivered / read webhooks back
 * (the "known" ingest path). SQLite in memory (no fsync), so the profile shows the CPU work only.
 *
 * @example
 * node --cpu-prof --cpu-prof-dir=/tmp/prof/send --import tsx bench/experiments/profile-send.ts --messages=2000
 */
const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback
const count = Number(arg('messages', '2000'))

const t = await startTestGateway({ sandboxes: (timings) => [metaSandbox(timings)], timings: { sentMs: 5, deliveredMs: 15, readMs: 30 } })
try {
  const names = ['sandbox-meta']
  await t.api('PATCH', '/v1/accounts/sandbox-meta', { rate_limit: 1000 })
  const pool = new Pool(t.url, { connections: 32 })
  const started = performance.now()
  let next = 0
  const ids: string[] = []
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        const i = next++
        const res = await pool.request({
          method: 'POST',
          path: '/v1/messages',
          headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ account: names[i % names.length], to: `+1415${String(5_000_000 + i).padStart(7, '0')}`, type: 'text', text: `hello ${i}` }),
        })
        const body = (await res.body.json()) as { id: string }
        if (res.statusCode !== 202) throw new Error(JSON.stringify(body))
        ids.push(body.id)
      }
    }),
  )
  const accepted = performance.now()
  const last = ids[ids.length - 1] as string
  await t.waitFor(async () => (await t.api('GET', `/v1/messages/${last}`)).json.status === 'read', 120_000, 'last message read')
  const read = await t.api('GET', '/v1/messages?limit=500&status=read')
  console.log(`accepted ${count} in ${(accepted - started).toFixed(0)} ms; last read after ${(performance.now() - started).toFixed(0)} ms; ${read.json.data.length}+ read`)
  await pool.close()
} finally {
  await t.close()
}
