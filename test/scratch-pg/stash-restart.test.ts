import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'vitest'
import { metaSandbox } from '../../src/sandbox.js'
import { startTestGateway } from '../harness/gateway.js'
import { patchAccount, getMessage } from '../conversation/window-helpers.js'
const META = 'sandbox-meta'
it('debug', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wagate-stash-'))
  const env = { WAGATE_DATA_DIR: dir, WAGATE_SECRET_KEY: randomBytes(32).toString('hex'), WAGATE_LOG_LEVEL: 'debug' }
  const to = '+14155550111'
  const log = (...a: unknown[]) => console.log(Date.now() % 100000, ...a)
  const first = await startTestGateway({ env, sandboxes: (timings) => [metaSandbox(timings, { enforceWindow: true })] })
  log('first up')
  await patchAccount(first, META, { window_policy: 'stash', interaction_template: { name: 'interaction_request', language: 'en_US' } })
  const ids: string[] = []
  for (const n of [1, 2]) ids.push((await first.api('POST', '/v1/messages', { account: META, to, type: 'text', text: `kept ${n}` })).json.id)
  log('sent', ids)
  for (;;) { const st = (await Promise.all(ids.map((id) => getMessage(first, id)))).map((m) => m.status); if (st.every((x) => x === 'stashed')) break; await new Promise((r) => setTimeout(r, 25)) }
  log('stashed')
  const g = first.gw as any
  const origClose = g.store.close.bind(g.store)
  log('store stats', g.store.stats())
  const c = first.close(); const iv = setInterval(() => { log('closing...', first.logs.length); require('node:fs').writeFileSync('/tmp/pgscratch/gwlogs.txt', first.logs.join('')) }, 2000); await c; clearInterval(iv)
  log('closed')
  log('starting second'); const second = await startTestGateway({ env, sandboxes: (timings) => [metaSandbox(timings, { enforceWindow: true })] })
  log('second up')
  log('statuses', (await Promise.all(ids.map((id) => getMessage(second, id)))).map((m) => m.status))
  const r = await second.api('POST', `/sandbox/${META}/inbound`, { from: to, button: { text: 'Yes', payload: 'Yes' } })
  log('inbound', r.status)
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 1000))
    log('statuses', (await Promise.all(ids.map((id) => getMessage(second, id)))).map((m) => m.status))
  }
  for (const l of second.logs.slice(0, 10)) log(l.slice(0, 600))
  await second.close()
  rmSync(dir, { recursive: true, force: true })
}, 60_000)
