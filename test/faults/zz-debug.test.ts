import { it } from 'vitest'
import { createMetaAccount, recipient, REDIS_URL, pool, sharedSettings, startGatewayProcess, startSimulator } from '/work/main/test/faults/harness.js'
import { createDatabase } from '/work/main/test/faults/services.js'
it('post load', async () => {
  const db = await createDatabase()
  const sim = await startSimulator()
  const shared = sharedSettings()
  const gw = await startGatewayProcess({ shared, databaseUrl: db.url, redisUrl: REDIS_URL, env: { WAGATE_LOG_LEVEL: 'info', WAGATE_WORKER_CONCURRENCY: '32' } })
  const acct = await createMetaAccount(gw, sim, { name: 'dbg', rateLimit: 250 })
  for (const width of [1, 8, 32]) {
    const t0 = Date.now()
    const lat: number[] = []
    const statuses: Record<string, number> = {}
    await pool(300, width, async (i) => {
      try {
        const r = await gw.api('POST', '/v1/messages', { account: acct.name, to: recipient(i + width * 1000), type: 'text', text: `x ${i}` }, { timeoutMs: 30000 })
        lat.push(r.ms); statuses[r.status] = (statuses[r.status] ?? 0) + 1
      } catch (e) { statuses['err'] = (statuses['err'] ?? 0) + 1 }
    })
    lat.sort((a, b) => a - b)
    console.log(`width ${width}: ${Date.now() - t0} ms for 300, p50 ${lat[150]} p99 ${lat[297]} max ${lat.at(-1)}`, statuses, 'sim sent', (await sim.stats()).sent)
    console.log(await db.query("select state, wait_event_type, wait_event, left(query, 80) q, count(*) from pg_stat_activity where datname = $1 group by 1,2,3,4", [db.name]))
  }
  console.log(gw.tail().slice(-3000))
  await gw.stop(); await sim.stop(); await db.drop()
}, 300000)
