import { request, type Dispatcher } from 'undici'

/**
 * One webhook attempt: a POST that follows no redirect (undici's `request` has no redirect
 * interceptor, so a 3xx comes back as is and counts as a failure), bounded by the endpoint's
 * timeout for the whole exchange, reading at most a few kilobytes of the answer.
 *
 * @example
 * const outcome = await postWebhook(url, body, headers, { timeoutMs: 15_000, dispatcher })
 * if (outcome.status && outcome.status < 300) …
 */
export interface PostOutcome {
  status?: number
  /** Connection error, timeout or shutdown, when there is no status. */
  error?: string
  /** The gateway is stopping: the attempt does not count. */
  aborted?: boolean
  latencyMs: number
  excerpt?: string
}

const EXCERPT_BYTES = 512
const READ_LIMIT_BYTES = 64 * 1024

export interface PostOptions {
  timeoutMs: number
  dispatcher?: Dispatcher
  /** Aborts the attempt when the gateway stops. */
  stop?: AbortSignal
}

export async function postWebhook(url: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<PostOutcome> {
  const started = performance.now()
  const timeout = AbortSignal.timeout(opts.timeoutMs)
  const signal = opts.stop ? AbortSignal.any([timeout, opts.stop]) : timeout
  const elapsed = () => Math.round(performance.now() - started)
  try {
    const res = await request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'wagate-webhooks/0.1', ...headers },
      signal,
      ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    })
    const excerpt = await readExcerpt(res.body)
    return { status: res.statusCode, latencyMs: elapsed(), ...(excerpt ? { excerpt } : {}) }
  } catch (err) {
    if (opts.stop?.aborted) return { aborted: true, error: 'aborted: the gateway is stopping', latencyMs: elapsed() }
    if (timeout.aborted) return { error: `timed out after ${opts.timeoutMs} ms`, latencyMs: elapsed() }
    return { error: describe(err), latencyMs: elapsed() }
  }
}

async function readExcerpt(body: Dispatcher.ResponseData['body']): Promise<string> {
  const kept: Buffer[] = []
  let keptBytes = 0
  let size = 0
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array)
    if (keptBytes < EXCERPT_BYTES) {
      const part = buf.subarray(0, EXCERPT_BYTES - keptBytes)
      kept.push(part)
      keptBytes += part.length
    }
    size += buf.length
    // Past this, the answer is not worth reading (nor the connection worth keeping).
    if (size > READ_LIMIT_BYTES) break
  }
  return Buffer.concat(kept).toString('utf8')
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = (err as Error & { cause?: unknown }).cause
  const code = (err as Error & { code?: string }).code ?? (cause instanceof Error ? (cause as Error & { code?: string }).code : undefined)
  return code ? `${code}: ${err.message}` : err.message
}
