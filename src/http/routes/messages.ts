import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { MESSAGE_STATUSES } from '../../domain/status.js'
import type { Idempotency } from '../../engine/idempotency.js'
import type { MessageService } from '../../engine/messages.js'
import { parseSendRequest, sendRequestDoc } from '../../engine/send-request.js'
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
      if (idemKey !== undefined) {
        const started = await idempotency.begin(req.tenant.id, idemKey, req.body)
        if (started.kind === 'replay') return reply.code(started.status).header('idempotent-replayed', 'true').send(started.body)
      }
      try {
        const request = parseSendRequest(req.body)
        const accepted = await messages.accept(req.tenant.id, request, req.tenant.defaultCountry)
        const body = { id: accepted.id, status: accepted.status, ...(accepted.parts ? { parts: accepted.parts } : {}) }
        if (idemKey !== undefined) await idempotency.complete(req.tenant.id, idemKey, 202, body)
        return reply.code(202).send(body)
      } catch (err) {
        if (idemKey !== undefined) await idempotency.abandon(req.tenant.id, idemKey).catch(() => undefined)
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
