import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { RefSchema, TtlHoursSchema, TtlMinutesSchema } from '../../engine/routing-refs.js'
import type { SessionService } from '../../engine/sessions.js'
import { parseWith } from '../validate.js'

/**
 * Session and next-reply refs of one (account, contact) (DESIGN §9): what routes the contact's
 * next inbound messages to `incoming.<account>.session.<ref>` / `incoming.<account>.nextreply.<ref>`.
 * `{contact}` is a contact id, a URN or a number; every answer is the current state.
 *
 * @example
 * PUT /v1/sessions/acme/+14155550123 {"ref":"order-42","ttl_hours":2}
 * → 200 { account: 'acme', contact_id: 'ct_…', session: { ref: 'order-42', expires_at: '…' }, nextreply: null }
 */
const params = z.object({ account: z.string().min(1).max(64), contact: z.string().min(1).max(200) })
const sessionBody = z.object({ ref: RefSchema, ttl_hours: TtlHoursSchema.optional() }).strict()
const nextReplyBody = z.object({ ref: RefSchema, ttl_minutes: TtlMinutesSchema.optional() }).strict()

const refView = z.object({ ref: z.string(), expires_at: z.string() }).nullable()
const stateView = z.object({ account: z.string(), contact_id: z.string(), session: refView, nextreply: refView })
const responses = { 200: stateView }

export function sessionRoutes(app: FastifyInstance, deps: { sessions: SessionService }) {
  const { sessions } = deps
  const tags = ['sessions']

  app.get('/v1/sessions/:account/:contact', { schema: { tags, summary: 'The active session and next-reply refs of a contact on an account', params, response: responses } }, async (req) => {
    const p = parseWith(params, req.params, 'params')
    return sessions.get(req.tenant, p.account, p.contact)
  })

  app.put(
    '/v1/sessions/:account/:contact',
    { schema: { tags, summary: 'Set or replace the session ref (TTL in hours, default 24)', params, body: sessionBody, response: responses } },
    async (req) => {
      const p = parseWith(params, req.params, 'params')
      return sessions.setSession(req.tenant, p.account, p.contact, parseWith(sessionBody, req.body))
    },
  )

  app.delete('/v1/sessions/:account/:contact', { schema: { tags, summary: 'Cancel the session (the next-reply ref stays)', params, response: responses } }, async (req) => {
    const p = parseWith(params, req.params, 'params')
    return sessions.cancelSession(req.tenant, p.account, p.contact)
  })

  app.post(
    '/v1/sessions/:account/:contact/move',
    {
      schema: {
        tags,
        summary: 'Move the active session to another ref, keeping its expiry unless ttl_hours is given (409 no_active_session without one)',
        params,
        body: sessionBody,
        response: responses,
      },
    },
    async (req) => {
      const p = parseWith(params, req.params, 'params')
      return sessions.moveSession(req.tenant, p.account, p.contact, parseWith(sessionBody, req.body))
    },
  )

  app.put(
    '/v1/sessions/:account/:contact/nextreply',
    { schema: { tags, summary: 'Set or replace the next-reply ref (TTL in minutes, default 30; consumed by one message)', params, body: nextReplyBody, response: responses } },
    async (req) => {
      const p = parseWith(params, req.params, 'params')
      return sessions.setNextReply(req.tenant, p.account, p.contact, parseWith(nextReplyBody, req.body))
    },
  )

  app.delete('/v1/sessions/:account/:contact/nextreply', { schema: { tags, summary: 'Cancel the next-reply ref (the session stays)', params, response: responses } }, async (req) => {
    const p = parseWith(params, req.params, 'params')
    return sessions.cancelNextReply(req.tenant, p.account, p.contact)
  })
}
