import { afterEach, describe, expect, it } from 'vitest'
import { PHONE_ID, startRig, statusesReceived, textTo, type Rig } from './test-kit.js'

let rig: Rig
afterEach(async () => {
  await rig.close()
})

const template = (to: string) => ({ messaging_product: 'whatsapp', to, type: 'template', template: { name: 'hello_world', language: { code: 'en_US' } } })

describe('customer-service window (enforceWindow, meta.md §5)', () => {
  it('accepts a free-form send to a contact who never wrote, then fails it with 131047; a template goes through', async () => {
    rig = await startRig({ enforceWindow: true })
    const free = await rig.send(textTo('16505551234'))
    expect(free.status).toBe(200)
    const wamid = (free.json as { messages: Array<{ id: string }> }).messages[0]?.id
    const tpl = await rig.send(template('16505551234'))
    expect(tpl.status).toBe(200)
    const tplId = (tpl.json as { messages: Array<{ id: string }> }).messages[0]?.id
    await rig.sim.idle(5_000)
    const statuses = statusesReceived(rig.hooks)
    const failed = statuses.filter((s) => s.id === wamid)
    expect(failed).toEqual([expect.objectContaining({ status: 'failed', errors: [expect.objectContaining({ code: 131047, title: 'Re-engagement message' })] })])
    expect(statuses.filter((s) => s.id === tplId).map((s) => s.status)).toEqual(['sent', 'delivered', 'read'])
  })

  it('lets free-form through once the contact wrote', async () => {
    rig = await startRig({ enforceWindow: true })
    await rig.sim.inbound(PHONE_ID, { from: '+16505551234', text: 'hi' })
    const free = await rig.send(textTo('16505551234'))
    const wamid = (free.json as { messages: Array<{ id: string }> }).messages[0]?.id
    await rig.sim.idle(5_000)
    expect(statusesReceived(rig.hooks).filter((s) => s.id === wamid).map((s) => s.status)).toEqual(['sent', 'delivered', 'read'])
  })

  it('does not enforce it by default', async () => {
    rig = await startRig()
    const free = await rig.send(textTo('16505551234'))
    const wamid = (free.json as { messages: Array<{ id: string }> }).messages[0]?.id
    await rig.sim.idle(5_000)
    expect(statusesReceived(rig.hooks).filter((s) => s.id === wamid).map((s) => s.status)).toEqual(['sent', 'delivered', 'read'])
  })
})
