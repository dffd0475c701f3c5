import { request } from 'undici'
import type { Dispatcher } from 'undici'

/** One HTTP exchange with Sinch: the status, the headers the adapter reads, and the body text. */
export interface HttpAnswer {
  status: number
  text: string
  header(name: string): string | undefined
}

/** Why a request produced no answer. `timeout` and `network` may have reached the server. */
export class TransportError extends Error {
  constructor(
    readonly kind: 'timeout' | 'refused' | 'network',
    override readonly cause: unknown,
  ) {
    super(`sinch transport ${kind}: ${cause instanceof Error ? cause.message : String(cause)}`)
    this.name = 'TransportError'
  }
}

export interface PostOptions {
  url: string
  headers: Record<string, string>
  body: string
  timeoutMs: number
  dispatcher?: Dispatcher
}

// Errors raised before a single byte left the machine: a retry cannot duplicate anything.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

/**
 * POSTs and reads the whole answer, turning every failure to get one into a TransportError.
 *
 * @example
 * const answer = await post({ url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5000 })
 */
export async function post(opts: PostOptions): Promise<HttpAnswer> {
  const signal = AbortSignal.timeout(opts.timeoutMs)
  try {
    const res = await request(opts.url, {
      method: 'POST',
      headers: opts.headers,
      body: opts.body,
      signal,
      ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    })
    const text = await res.body.text()
    return {
      status: res.statusCode,
      text,
      header(name) {
        const v = res.headers[name.toLowerCase()]
        return Array.isArray(v) ? v[0] : v
      },
    }
  } catch (err) {
    if (signal.aborted) throw new TransportError('timeout', err)
    throw new TransportError(NOT_SENT_CODES.has(errorCode(err)) ? 'refused' : 'network', err)
  }
}

function errorCode(err: unknown, depth = 0): string {
  if (typeof err !== 'object' || err === null || depth > 5) return ''
  const own = (err as { code?: unknown }).code
  if (typeof own === 'string') return own
  return errorCode((err as { cause?: unknown }).cause, depth + 1)
}
