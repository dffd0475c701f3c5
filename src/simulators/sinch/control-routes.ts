import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import { parseJson, readBody, sendJson, SimRequestError } from './http.js'
import type { SinchSimulator } from './types.js'

/**
 * `/_sim/*` control routes, so a separate process (benchmarks, the sandbox) can drive the simulator:
 * POST /_sim/apps, POST /_sim/inbound, PUT|DELETE /_sim/faults, GET /_sim/sent, GET /_sim/stats,
 * POST /_sim/opt-out.
 */

/** A SinchSimApp as JSON (control route body, SINCH_SIM_APPS). */
export const sinchSimAppSchema = z.object({
  projectId: z.string().min(1),
  appId: z.string().min(1),
  keyId: z.string().min(1),
  keySecret: z.string().min(1),
  webhookUrl: z.string().min(1),
  webhookSecret: z.string().min(1).optional(),
  senderNumber: z.string().min(1),
})

const inboundSchema = z.object({
  account: z.string().min(1),
  from: z.string().min(1),
  text: z.string().optional(),
  media: z
    .object({ url: z.string().min(1), mime_type: z.string().optional(), caption: z.string().optional(), filename: z.string().optional() })
    .optional(),
  button: z.object({ text: z.string(), payload: z.string().optional() }).optional(),
  reply_to: z.string().optional(),
  name: z.string().optional(),
})

const faultSchema = z.object({
  kind: z.enum(['not_on_whatsapp', 'rate_limit', 'pair_rate_limit', 'server_error', 'timeout', 'slow']),
  probability: z.number().min(0).max(1).optional(),
  count: z.number().int().nonnegative().optional(),
  delayMs: z.number().nonnegative().optional(),
  recipients: z.array(z.string()).optional(),
})
const faultsSchema = z.union([z.array(faultSchema), z.object({ rules: z.array(faultSchema) })])

const optSchema = z.object({ account: z.string().min(1), number: z.string().min(1), opt_in: z.boolean().optional() })

/** Drops keys whose value is undefined (the public types use exactOptional-style fields). */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

async function bodyOf<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  const json = parseJson(await readBody(req))
  if (!json.ok) return { ok: false, error: 'body is not JSON' }
  const parsed = schema.safeParse(json.value)
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') }
  return { ok: true, value: parsed.data }
}

export async function handleControl(sim: SinchSimulator, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = `${req.method ?? ''} ${path}`
  switch (route) {
    case 'GET /_sim/sent':
      return sendJson(res, 200, sim.sent())
    case 'GET /_sim/stats':
      return sendJson(res, 200, sim.stats())
    case 'DELETE /_sim/faults':
      sim.clearFaults()
      return sendJson(res, 204, undefined)
    case 'PUT /_sim/faults': {
      const body = await bodyOf(req, faultsSchema)
      if (!body.ok) return sendJson(res, 400, { error: body.error })
      sim.setFaults((Array.isArray(body.value) ? body.value : body.value.rules).map(defined))
      return sendJson(res, 204, undefined)
    }
    case 'POST /_sim/apps': {
      const body = await bodyOf(req, sinchSimAppSchema)
      if (!body.ok) return sendJson(res, 400, { error: body.error })
      sim.addApp(defined(body.value))
      return sendJson(res, 201, { appId: body.value.appId })
    }
    case 'POST /_sim/inbound': {
      const body = await bodyOf(req, inboundSchema)
      if (!body.ok) return sendJson(res, 400, { error: body.error })
      const { account, ...message } = body.value
      try {
        return sendJson(res, 200, await sim.inbound(account, defined(message)))
      } catch (err) {
        return sendJson(res, err instanceof SimRequestError ? err.status : 500, { error: (err as Error).message })
      }
    }
    case 'POST /_sim/opt-out': {
      const body = await bodyOf(req, optSchema)
      if (!body.ok) return sendJson(res, 400, { error: body.error })
      try {
        const result = body.value.opt_in
          ? await sim.optIn(body.value.account, body.value.number)
          : await sim.optOut(body.value.account, body.value.number)
        return sendJson(res, 200, result)
      } catch (err) {
        return sendJson(res, err instanceof SimRequestError ? err.status : 500, { error: (err as Error).message })
      }
    }
    default:
      return sendJson(res, 404, { error: `no control route ${route}` })
  }
}
