import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvent, eventBus } from '../../src/engine/events.js'
import { openTestStore } from '../harness/pg-schema.js'
import { startCaptureServer, type CaptureServer } from '../harness/capture-server.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { header } from '../events/helpers.js'
import { createRule } from './helpers.js'

/**
 * Rule runs are durable (DESIGN §13): the runner reads the log from the rule's stored cursor, and a
 * run is recorded under a unique (rule, event) key. Events appended while the gateway is down are
 * run after it starts; a run recorded before a crash that kept the cursor from moving is not run
 * again.
 */
describe('rules across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wagate-rules-'))
  const env = { WAGATE_DATA_DIR: dir, WAGATE_SECRET_KEY: randomBytes(32).toString('hex') }
  let receiver: CaptureServer
  let t: TestGateway | undefined

  beforeAll(async () => {
    receiver = await startCaptureServer(() => ({ status: 204 }))
  })
  afterAll(async () => {
    await t?.close()
    await receiver.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const tick = (n: number) => ({ tenantId: 'tn_default', type: 'test.tick', topic: 'test.tick', account: null, data: { n } })
  const received = () => receiver.requests.map((r) => (r.json as { data: { n: number } }).data.n)

  it('runs the events appended while it was down, and never runs one twice', async () => {
    const first = await startTestGateway({ env, sandboxes: () => [] })
    t = first
    const rule = await createRule(first, { name: 'tick', topics: ['test.tick'], actions: [{ type: 'webhook', url: `${receiver.url}/tick` }] })
    await first.gw.store.write(async (tx) => {
      for (const n of [1, 2, 3]) await appendEvent(tx, tick(n), Date.now())
    })
    eventBus.emit('event')
    await first.waitFor(async () => receiver.requests.length === 3, 10_000, 'three runs')
    await first.close()
    t = undefined

    // While it is down: two more events, and the cursor put back to the start, as after a crash
    // between a run's commit and the cursor's.
    const store = await openTestStore(dir)
    await store.write(async (tx) => {
      for (const n of [4, 5]) await appendEvent(tx, tick(n), Date.now())
      await tx.updateTable('rules').set({ cursor_seq: 0 }).where('id', '=', rule.id).execute()
    })
    await store.close()

    const second = await startTestGateway({ env, sandboxes: () => [] })
    t = second
    // A last event: once it has run, every event before it has been looked at (the log is read in order).
    await second.gw.store.write((tx) => appendEvent(tx, tick(6), Date.now()))
    eventBus.emit('event')
    await second.waitFor(async () => received().includes(6), 10_000, 'the event after the restart')
    expect(received()).toEqual([1, 2, 3, 4, 5, 6])
    expect(new Set(receiver.requests.map((r) => header(r, 'webhook-id'))).size).toBe(6)
    const got = await second.api('GET', `/v1/rules/${rule.id}`)
    expect(got.json.runs).toMatchObject({ fired: 6, failed: 0 })
    const fired = await second.api('GET', '/v1/events?type=rule.fired&limit=100')
    expect(fired.json.data).toHaveLength(6)
  })
})
