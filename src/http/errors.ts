import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from '../engine/api-error.js'
import { problem, type ProblemCode } from './problems.js'
import { StoreUnavailableError } from '../store/errors.js'

/**
 * Renders every error as application/problem+json with a stable code. Client mistakes get a 4xx
 * naming the problem; a store outage is a 503 with Retry-After; anything else is logged and a
 * 500 says only that it happened.
 */
export function sendProblem(reply: FastifyReply, code: ProblemCode, detail: string, extra: Record<string, unknown> = {}) {
  const body = problem(code, detail, extra)
  return reply.code(body.status).type('application/problem+json').send(body)
}

const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_VALIDATION: 'invalid_request',
}

export function errorHandler(error: FastifyError | ApiError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ApiError) {
    if (error.code === 'store_unavailable') reply.header('retry-after', '5')
    return sendProblem(reply, error.code, error.message, error.extra)
  }
  const fe = error as FastifyError
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined
  if (mapped) return sendProblem(reply, mapped, detailFor(mapped, fe, request))
  if (error instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
    return sendProblem(reply, 'malformed_json', `the body is not valid JSON: ${fe.message}`)
  }
  if (fe.validation) return sendProblem(reply, 'invalid_request', fe.message)
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return sendProblem(reply, 'invalid_request', fe.message)
  // PostgreSQL text cannot hold U+0000 (SQLite can): a NUL in an id, query or body is the caller's to fix.
  if ((error as { code?: string }).code === '22021') return sendProblem(reply, 'invalid_request', 'a text value contains a NUL character (\\u0000), which cannot be stored; remove it')
  if (isStoreOutage(error)) {
    request.log.error({ err: error }, 'store unavailable')
    reply.header('retry-after', '5')
    return sendProblem(reply, 'store_unavailable', 'the database is not answering; retry in a few seconds')
  }
  request.log.error({ err: error }, 'unhandled error')
  return sendProblem(reply, 'internal_error', 'something failed on our side; it has been logged')
}

function detailFor(code: ProblemCode, error: FastifyError, request: FastifyRequest): string {
  if (code === 'unsupported_media_type') return `content type "${request.headers['content-type'] ?? '(none)'}" is not accepted here; send application/json`
  if (code === 'payload_too_large') return `the body is over the ${request.routeOptions.bodyLimit ?? 'configured'}-byte limit`
  if (code === 'malformed_json') return `the body is not valid JSON: ${error.message}`
  return error.message
}

function isStoreOutage(error: Error): boolean {
  if (error instanceof StoreUnavailableError) return true
  const code = (error as { code?: string }).code ?? ''
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'SQLITE_BUSY', 'SQLITE_IOERR', '57P01', '57P03', '08006', '08001'].includes(code)
}

/** Errors Fastify raises before routing (a URL with broken percent-encoding): problem+json too. */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (error.code === 'FST_ERR_BAD_URL') return sendProblem(reply, 'invalid_request', 'the URL is not valid: a percent-encoded part does not decode; encode path parts with encodeURIComponent')
  return sendProblem(reply, 'invalid_request', error.message)
}

/**
 * Requests Node's HTTP parser refuses (headers too large, malformed request line) never reach
 * Fastify's routes; they still get a problem+json answer before the connection closes.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
  if (error.code === 'ECONNRESET' || !socket.writable) return socket.destroy()
  const code: ProblemCode = error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : 'invalid_request'
  const detail =
    code === 'headers_too_large'
      ? 'the request headers are larger than the server accepts (16 KB); send less in them'
      : code === 'request_timeout'
        ? 'the request was not received in time; send it again'
        : 'the HTTP request could not be parsed'
  const body = problem(code, detail)
  const text = JSON.stringify(body)
  socket.end(`HTTP/1.1 ${body.status} ${STATUS_CODES[body.status] ?? ''}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
}
