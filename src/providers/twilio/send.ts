import { request } from 'undici'
import { z } from 'zod'
import { SendError } from '../../domain/errors.js'
import type { AccountContext, OutboundMessage, SendContext, SendResult } from '../types.js'
import { basicAuthHeader, type TwilioConfig } from './config.js'
import { restErrorCode } from './errors.js'
import { buildMessageForm } from './form.js'

/** The Message resource fields we read from a 201 (twilio.md §1). */
const MessageResourceSchema = z.object({
  sid: z.string().min(1),
  status: z.string().optional(),
})

/** REST error body: `{code, message, more_info, status}` (twilio.md §1). */
const RestErrorSchema = z.object({
  code: z.number().int().optional(),
  message: z.string().optional(),
})

/** The Messages resource of an account; the Account SID is in the path even with an API key. */
export function messagesUrl(config: TwilioConfig): string {
  return `${config.base_url}/2010-04-01/Accounts/${encodeURIComponent(config.account_sid)}/Messages.json`
}

/**
 * Sends one message through the Messages API.
 *
 * @example
 * const result = await sendTwilioMessage(account, message, { timeoutMs: 10_000 })
 * result.providerMessageId // 'SM…'
 */
export async function sendTwilioMessage(
  account: AccountContext<TwilioConfig>,
  message: OutboundMessage,
  ctx: SendContext,
): Promise<SendResult> {
  const form = buildMessageForm(account, message)
  let status: number
  let headers: Record<string, string | string[] | undefined>
  let text: string
  try {
    const res = await request(messagesUrl(account.config), {
      method: 'POST',
      headers: {
        authorization: basicAuthHeader(account.config),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      signal: AbortSignal.timeout(ctx.timeoutMs),
      ...(ctx.dispatcher !== undefined ? { dispatcher: ctx.dispatcher } : {}),
    })
    status = res.statusCode
    headers = res.headers
    text = await res.body.text()
  } catch (err) {
    throw transportError(err)
  }

  if (status >= 200 && status < 300) return successResult(status, text)
  throw restError(status, headers, text)
}

function successResult(status: number, text: string): SendResult {
  const json = parseJson(text)
  const parsed = MessageResourceSchema.safeParse(json)
  if (!parsed.success) {
    // Twilio took the request but we cannot tell which message it made: a retry may duplicate it.
    throw new SendError({
      code: 'transient',
      httpStatus: status,
      providerMessage: 'Twilio answered 2xx without a message sid',
      maybeDelivered: true,
    })
  }
  return {
    providerMessageId: parsed.data.sid,
    ...(parsed.data.status !== undefined ? { providerStatus: parsed.data.status } : {}),
    raw: json,
  }
}

function restError(status: number, headers: Record<string, string | string[] | undefined>, text: string): SendError {
  const parsed = RestErrorSchema.safeParse(parseJson(text))
  const body = parsed.success ? parsed.data : {}
  const retryAfterMs = retryAfter(headers['retry-after'])
  return new SendError({
    code: restErrorCode(status, body.code),
    httpStatus: status,
    ...(body.code !== undefined ? { providerCode: body.code } : {}),
    providerMessage: body.message ?? (text.slice(0, 300) || `HTTP ${status}`),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  })
}

// Errors raised before the connection exists: the request cannot have reached Twilio.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_INVALID_ARG'])

function transportError(err: unknown): SendError {
  const code = errorProperty(err, 'code') ?? errorProperty(errorCause(err), 'code')
  const name = errorProperty(err, 'name')
  const message = err instanceof Error ? err.message : String(err)
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new SendError({ code: 'transient', providerMessage: `timed out: ${message}`, maybeDelivered: true })
  }
  return new SendError({
    code: 'transient',
    providerMessage: `connection failed: ${message}`,
    maybeDelivered: code === undefined || !NOT_SENT.has(code),
  })
}

function errorProperty(err: unknown, key: 'code' | 'name'): string | undefined {
  if (typeof err !== 'object' || err === null || !(key in err)) return undefined
  const value = (err as Record<string, unknown>)[key]
  return typeof value === 'string' ? value : undefined
}

function errorCause(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'cause' in err ? (err as { cause: unknown }).cause : undefined
}

function retryAfter(value: string | string[] | undefined): number | undefined {
  const first = Array.isArray(value) ? value[0] : value
  if (first === undefined) return undefined
  const seconds = Number(first)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000)
  const date = Date.parse(first)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
