import type { FastifyInstance, FastifyReply } from 'fastify'
import { z } from 'zod'
import type { SimCore } from './core.js'

/**
 * `/_sim/*` routes, so a simulator running in its own process (benchmarks) can be driven over HTTP
 * exactly like the in-process object.
 */

export const metaSimAccountSchema = z.object({
  phoneNumberId: z.string().min(1),
  displayPhoneNumber: z.string().regex(/^\d+$/),
  accessToken: z.string().min(1),
  appSecret: z.string().min(1),
  webhookUrl: z.url(),
  wabaId: z.string().min(1).optional(),
})

export const simulatedInboundSchema = z
  .object({
    from: z.string().min(1),
    text: z.string().optional(),
    media: z
      .object({
        url: z.string().min(1),
        mime_type: z.string().optional(),
        caption: z.string().optional(),
        filename: z.string().optional(),
      })
      .optional(),
    button: z.object({ text: z.string().min(1), payload: z.string().optional() }).optional(),
    reply_to: z.string().min(1).optional(),
    name: z.string().optional(),
  })
  .refine((m) => m.text !== undefined || m.media !== undefined || m.button !== undefined, {
    message: 'one of text, media or button is required',
  })

export const faultRuleSchema = z.object({
  kind: z.enum(['not_on_whatsapp', 'rate_limit', 'pair_rate_limit', 'server_error', 'timeout', 'slow']),
  probability: z.number().min(0).max(1).optional(),
  count: z.number().int().min(0).optional(),
  delayMs: z.number().int().min(0).optional(),
  recipients: z.array(z.string()).optional(),
})

const inboundRequestSchema = z.intersection(z.object({ account: z.string().min(1) }), simulatedInboundSchema)

function badRequest(reply: FastifyReply, error: z.ZodError): FastifyReply {
  return reply.code(400).send({ error: z.prettifyError(error) })
}

/**
 * @example
 * registerControlRoutes(app, core)
 * // curl -X PUT $SIM/_sim/faults -d '{"rules":[{"kind":"rate_limit","count":1}]}'
 */
export function registerControlRoutes(app: FastifyInstance, core: SimCore): void {
  app.post('/_sim/accounts', async (req, reply) => {
    const parsed = metaSimAccountSchema.safeParse(req.body)
    if (!parsed.success) return badRequest(reply, parsed.error)
    core.addAccount(parsed.data)
    return reply.code(201).send({ ok: true, phoneNumberId: parsed.data.phoneNumberId })
  })

  app.post('/_sim/inbound', async (req, reply) => {
    const parsed = inboundRequestSchema.safeParse(req.body)
    if (!parsed.success) return badRequest(reply, parsed.error)
    const { account, ...message } = parsed.data
    if (!core.accounts.has(account)) return reply.code(404).send({ error: `unknown account ${account}` })
    return reply.send(await core.inbound(account, message))
  })

  app.put('/_sim/faults', async (req, reply) => {
    const parsed = z.object({ rules: z.array(faultRuleSchema) }).safeParse(req.body)
    if (!parsed.success) return badRequest(reply, parsed.error)
    core.faults.set(parsed.data.rules)
    return reply.code(204).send()
  })

  app.delete('/_sim/faults', async (_req, reply) => {
    core.faults.clear()
    return reply.code(204).send()
  })

  app.get('/_sim/sent', async (_req, reply) => reply.send(core.records))
  app.get('/_sim/stats', async (_req, reply) => reply.send(core.stats))
}
