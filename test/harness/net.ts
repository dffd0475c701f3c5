import { createConnection, createServer } from 'node:net'

/**
 * Undefined when something listens at the URL's host and port, else why not (for skip messages of
 * suites that need a local service: PostgreSQL, Redis, NATS).
 *
 * @example
 * const down = await unreachable('redis://127.0.0.1:6379', 6379) // undefined, or "… is unreachable (ECONNREFUSED …)"
 */
export function unreachable(url: string, defaultPort: number): Promise<string | undefined> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = createConnection({ host: u.hostname, port: Number(u.port || defaultPort), timeout: 2_000 })
    socket.once('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve(`${url} did not answer in 2 s`)
    })
    socket.once('error', (err) => resolve(`${url} is unreachable (${err.message})`))
  })
}

/** A loopback port that was free a moment ago (a child process binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
