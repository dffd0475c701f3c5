import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { subscriptionsOf } from '../../engine/subscriptions/registry.js'
import { createSubscriptionSchema, deliveriesQuerySchema } from '../../engine/subscriptions/input.js'
import type { SubscriptionService } from '../../engine/subscriptions/service.js'
import type { Store } from '../../store/db.js'
import { parseWith } from '../validate.js'

const idParam = z.object({ id: z.string().min(1).max(64) })
const deliveryParams = idParam.extend({ delivery_id: z.string().min(1).max(64) })
const replayQuery = z.object({ from: z.string().min(1).max(64) })

/**
 * Subscriptions (DESIGN §10, §11): webhook endpoints with topic patterns, their delivery log, a
 * manual retry and a replay from an event cursor. The `secret` appears in the creation answer only.
 */
export function subscriptionRoutes(app: FastifyInstance, deps: { store: Store }) {
  const subs = (): SubscriptionService => {
    const service = subscriptionsOf(deps.store)
    if (!service) throw new Error('no subscription dispatcher is attached to this gateway')
    return service
  }
  const tags = ['subscriptions']

  app.post('/v1/subscriptions', { schema: { tags, summary: 'Subscribe a webhook URL to topic patterns (the secret is shown once)', body: createSubscriptionSchema } }, async (req, reply) => {
    const input = parseWith(createSubscriptionSchema, req.body)
    const { subscription, secret } = await subs().create(req.tenant.id, input)
    return reply.code(201).send({ ...subscription, secret })
  })
  app.get('/v1/subscriptions', { schema: { tags, summary: 'List subscriptions' } }, async (req) => ({ data: await subs().list(req.tenant.id) }))
  app.get('/v1/subscriptions/:id', { schema: { tags, summary: 'Get a subscription', params: idParam } }, async (req) => {
    const { id } = parseWith(idParam, req.params, 'params')
    return subs().get(req.tenant.id, id)
  })
  app.delete('/v1/subscriptions/:id', { schema: { tags, summary: 'Delete a subscription with its delivery log', params: idParam } }, async (req, reply) => {
    const { id } = parseWith(idParam, req.params, 'params')
    await subs().remove(req.tenant.id, id)
    return reply.code(204).send()
  })
  app.post('/v1/subscriptions/:id/enable', { schema: { tags, summary: 'Turn a disabled subscription back on', params: idParam } }, async (req) => {
    const { id } = parseWith(idParam, req.params, 'params')
    return subs().enable(req.tenant.id, id)
  })
  app.get('/v1/subscriptions/:id/deliveries', { schema: { tags, summary: 'Deliveries, newest first, with every attempt (status code, latency)', params: idParam, querystring: deliveriesQuerySchema } }, async (req) => {
    const { id } = parseWith(idParam, req.params, 'params')
    const q = parseWith(deliveriesQuerySchema, req.query, 'query')
    return subs().deliveries(req.tenant.id, id, q)
  })
  app.get('/v1/subscriptions/:id/deliveries/:delivery_id', { schema: { tags, summary: 'One delivery with its attempts', params: deliveryParams } }, async (req) => {
    const { id, delivery_id } = parseWith(deliveryParams, req.params, 'params')
    return subs().delivery(req.tenant.id, id, delivery_id)
  })
  app.post('/v1/subscriptions/:id/deliveries/:delivery_id/retry', { schema: { tags, summary: 'Attempt a delivery again now, with a fresh schedule', params: deliveryParams } }, async (req, reply) => {
    const { id, delivery_id } = parseWith(deliveryParams, req.params, 'params')
    return reply.code(202).send(await subs().retry(req.tenant.id, id, delivery_id))
  })
  app.post('/v1/subscriptions/:id/replay', { schema: { tags, summary: 'Enqueue again the matching events after a cursor of GET /v1/events', params: idParam, querystring: replayQuery } }, async (req, reply) => {
    const { id } = parseWith(idParam, req.params, 'params')
    const { from } = parseWith(replayQuery, req.query, 'query')
    return reply.code(202).send(await subs().replay(req.tenant.id, id, from))
  })
}
