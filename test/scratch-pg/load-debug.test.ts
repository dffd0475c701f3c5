import { it } from 'vitest'
import { startMetaGateway, META } from '../core/helpers.js'

it('debug', async () => {
  const t = await startMetaGateway()
  let next = 0
  const t0 = Date.now()
  const codes: Record<number, number> = {}
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < 400) {
      const i = next++
      const res = await t.api('POST', '/v1/messages', { account: META, to: `+1415555${String(1001 + i).padStart(4, '0')}`, type: 'text', text: `x ${i}` })
      codes[res.status] = (codes[res.status] ?? 0) + 1
    }
  }))
  console.log('took', Date.now() - t0, codes, t.gw.store.stats())
  const errs = t.logs.filter((l) => l.includes('"level":50') || l.includes('error')).slice(0, 5)
  for (const e of errs) console.log(e.slice(0, 1500))
  await t.close()
}, 120_000)
