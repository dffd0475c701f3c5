import { request } from 'undici'
import { z } from 'zod'
import { SendError, errorCodeForHttpStatus, type ErrorCode } from '../../domain/errors.js'
import type { OutboundMessage, SendContext, SendResult } from '../types.js'
import { buildMetaBody } from './body.js'
import type { MetaConfig } from './config.js'
import { META_ERROR_CODES } from './errors.js'

const successSchema = z.object({
  messages: z.array(z.object({ id: z.string().min(1), message_status: z.string().optional() })).min(1),
  contacts: z
    .array(z.object({ input: z.string().optional(), wa_id: z.string().optional(), user_id: z.string().optional() }))
    .optional(),
})

const errorSchema = z.object({
  error: z.object({
    code: z.union([z.number().int(), z.string().regex(/^\d+$/)]),
    message: z.string().optional(),
    error_data: z.object({ details: z.string().optional() }).optional(),
  }),
})

/** Failures before the request could have reached Meta: resending cannot duplicate anything. */
const CONNECT_ERROR_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])

function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') return code
  return errorCodeOf((err as { cause?: unknown }).cause)
}

/** Retry-After is either delta-seconds or an HTTP date. */
function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function errorFromResponse(status: number, json: unknown, retryAfter: number | undefined): SendError {
  const parsed = errorSchema.safeParse(json)
  if (!parsed.success) {
    return new SendError({ code: errorCodeForHttpStatus(status), httpStatus: status, retryAfterMs: retryAfter, providerMessage: `HTTP ${status}` })
  }
  const { code, message, error_data } = parsed.data.error
  let normalized: ErrorCode = META_ERROR_CODES[String(code)] ?? 'unknown'
  // an unlisted code still tells us something when the HTTP status says "slow down" or "try later"
  if (normalized === 'unknown' && (status === 429 || status >= 500)) normalized = errorCodeForHttpStatus(status)
  return new SendError({
    code: normalized,
    providerCode: code,
    providerMessage: error_data?.details ?? message,
    httpStatus: status,
    retryAfterMs: retryAfter,
  })
}

/**
 * Sends one message through the Cloud API and reads Meta's answer. Resolves with the wamid (and the
 * wa_id / user_id Meta resolved the recipient to); throws `SendError` for every failure, including
 * transport errors (`transient`) and timeouts (`transient`, `maybeDelivered`).
 *
 * @example
 * const result = await sendMetaMessage(config, message, { timeoutMs: 10_000 })
 * result.providerMessageId // 'wamid.HBgL…'
 */
export async function sendMetaMessage(config: MetaConfig, message: OutboundMessage, ctx: SendContext): Promise<SendResult> {
  const body = JSON.stringify(buildMetaBody(message))
  const url = `${config.base_url}/${config.api_version}/${config.phone_number_id}/messages`
  const signal = AbortSignal.timeout(ctx.timeoutMs)
  let status: number
  let text: string
  let retryAfterHeader: string | string[] | undefined
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.access_token}`, 'content-type': 'application/json' },
      body,
      signal,
      ...(ctx.dispatcher ? { dispatcher: ctx.dispatcher } : {}),
    })
    status = res.statusCode
    retryAfterHeader = res.headers['retry-after']
    text = await res.body.text()
  } catch (err) {
    if (signal.aborted) {
      throw new SendError({ code: 'transient', providerMessage: `no answer within ${ctx.timeoutMs} ms`, maybeDelivered: true })
    }
    const code = errorCodeOf(err)
    const beforeSending = code !== undefined && CONNECT_ERROR_CODES.has(code)
    throw new SendError({
      code: 'transient',
      providerMessage: `connection failed: ${code ?? (err instanceof Error ? err.message : 'unknown error')}`,
      maybeDelivered: !beforeSending,
    })
  }

  const json = parseJson(text)
  if (status < 200 || status >= 300) throw errorFromResponse(status, json, retryAfterMs(retryAfterHeader))

  const parsed = successSchema.safeParse(json)
  if (!parsed.success) {
    throw new SendError({ code: 'unknown', httpStatus: status, providerMessage: 'unexpected success body from Meta' })
  }
  const [first] = parsed.data.messages
  const contact = parsed.data.contacts?.[0]
  return {
    providerMessageId: first?.id ?? '',
    ...(contact?.wa_id ? { waId: contact.wa_id } : {}),
    ...(contact?.user_id ? { userId: contact.user_id } : {}),
    ...(first?.message_status ? { providerStatus: first.message_status } : {}),
    raw: json,
  }
}
