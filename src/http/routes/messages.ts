import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { MESSAGE_STATUSES } from '../../domain/status.js'
import type { Idempotency } from '../../engine/idempotency.js'
import type { AcceptedBody, MessageService } from '../../engine/messages.js'
import { parseSendRequest, sendRequestDoc } from '../../engine/send-request.js'
import type { Tx } from '../../store/db.js'
import { parseWith } from '../validate.js'

const listQuery = z.object({
  account: z.string().max(64).optional(),
  contact: z.string().max(64).optional(),
  direction: z.enum(['in', 'out']).optional(),
  status: z.enum([...MESSAGE_STATUSES, 'received']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().max(64).optional(),
})

/** Sending and reading messages (DESIGN §11). */
export function messageRoutes(app: FastifyInstance, deps: { messages: MessageService; idempotency: Idempotency }) {
  const { messages, idempotency } = deps

  app.post(
    '/v1/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Send a message (202: accepted, durable, queued)',
        description: 'Optional header Idempotency-Key: the same key and body replay the first response; another body is a 422; still in flight is a 409.',
        body: sendRequestDoc,
      },
    },
    async (req, reply) => {
      const key = req.headers['idempotency-key']
      const idemKey = Array.isArray(key) ? key[0] : key
      const tenantId = req.tenant.id
      let since: number | undefined
      if (idemKey !== undefined) {
        const started = await idempotency.begin(tenantId, idemKey, req.body)
        if (started.kind === 'replay') return reply.code(started.status).header('idempotent-replayed', 'true').send(started.body)
        since = started.since
      }
      try {
        const request = parseSendRequest(req.body)
        // The stored response commits with the message: a crash cannot leave one without the other.
        const remember = idemKey !== undefined && since !== undefined ? (tx: Tx, body: AcceptedBody) => idempotency.completeIn(tx, tenantId, idemKey, since as number, 202, body) : undefined
        const { envelopes: _events, ...body } = await messages.accept(tenantId, request, req.tenant.defaultCountry, remember)
        return reply.code(202).send(body)
      } catch (err) {
        if (idemKey !== undefined && since !== undefined) await idempotency.abandon(tenantId, idemKey, since).catch(() => undefined)
        throw err
      }
    },
  )

  app.get('/v1/messages/:id', { schema: { tags: ['messages'], summary: 'A message with its status history and error' } }, async (req) => {
    const { id } = parseWith(z.object({ id: z.string().min(1).max(64) }), req.params, 'params')
    return messages.get(req.tenant.id, id)
  })

  app.get('/v1/messages', { schema: { tags: ['messages'], summary: 'List messages, newest first', querystring: listQuery } }, async (req) => {
    const q = parseWith(listQuery, req.query, 'query')
    return messages.list(req.tenant.id, q)
  })
}
