import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { Account, AccountService } from '../../engine/accounts.js'
import { ApiError } from '../../engine/api-error.js'
import type { SimulatedInbound } from '../../simulators/types.js'
import { parseWith } from '../validate.js'

export interface SandboxHooks {
  /** Makes a simulated contact send `message` to the account through its provider's simulator. */
  inbound(account: Account, message: SimulatedInbound): Promise<{ providerMessageId: string }>
}

const inboundBody = z
  .object({
    from: z.string().min(3).max(32),
    text: z.string().min(1).max(4096).optional(),
    media: z.object({ url: z.url(), mime_type: z.string().max(127).optional(), caption: z.string().max(1024).optional(), filename: z.string().max(240).optional() }).strict().optional(),
    button: z.object({ text: z.string().min(1).max(256), payload: z.string().max(1024).optional() }).strict().optional(),
    reply_to: z.string().min(1).max(256).optional(),
    name: z.string().max(256).optional(),
  })
  .strict()
  .refine((b) => Boolean(b.text) || Boolean(b.media) || Boolean(b.button), { message: 'give text, media or button' })

/** `POST /sandbox/{account}/inbound`: a simulated contact writes to a sandbox account (DESIGN §11). */
export function sandboxRoutes(app: FastifyInstance, deps: { accounts: AccountService; sandbox: SandboxHooks }) {
  app.post('/sandbox/:account/inbound', { schema: { tags: ['sandbox'], summary: 'Make a simulated contact send a message to a sandbox account', body: inboundBody } }, async (req, reply) => {
    const { account: name } = parseWith(z.object({ account: z.string().min(1).max(64) }), req.params, 'params')
    const body = parseWith(inboundBody, req.body)
    const account = await deps.accounts.get(req.tenant.id, name)
    if (!account.settings.sandbox) throw new ApiError('not_a_sandbox_account', `account "${name}" is not a sandbox account`)
    // A wagate id (msg_…) is turned into the provider's id by the sandbox hook.
    const replyTo = body.reply_to
    const message: SimulatedInbound = {
      from: body.from,
      ...(body.text ? { text: body.text } : {}),
      ...(body.media ? { media: body.media } : {}),
      ...(body.button ? { button: body.button } : {}),
      ...(replyTo ? { reply_to: replyTo } : {}),
      ...(body.name ? { name: body.name } : {}),
    }
    const result = await deps.sandbox.inbound(account, message)
    return reply.code(202).send({ provider_message_id: result.providerMessageId })
  })
}
