import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { RegisterTemplateSchema } from '../../domain/templates.js'
import type { TemplateService } from '../../engine/templates.js'
import { parseWith } from '../validate.js'

const accountParams = z.object({ id: z.string().min(1).max(64) })
const templateParams = accountParams.extend({ name: z.string().min(1).max(512) })

/**
 * The template registry of an account (DESIGN §8). Sends are checked against it once the account
 * has at least one template; Meta accounts fill it from the provider with `…/templates/sync`.
 *
 * @example
 * POST /v1/accounts/acme/templates { "name": "order_update", "language": "en_US", "category": "UTILITY",
 *   "components": [{ "type": "BODY", "text": "Hi {{1}}, order {{2}} shipped" }] }      → 201 { …, parameters: { header: 0, body: 2, buttons: [] } }
 * POST /v1/accounts/acme/templates/sync                                                 → { synced, removed, data }
 * DELETE /v1/accounts/acme/templates/order_update?language=en_US                        → 204
 */
export function templateRoutes(app: FastifyInstance, deps: { templates: TemplateService }) {
  const { templates } = deps

  app.post(
    '/v1/accounts/:id/templates',
    { schema: { tags: ['templates'], summary: 'Register (or replace) a template: name, language, category, and Meta-style components or parameter counts', params: accountParams, body: RegisterTemplateSchema } },
    async (req, reply) => {
      const { id } = parseWith(accountParams, req.params, 'params')
      const input = parseWith(RegisterTemplateSchema, req.body)
      return reply.code(201).send(await templates.register(req.tenant.id, id, input))
    },
  )

  const listQuery = z.object({ name: z.string().min(1).max(512).optional() })
  app.get('/v1/accounts/:id/templates', { schema: { tags: ['templates'], summary: "The account's registered templates", params: accountParams, querystring: listQuery } }, async (req) => {
    const { id } = parseWith(accountParams, req.params, 'params')
    const q = parseWith(listQuery, req.query, 'query')
    return { data: await templates.list(req.tenant.id, id, q.name) }
  })

  const deleteQuery = z.object({ language: z.string().min(2).max(15).optional() })
  app.delete(
    '/v1/accounts/:id/templates/:name',
    { schema: { tags: ['templates'], summary: 'Remove a template (one language with ?language=, else all of them)', params: templateParams, querystring: deleteQuery } },
    async (req, reply) => {
      const { id, name } = parseWith(templateParams, req.params, 'params')
      const q = parseWith(deleteQuery, req.query, 'query')
      await templates.remove(req.tenant.id, id, name, q.language)
      return reply.code(204).send()
    },
  )

  app.post(
    '/v1/accounts/:id/templates/sync',
    { schema: { tags: ['templates'], summary: "Read the provider's templates into the registry (Meta: GET /<waba_id>/message_templates; needs config.waba_id)", params: accountParams } },
    async (req) => {
      const { id } = parseWith(accountParams, req.params, 'params')
      return templates.sync(req.tenant.id, id)
    },
  )
}
