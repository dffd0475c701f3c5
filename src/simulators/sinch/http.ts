import type { IncomingMessage, ServerResponse } from 'node:http'

/** Small node:http helpers for the simulator's routes. */

export async function readBody(req: IncomingMessage, limitBytes = 1_000_000): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buf.length
    if (size > limitBytes) throw new Error('request body too large')
    chunks.push(buf)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(text)
}

/** JSON.parse that reports failure instead of throwing. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

export type Credentials =
  | { scheme: 'basic'; user: string; password: string }
  | { scheme: 'bearer'; token: string }
  | { scheme: 'none' }

/**
 * @example
 * readAuthorization('Basic ' + Buffer.from('id:secret').toString('base64')) // { scheme: 'basic', user: 'id', password: 'secret' }
 */
export function readAuthorization(header: string | undefined): Credentials {
  if (!header) return { scheme: 'none' }
  const match = /^(\w+)\s+(\S+)\s*$/.exec(header)
  if (!match) return { scheme: 'none' }
  const scheme = match[1]?.toLowerCase()
  const value = match[2] ?? ''
  if (scheme === 'bearer') return { scheme: 'bearer', token: value }
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return { scheme: 'none' }
    return { scheme: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
  }
  return { scheme: 'none' }
}

/** A control-API misuse, with the HTTP status the `/_sim` routes answer it with. */
export class SimRequestError extends Error {
  readonly status: 400 | 404
  constructor(status: 400 | 404, message: string) {
    super(message)
    this.status = status
  }
}
