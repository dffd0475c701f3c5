import { request } from 'undici'
import { z } from 'zod'
import { SendError } from '../../domain/errors.js'
import type { AccountContext, OutboundMessage, SendContext, SendResult } from '../types.js'
import { sourceNumberOf, type GupshupConfig } from './config.js'
import { sendErrorFromResponse } from './errors.js'
import { buildRequest, destinationOf } from './outbound.js'

/** `{"status":"submitted","messageId":…}` on success, `{"status":"error","message":…}` otherwise. */
const SendResponseSchema = z.object({
  status: z.string().optional(),
  messageId: z.string().min(1).optional(),
  message: z.string().optional(),
})

/** Failures where the request cannot have reached Gupshup, so a retry cannot send twice. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])

function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const own = (err as { code?: unknown }).code
  if (typeof own === 'string') return own
  return errorCodeOf((err as { cause?: unknown }).cause)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined) return undefined
  const seconds = Number(value)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined
}

/**
 * Sends one message through Gupshup's v1 API: a form POST with the `apikey` header. Resolves with
 * Gupshup's message id (the `gsId` of later events) or throws a `SendError`.
 *
 * @example
 * const result = await sendGupshup(account, { id: 'msg_1', to: { phone: '+919876543210' }, content: { type: 'text', text: 'Hi' }, attempt: 1 }, { timeoutMs: 10_000 })
 * result.providerMessageId // '3867730a-bb97-4ea5-bad6-e6e34201ce89'
 */
export async function sendGupshup(
  account: AccountContext<GupshupConfig>,
  message: OutboundMessage,
  ctx: SendContext,
): Promise<SendResult> {
  const { config } = account
  const built = buildRequest(message)
  const form = new URLSearchParams()
  form.append('channel', 'whatsapp')
  form.append('source', sourceNumberOf(config, account.phoneNumber))
  form.append('destination', destinationOf(message.to))
  form.append('src.name', config.app_name)
  for (const [name, value] of built.fields) form.append(name, value)

  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), ctx.timeoutMs)
  let status: number
  let text: string
  let headers: Record<string, string | string[] | undefined>
  try {
    const res = await request(`${config.base_url}${built.path}`, {
      method: 'POST',
      headers: {
        apikey: config.api_key,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      signal: abort.signal,
      ...(ctx.dispatcher ? { dispatcher: ctx.dispatcher } : {}),
    })
    status = res.statusCode
    headers = res.headers
    text = await res.body.text()
  } catch (err) {
    if (abort.signal.aborted) {
      throw new SendError({ code: 'transient', providerMessage: `no answer within ${ctx.timeoutMs} ms`, maybeDelivered: true })
    }
    const code = errorCodeOf(err)
    throw new SendError({
      code: 'transient',
      providerMessage: code ?? (err instanceof Error ? err.message : 'connection failed'),
      maybeDelivered: code === undefined || !NOT_CONNECTED.has(code),
    })
  } finally {
    clearTimeout(timer)
  }

  const parsed = SendResponseSchema.safeParse(parseJson(text))
  const body = parsed.success ? parsed.data : undefined
  const raw: unknown = parsed.success ? parseJson(text) : text

  if (status >= 200 && status < 300) {
    if (body?.status === 'submitted' && body.messageId) {
      return { providerMessageId: body.messageId, providerStatus: 'submitted', raw }
    }
    if (body?.status === 'error') throw sendErrorFromResponse(status, body.message)
    // A 2xx we cannot read may still have been accepted: a retry could send it twice.
    throw new SendError({ code: 'unknown', httpStatus: status, providerMessage: text.slice(0, 200), maybeDelivered: true })
  }

  throw sendErrorFromResponse(status, body?.message ?? (text ? text.slice(0, 200) : undefined), retryAfterMs(headers['retry-after']))
}
