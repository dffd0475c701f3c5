/**
 * The store's typed failures. `StoreUnavailableError` means "the database did not answer in time
 * or the connection broke": the HTTP layer answers 503 with Retry-After, workers log and poll again.
 * Ordinary query errors (a constraint, a bug) stay what they are.
 *
 * @example
 * try { await store.write(fn) } catch (err) { if (err instanceof StoreUnavailableError) retryLater() }
 */
export class StoreUnavailableError extends Error {
  readonly code = 'WAGATE_STORE_UNAVAILABLE'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}

/** SQLSTATE of a PostgreSQL error, or the errno-style code of a socket error. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : ''
}

/** Connection-level messages of node-postgres that carry no code. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'connection timeout',
]

/**
 * True when the error says the database is out of reach (refused, reset, timed out, shutting down),
 * as opposed to a query the database answered with an error.
 */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true
  const code = errorCode(error)
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true
  // 08xxx connection exception, 57P01-03 shutdown / cannot connect now, 53300 too many connections.
  if (code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true
  const message = error instanceof Error ? error.message : ''
  return PG_CONNECTION_MESSAGES.some((m) => message.includes(m))
}
