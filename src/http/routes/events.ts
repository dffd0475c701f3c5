import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { isValidPattern } from '../../domain/topics.js'
import { ApiError } from '../../engine/api-error.js'
import { cursor, listEvents } from '../../engine/events.js'
import type { Store } from '../../store/db.js'
import { parseWith } from '../validate.js'

const eventsQuery = z.object({
  after: z.string().max(64).optional(),
  type: z.string().max(64).optional(),
  topic: z.string().max(512).refine(isValidPattern, 'not a valid topic pattern (tokens separated by ".", "*" for one token, ">" last for the rest)').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})

/** The event log, read by cursor (DESIGN §10). `next_cursor` resumes after the last event returned. */
export function eventRoutes(app: FastifyInstance, deps: { store: Store }) {
  app.get('/v1/events', { schema: { tags: ['events'], summary: 'Read the event log after a cursor', querystring: eventsQuery } }, async (req) => {
    const q = parseWith(eventsQuery, req.query, 'query')
    const afterSeq = q.after ? cursor.decode(q.after) : 0
    if (afterSeq === undefined) throw new ApiError('invalid_cursor', 'after: use a next_cursor value returned by this endpoint')
    return listEvents(deps.store, req.tenant.id, q, afterSeq)
  })
}
