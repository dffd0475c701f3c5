import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { createAccountSchema, updateAccountSchema, type AccountService } from '../../engine/accounts.js'
import { parseWith } from '../validate.js'

const idParam = z.object({ id: z.string().min(1).max(64) })

/** Accounts CRUD (DESIGN §11). Secrets given in `config` are never returned. */
export function accountRoutes(app: FastifyInstance, deps: { accounts: AccountService }) {
  const { accounts } = deps
  app.post('/v1/accounts', { schema: { tags: ['accounts'], summary: 'Create an account (one sender on one provider)', body: createAccountSchema } }, async (req, reply) => {
    const input = parseWith(createAccountSchema, req.body)
    const account = await accounts.create(req.tenant.id, input)
    return reply.code(201).send(accounts.view(account))
  })
  app.get('/v1/accounts', { schema: { tags: ['accounts'], summary: 'List accounts' } }, async (req) => ({
    data: (await accounts.list(req.tenant.id)).map(accounts.view),
  }))
  app.get('/v1/accounts/:id', { schema: { tags: ['accounts'], summary: 'Get an account by id or name', params: idParam } }, async (req) => {
    const { id } = parseWith(idParam, req.params, 'params')
    return accounts.view(await accounts.get(req.tenant.id, id))
  })
  app.patch('/v1/accounts/:id', { schema: { tags: ['accounts'], summary: 'Change an account (config keys are merged)', params: idParam, body: updateAccountSchema } }, async (req) => {
    const { id } = parseWith(idParam, req.params, 'params')
    const input = parseWith(updateAccountSchema, req.body)
    return accounts.view(await accounts.update(req.tenant.id, id, input))
  })
  app.delete('/v1/accounts/:id', { schema: { tags: ['accounts'], summary: 'Delete an account that has no messages', params: idParam } }, async (req, reply) => {
    const { id } = parseWith(idParam, req.params, 'params')
    await accounts.remove(req.tenant.id, id)
    return reply.code(204).send()
  })
}
