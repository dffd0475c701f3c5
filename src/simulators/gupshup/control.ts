import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import { jsonBody, readBody, sendJson } from './http.js'
import type { GupshupSimulator } from './types.js'

/**
 * `/_sim/*` routes, so a test or benchmark in another process can drive the simulator:
 * POST /_sim/apps, POST /_sim/inbound, PUT|DELETE /_sim/faults, GET /_sim/sent, GET /_sim/stats,
 * POST /_sim/opt-out.
 */

const appSchema = z.object({
  appName: z.string().min(1),
  apiKey: z.string().min(1),
  sourceNumber: z.string().regex(/^\d{8,15}$/),
  callbackUrl: z.url(),
})

const inboundSchema = z.object({
  account: z.string().min(1),
  from: z.string().min(1),
  text: z.string().optional(),
  media: z.object({ url: z.string().min(1), mime_type: z.string().optional(), caption: z.string().optional(), filename: z.string().optional() }).optional(),
  button: z.object({ text: z.string().min(1), payload: z.string().optional() }).optional(),
  reply_to: z.string().optional(),
  name: z.string().optional(),
})

const faultRule = z.object({
  kind: z.enum(['not_on_whatsapp', 'rate_limit', 'pair_rate_limit', 'server_error', 'timeout', 'slow']),
  probability: z.number().min(0).max(1).optional(),
  count: z.number().int().nonnegative().optional(),
  delayMs: z.number().int().nonnegative().optional(),
  recipients: z.array(z.string()).optional(),
})
const faultsSchema = z.union([z.array(faultRule), z.object({ rules: z.array(faultRule) }).transform((b) => b.rules)])

const optOutSchema = z.object({ account: z.string().min(1), number: z.string().min(1) })

const problem = (message: string) => ({ status: 'error', message })

/**
 * @example
 * if (path.startsWith('/_sim/')) return handleControl(sim, path, req, res)
 */
export async function handleControl(sim: GupshupSimulator, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req)
  const body = raw === undefined ? undefined : jsonBody(raw)
  const route = `${req.method ?? ''} ${path}`
  switch (route) {
    case 'POST /_sim/apps': {
      const app = appSchema.safeParse(body)
      if (!app.success) return sendJson(res, 400, problem(z.prettifyError(app.error)))
      sim.addApp(app.data)
      return sendJson(res, 201, { status: 'success', app: app.data.appName })
    }
    case 'POST /_sim/inbound': {
      const parsed = inboundSchema.safeParse(body)
      if (!parsed.success) return sendJson(res, 400, problem(z.prettifyError(parsed.error)))
      const { account, ...message } = parsed.data
      try {
        return sendJson(res, 200, await sim.inbound(account, message))
      } catch (err) {
        return sendJson(res, isUnknownApp(err) ? 404 : 400, problem(err instanceof Error ? err.message : String(err)))
      }
    }
    case 'PUT /_sim/faults': {
      const rules = faultsSchema.safeParse(body)
      if (!rules.success) return sendJson(res, 400, problem(z.prettifyError(rules.error)))
      sim.setFaults(rules.data)
      return sendJson(res, 200, { status: 'success', rules: rules.data.length })
    }
    case 'DELETE /_sim/faults':
      sim.clearFaults()
      return sendJson(res, 200, { status: 'success' })
    case 'GET /_sim/sent':
      return sendJson(res, 200, sim.sent())
    case 'GET /_sim/stats':
      return sendJson(res, 200, sim.stats())
    case 'POST /_sim/opt-out': {
      const parsed = optOutSchema.safeParse(body)
      if (!parsed.success) return sendJson(res, 400, problem(z.prettifyError(parsed.error)))
      try {
        await sim.optOut(parsed.data.account, parsed.data.number)
        return sendJson(res, 200, { status: 'success' })
      } catch (err) {
        return sendJson(res, isUnknownApp(err) ? 404 : 400, problem(err instanceof Error ? err.message : String(err)))
      }
    }
    default:
      return sendJson(res, 404, problem(`no control route ${route}`))
  }
}

/** Raised by the simulator for an app name it does not know. */
export class UnknownAppError extends Error {
  constructor(appName: string) {
    super(`unknown Gupshup app: ${appName}`)
    this.name = 'UnknownAppError'
  }
}

const isUnknownApp = (err: unknown) => err instanceof UnknownAppError
