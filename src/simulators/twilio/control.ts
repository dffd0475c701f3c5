import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import type { FaultRule, SimulatedInbound } from '../types.js'
import { twilioSimAccountSchema, type TwilioSimAccount } from './accounts.js'
import { parseJson, readBody, sendJson } from './http.js'

/**
 * The `/_sim/*` control routes, so a simulator running as its own process can be driven over HTTP:
 * POST /_sim/accounts, POST /_sim/inbound, PUT|DELETE /_sim/faults, GET /_sim/sent, GET /_sim/stats.
 */

export interface ControlTarget {
  addAccount(account: TwilioSimAccount): void
  inbound(accountKey: string, message: SimulatedInbound): Promise<{ providerMessageId: string }>
  setFaults(rules: FaultRule[]): void
  clearFaults(): void
  sent(): unknown
  stats(): unknown
}

const faultRuleSchema = z.object({
  kind: z.enum(['not_on_whatsapp', 'rate_limit', 'pair_rate_limit', 'server_error', 'timeout', 'slow']),
  probability: z.number().min(0).max(1).optional(),
  count: z.number().int().nonnegative().optional(),
  delayMs: z.number().nonnegative().optional(),
  recipients: z.array(z.string()).optional(),
})

const faultsSchema = z.union([z.array(faultRuleSchema), z.object({ rules: z.array(faultRuleSchema) })])

const inboundSchema = z.object({
  account: z.string().min(1),
  from: z.string().min(1),
  text: z.string().optional(),
  media: z
    .object({
      url: z.url(),
      mime_type: z.string().optional(),
      caption: z.string().optional(),
      filename: z.string().optional(),
    })
    .optional(),
  button: z.object({ text: z.string(), payload: z.string().optional() }).optional(),
  reply_to: z.string().optional(),
  name: z.string().optional(),
})

/**
 * Handles a `/_sim/*` request.
 *
 * @example
 * if (path.startsWith('/_sim/')) return handleControl(simulator, req, res, path)
 */
export async function handleControl(
  target: ControlTarget,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const method = req.method ?? 'GET'
  const raw = method === 'GET' || method === 'DELETE' ? '' : await readBody(req)
  const body = parseJson(raw)
  const invalid = (error: z.ZodError) => sendJson(res, 400, { error: 'invalid_request', issues: error.issues })

  if (method === 'POST' && path === '/_sim/accounts') {
    const parsed = twilioSimAccountSchema.safeParse(body)
    if (!parsed.success) return invalid(parsed.error)
    target.addAccount(parsed.data)
    return sendJson(res, 201, { ok: true })
  }
  if (method === 'POST' && path === '/_sim/inbound') {
    const parsed = inboundSchema.safeParse(body)
    if (!parsed.success) return invalid(parsed.error)
    const { account, ...message } = parsed.data
    try {
      return sendJson(res, 202, await target.inbound(account, message))
    } catch (error) {
      return sendJson(res, 404, { error: 'unknown_account', message: String(error) })
    }
  }
  if (method === 'PUT' && path === '/_sim/faults') {
    const parsed = faultsSchema.safeParse(body)
    if (!parsed.success) return invalid(parsed.error)
    target.setFaults(Array.isArray(parsed.data) ? parsed.data : parsed.data.rules)
    return sendJson(res, 200, { ok: true })
  }
  if (method === 'DELETE' && path === '/_sim/faults') {
    target.clearFaults()
    return sendJson(res, 200, { ok: true })
  }
  if (method === 'GET' && path === '/_sim/sent') return sendJson(res, 200, target.sent())
  if (method === 'GET' && path === '/_sim/stats') return sendJson(res, 200, target.stats())
  return sendJson(res, 404, { error: 'not_found' })
}
