import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pool, request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { openProbe } from './db-probe.js'
import { createBenchAccount, sendMessageRequest } from './gateway-api.js'
import { fixedCount } from './load.js'
import { statusWebhook, unknownWamid, type WebhookTarget } from './meta-webhooks.js'
import { processRssBytes } from './monitor.js'
import { gatewayRuntime, productionNodeFlags, startBareRoute, startGateway, startMetaSimulator, type Child } from './procs.js'

/**
 * The harness's assumptions about the processes it drives, checked on the real thing: the bare
 * route accepts exactly the signed webhooks, the gateway parks a status for an unknown message and
 * says so, and a message sent through the simulator reaches `sent` where the probe looks for it.
 */
const started: Child[] = []
const dirs: string[] = []
afterAll(async () => {
  for (const c of started) await c.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const target: WebhookTarget = {
  name: 'bench-in',
  account: { phoneNumberId: '7000000100', displayPhoneNumber: '16505551100', accessToken: 'tok', appSecret: 'bare-secret', webhookUrl: 'http://127.0.0.1:1/x' },
}

async function post(url: string, req: ReturnType<typeof statusWebhook>) {
  const res = await request(`${url}${req.path}`, { method: 'POST', headers: req.headers, body: req.body ?? '' })
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }
}

describe('bare route process', () => {
  it('answers 200 to a signed webhook and 401 to a wrongly signed one', async () => {
    const bare = await startBareRoute('bare-secret')
    started.push(bare)
    expect(bare.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const good = statusWebhook(target, { wamid: unknownWamid('14155550123'), waId: '14155550123' }, 'delivered', Date.now())
    expect(await post(bare.url, good)).toEqual({ status: 200, body: { ok: true } })
    const forged = { ...good, headers: { ...good.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } }
    expect((await post(bare.url, forged)).status).toBe(401)
  })
})

describe('productionNodeFlags', () => {
  it('takes the node flags of serve:prod, not its script or arguments', () => {
    const pkg = JSON.stringify({ scripts: { 'serve:prod': 'node --enable-source-maps  --max-old-space-size=192 dist/cli.js serve' } })
    expect(productionNodeFlags(pkg)).toEqual(['--enable-source-maps', '--max-old-space-size=192'])
  })
  it('refuses a serve:prod that does not start node itself', () => {
    expect(() => productionNodeFlags(JSON.stringify({ scripts: { 'serve:prod': 'tsx src/cli.ts serve' } }))).toThrow(/does not start with node/)
  })
})

describe('gateway and simulator processes', () => {
  it('park unknown statuses, and carry a send to `sent` where the probe sees it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-procs-'))
    dirs.push(dataDir)
    const sim = await startMetaSimulator({ SIM_SENT_MS: '0', SIM_DELIVERED_MS: '3600000', SIM_READ_MS: '3600000' })
    started.push(sim)
    const gw = await startGateway({ dataDir })
    started.push(gw)
    expect(processRssBytes(gw.pid)).toBeGreaterThan(0)
    // compiled, it runs with serve:prod's flags: its heap limit is the cap, not V8's default (GBs)
    if (gatewayRuntime().compiled) {
      const metrics = await (await request(`${gw.url}/metrics`)).body.text()
      const cap = Number(productionNodeFlags().find((f) => f.startsWith('--max-old-space-size='))?.split('=')[1])
      const limit = Number(/^nodejs_heap_size_limit_bytes (\d+)$/m.exec(metrics)?.[1])
      expect(limit).toBeGreaterThanOrEqual(cap * 2 ** 20)
      expect(limit).toBeLessThan((cap + 64) * 2 ** 20)
    }

    const acct = await createBenchAccount({ gatewayUrl: gw.url, apiKey: gw.apiKey, simUrl: sim.url, name: 'bench-t', series: 9, index: 0, rateLimit: 1000 })
    expect(acct.id).toMatch(/^acc_/)

    const parked = await post(gw.url, statusWebhook(acct, { wamid: unknownWamid('14155550123'), waId: '14155550123' }, 'delivered', Date.now()))
    expect(parked.status).toBe(200)
    expect(parked.body.parked).toBe(1)
    const forged = statusWebhook({ ...acct, account: { ...acct.account, appSecret: 'wrong' } }, { wamid: 'wamid.X', waId: '14155550123' }, 'read', Date.now())
    expect((await post(gw.url, forged)).status).toBe(401)

    const t0 = Date.now()
    const pool = new Pool(gw.url, { connections: 2 })
    const sent = await fixedCount(pool, (i) => sendMessageRequest(gw.apiKey, acct.name, `+1415555${String(1001 + i)}`, `hello ${i}`), { count: 3, concurrency: 3 })
    await pool.close()
    expect(sent.ok).toBe(3)

    const probe = openProbe(dataDir)
    try {
      const deadline = Date.now() + 60_000
      let progress = probe.progress(t0)
      while (progress.sent < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100))
        progress = probe.progress(t0)
      }
      expect(progress, `gateway log tail:\n${gw.stderrTail()}`).toMatchObject({ total: 3, sent: 3, failed: 0 })
      expect(progress.lastUpdate).toBeGreaterThanOrEqual(progress.firstCreated)
      expect(probe.sentLatencies(t0)).toHaveLength(3)
      const known = probe.sentMessages([acct.id])
      expect(known).toHaveLength(3)
      expect(known[0]?.wamid).toMatch(/^wamid\./)
      expect(known[0]?.urn).toMatch(/^tel:\+1415555100\d$/)
    } finally {
      probe.close()
    }
  })
})
