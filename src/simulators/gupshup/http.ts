import type { IncomingMessage, ServerResponse } from 'node:http'

/** Bodies above this are refused: the send API takes small form posts. */
const MAX_BODY_BYTES = 1024 * 1024

/**
 * Reads a request body as UTF-8, or `undefined` when it is larger than the simulator accepts.
 *
 * @example
 * const raw = await readBody(req)
 */
export function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) tooLarge = true
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** @example sendJson(res, 202, { status: 'submitted', messageId }) */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** Form fields of a url-encoded body; any other content type yields no fields, as Gupshup reads only forms. */
export function formFields(req: IncomingMessage, raw: string): URLSearchParams {
  const type = String(req.headers['content-type'] ?? '')
  return type.includes('application/x-www-form-urlencoded') ? new URLSearchParams(raw) : new URLSearchParams()
}

/** JSON body of a control route, or `undefined` when it is not JSON. */
export function jsonBody(raw: string): unknown {
  if (raw.trim() === '') return {}
  try {
    return JSON.parse(raw) as unknown
  } catch {
    return undefined
  }
}
