import { z } from 'zod'
import { SendError } from '../../domain/errors.js'
import type { AccountContext, OutboundMessage, SendContext, SendResult } from '../types.js'
import { sendUrl } from './config.js'
import type { SinchConfig } from './config.js'
import { sendErrorFromHttp } from './errors.js'
import { TransportError, post } from './http.js'
import type { HttpAnswer } from './http.js'
import { buildSendRequest } from './message.js'
import { basicAuthorization } from './token.js'
import type { TokenCache } from './token.js'

const SendResponseSchema = z.object({
  message_id: z.string().min(1),
  accepted_time: z.string().optional(),
})

export interface SendDeps {
  tokens: TokenCache
}

/**
 * Sends one message through `POST {base}/v1/projects/{project_id}/messages:send` (sinch.md §1).
 * In `oauth` mode a 401 drops the cached token and the call is retried once with a fresh one.
 *
 * @example
 * const result = await sendMessage({ tokens }, account, message, { timeoutMs: 10_000 })
 * result.providerMessageId // Sinch `message_id`
 */
export async function sendMessage(
  deps: SendDeps,
  account: AccountContext<SinchConfig>,
  message: OutboundMessage,
  ctx: SendContext,
): Promise<SendResult> {
  const config = account.config
  const body = JSON.stringify(buildSendRequest(config, message))
  // The timeout budget runs on the real clock, whatever clock the token cache is given.
  const deadline = Date.now() + ctx.timeoutMs

  const attempt = async (authorization: string): Promise<HttpAnswer> => {
    if (deadline - Date.now() <= 0) {
      throw new SendError({ code: 'transient', providerMessage: 'timed out before the message was sent' })
    }
    try {
      return await post({
        url: sendUrl(config),
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization },
        body,
        timeoutMs: Math.max(1, deadline - Date.now()),
        ...(ctx.dispatcher ? { dispatcher: ctx.dispatcher } : {}),
      })
    } catch (err) {
      throw transportSendError(err)
    }
  }

  let answer: HttpAnswer
  if (config.auth_mode === 'basic') {
    answer = await attempt(basicAuthorization(config))
  } else {
    const tokenOptions = { timeoutMs: ctx.timeoutMs, ...(ctx.dispatcher ? { dispatcher: ctx.dispatcher } : {}) }
    const token = await deps.tokens.get(config, tokenOptions)
    answer = await attempt(`Bearer ${token}`)
    if (answer.status === 401) {
      // Revoked or expired early: one fresh token, then give up with auth_failed.
      deps.tokens.invalidate(config, token)
      const fresh = await deps.tokens.get(config, { ...tokenOptions, timeoutMs: Math.max(1, deadline - Date.now()) })
      answer = await attempt(`Bearer ${fresh}`)
    }
  }

  if (answer.status < 200 || answer.status >= 300) {
    throw sendErrorFromHttp(answer.status, answer.text, answer.header('retry-after'), Date.now())
  }
  return readSendResponse(answer)
}

function readSendResponse(answer: HttpAnswer): SendResult {
  let raw: unknown
  try {
    raw = JSON.parse(answer.text)
  } catch {
    raw = answer.text
  }
  const parsed = SendResponseSchema.safeParse(raw)
  if (!parsed.success) {
    // A 2xx means Sinch probably took the message: a blind retry could send it twice.
    throw new SendError({
      code: 'unknown',
      providerMessage: 'messages:send answered 2xx without a message_id',
      httpStatus: answer.status,
      maybeDelivered: true,
    })
  }
  return { providerMessageId: parsed.data.message_id, raw }
}

function transportSendError(err: unknown): SendError {
  if (err instanceof SendError) return err
  const kind = err instanceof TransportError ? err.kind : 'network'
  return new SendError({
    code: 'transient',
    providerMessage: err instanceof Error ? err.message : String(err),
    // A refused connection never carried the message; a timeout or reset might have.
    maybeDelivered: kind !== 'refused',
  })
}
