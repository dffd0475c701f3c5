import { startTestGateway } from '../harness/gateway.js'
const t = await startTestGateway()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
for (const account of ['sandbox-meta','sandbox-twilio','sandbox-sinch','sandbox-gupshup']) {
  const r1 = await t.api('POST', `/sandbox/${account}/inbound`, { from: '+14155556001', media: { url: 'https://media.example.com/p/cat.jpg', caption: 'cap' } })
  const r2 = await t.api('POST', `/sandbox/${account}/inbound`, { from: '+14155556001', button: { text: 'Yes', payload: 'yes-payload' } })
  const r3 = await t.api('POST', `/sandbox/${account}/inbound`, { from: '+14155556001', media: { url: 'https://media.example.com/p/doc.pdf', filename: 'doc.pdf' } })
  const r4 = await t.api('POST', `/sandbox/${account}/inbound`, { from: '+5535987654321', text: 'oi' })
  console.log(account, r1.status, r2.status, r3.status, r4.status, r1.text.slice(0,200))
  await sleep(800)
  const ev = await t.api('GET', `/v1/events?type=message.inbound&topic=incoming.${account}.>&limit=100`)
  for (const e of ev.json.data) { const { id, account: a, direction, contact_id, created_at, updated_at, history, attempts, duplicate_risk, metadata, status, reply_ref, topic, ...m } = e.data.message; console.log('  ', e.topic, JSON.stringify(m).slice(0, 400), JSON.stringify(e.data.contact?.urns)) }
  // Brazil outbound
  const s = await t.api('POST', '/v1/messages', { account, to: '+5535987654321', type: 'text', text: 'ola' })
  await sleep(1500)
  const m = await t.api('GET', `/v1/messages/${s.json.id}`)
  const c = await t.api('GET', `/v1/contacts/${m.json.contact_id}`)
  console.log('  BR', s.status, m.json.status, JSON.stringify(m.json.error), JSON.stringify(c.json.urns ?? c.json))
}
await t.close()
