import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback HTTP server that records every request and answers with a scripted response, for
 * checking the exact wire body an adapter sends (send-request fixtures) and how it reads each
 * response fixture.
 *
 * @example
 * const server = await startCaptureServer(() => ({ status: 200, body: '{"messages":[{"id":"wamid.1"}]}' }))
 * // … adapter.send() with base_url = server.url …
 * server.requests[0].json // the body the adapter sent
 * await server.close()
 */
export interface CapturedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  raw: string
  /** JSON-parsed body when the content type is JSON. */
  json?: unknown
  /** Form fields when the content type is form-encoded (repeated keys keep every value). */
  form?: URLSearchParams
}

export interface ScriptedResponse {
  status: number
  body?: string
  headers?: Record<string, string>
  /** Never answer (simulates a hung provider). */
  hang?: boolean
}

export interface CaptureServer {
  url: string
  requests: CapturedRequest[]
  respond(next: (req: CapturedRequest) => ScriptedResponse): void
  close(): Promise<void>
}

export async function startCaptureServer(initial: (req: CapturedRequest) => ScriptedResponse): Promise<CaptureServer> {
  let responder = initial
  const requests: CapturedRequest[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const type = String(req.headers['content-type'] ?? '')
      const captured: CapturedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw }
      if (type.includes('json') && raw) {
        try {
          captured.json = JSON.parse(raw)
        } catch {
          // leave json unset: the test will see the raw text
        }
      }
      if (type.includes('x-www-form-urlencoded')) captured.form = new URLSearchParams(raw)
      requests.push(captured)
      const out = responder(captured)
      if (out.hang) return
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers })
      res.end(out.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(next) {
      responder = next
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
