import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { createRuleSchema, runsQuerySchema } from '../../engine/rules/input.js'
import { rulesOf } from '../../engine/rules/registry.js'
import type { RuleService } from '../../engine/rules/service.js'
import type { Store } from '../../store/db.js'
import { parseWith } from '../validate.js'

const idParam = z.object({ id: z.string().min(1).max(64) })

/**
 * Rules (DESIGN §2, §13): when an event matches topic patterns and conditions, run actions
 * (fallback_send, stop_contact, mark_urn_unreachable, add_urn, webhook). The `secret` that signs
 * the rule's webhook actions appears in the creation answer only.
 */
export function ruleRoutes(app: FastifyInstance, deps: { store: Store }) {
  const rules = (): RuleService => {
    const service = rulesOf(deps.store)
    if (!service) throw new Error('no rule runner is attached to this gateway')
    return service
  }
  const tags = ['rules']

  app.post('/v1/rules', { schema: { tags, summary: 'Create a rule: topic patterns, conditions, actions (the webhook secret is shown once)', body: createRuleSchema } }, async (req, reply) => {
    const input = parseWith(createRuleSchema, req.body)
    const { rule, secret } = await rules().create(req.tenant.id, input)
    return reply.code(201).send({ ...rule, secret })
  })
  app.get('/v1/rules', { schema: { tags, summary: 'List rules' } }, async (req) => ({ data: await rules().list(req.tenant.id) }))
  app.get('/v1/rules/:id', { schema: { tags, summary: 'Get a rule with its run counts', params: idParam } }, async (req) => {
    const { id } = parseWith(idParam, req.params, 'params')
    return rules().get(req.tenant.id, id)
  })
  app.get('/v1/rules/:id/runs', { schema: { tags, summary: "The rule's runs, newest first, with each action's outcome", params: idParam, querystring: runsQuerySchema } }, async (req) => {
    const { id } = parseWith(idParam, req.params, 'params')
    const q = parseWith(runsQuerySchema, req.query, 'query')
    return rules().runs(req.tenant.id, id, q)
  })
  app.delete('/v1/rules/:id', { schema: { tags, summary: 'Delete a rule with its run log', params: idParam } }, async (req, reply) => {
    const { id } = parseWith(idParam, req.params, 'params')
    await rules().remove(req.tenant.id, id)
    return reply.code(204).send()
  })
}
