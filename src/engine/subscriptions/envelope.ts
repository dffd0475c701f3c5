import type { EventTable } from '../../store/schema.js'
import { iso } from '../clock.js'

/**
 * The JSON body of one event, exactly the shape of a GET /v1/events item (DESIGN §10). The stored
 * `data` text is spliced in as is: what was committed is what is signed and sent.
 *
 * @example
 * envelopeJson(row) // '{"id":"evt_…","type":"message.status","topic":"message.acme.read","created_at":"…","account":"acme","data":{…}}'
 */
export type EventRow = Pick<EventTable, 'id' | 'type' | 'topic' | 'account' | 'created_at' | 'data'>

export function envelopeJson(row: EventRow): string {
  const head = JSON.stringify({ id: row.id, type: row.type, topic: row.topic, created_at: iso(Number(row.created_at)), account: row.account })
  return `${head.slice(0, -1)},"data":${row.data}}`
}
