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
const owners = new Map<number, string>()
require('node:diagnostics_channel').subscribe('undici:client:connected', (m: any) => { owners.set(m.socket.localPort, String(m.connectParams.origin) + ' ' + (new Error().stack ?? '').split('\n').slice(2, 12).join(' <- ')) })
require('node:diagnostics_channel').subscribe('undici:request:create', (m: any) => { lastReq.push(m.request.origin + m.request.path + ' ' + m.request.method) })
const lastReq: string[] = []
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
  const srv = g.app.server; const oc = srv.close.bind(srv); srv.close = (...a: any[]) => { log('server.close called'); return oc(...a) }
  const c = first.close(); const iv = setInterval(() => { log('closing...', first.logs.length, 'listening', g.app.server.listening); g.app.server.closeIdleConnections(); require('node:fs').writeFileSync('/tmp/pgscratch/gwlogs.txt', first.logs.join('')); g.app.server.getConnections((e: unknown, n: number) => log('connections', n, [...owners].map(([p, o]) => p + '=' + o.slice(0, 120)).join('\n'), lastReq.slice(-8).join('\n'), require('node:child_process').execSync(`ss -tnp | grep ${new URL(first.url).port} || true`).toString())); log('handles', (process as any)._getActiveHandles().filter((h: any) => h.server).map((h: any) => h.localPort + '->' + h.remotePort + ' msg=' + (h._httpMessage ? h._httpMessage.req?.method + ' ' + h._httpMessage.req?.url + ' finished=' + h._httpMessage.finished + ' headersSent=' + h._httpMessage.headersSent : 'none') + ' parser=' + !!h.parser + ' bytesRead=' + h.bytesRead).join(' | ')) }, 2000); await c; clearInterval(iv)
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
