import { Worker } from 'node:worker_threads'

/**
 * An HTTP pass-through between the gateways and the simulator, on a worker thread of its own, that
 * stamps when each send call arrives. The simulator's own stamps can bunch when its event loop is
 * busy posting thousands of status webhooks; this thread does nothing but forward the send calls
 * (tens to hundreds a second), so its stamps are when the provider would have seen them.
 *
 * @example
 * const proxy = await startTimingProxy(sim.url)
 * // accounts get base_url = proxy.url
 * const arrivals = await proxy.arrivals() // [{ at, path, status }]
 */
export interface Arrival {
  at: number
  path: string
  status: number
  /** Why the call could not be forwarded (status 599). */
  error?: string
  /** Forwarded a second time after a pooled socket was found closed. */
  forwardedAgain?: boolean
}

export interface TimingProxy {
  url: string
  arrivals(): Promise<Arrival[]>
  close(): Promise<void>
}

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const http = require('node:http')
const target = new URL(workerData.target)
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 })
const arrivals = []
const server = http.createServer((req, res) => {
  const at = Date.now()
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const headers = { ...req.headers, host: target.host }
    delete headers.connection
    const body = Buffer.concat(chunks)
    // A pooled socket the simulator closed just as it was reused fails before the request reached
    // it (Node's documented keep-alive race): that one is forwarded again, once, on a new socket.
    const forward = (again) => {
      const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent }, (upRes) => {
        const out = []
        upRes.on('data', (c) => out.push(c))
        upRes.on('end', () => {
          arrivals.push({ at, path: req.url, status: upRes.statusCode, ...(again ? { forwardedAgain: true } : {}) })
          res.writeHead(upRes.statusCode, { 'content-type': upRes.headers['content-type'] || 'application/json' })
          res.end(Buffer.concat(out))
        })
      })
      up.on('error', (err) => {
        if (!again && up.reusedSocket && err.code === 'ECONNRESET') return forward(true)
        arrivals.push({ at, path: req.url, status: 599, error: err.code || err.message })
        res.destroy()
      })
      up.end(body)
    }
    forward(false)
  })
})
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }))
parentPort.on('message', (m) => {
  if (m === 'arrivals') parentPort.postMessage({ arrivals })
  if (m === 'close') { server.closeAllConnections(); server.close(() => parentPort.postMessage({ closed: true })) }
})
`

export async function startTimingProxy(target: string): Promise<TimingProxy> {
  const worker = new Worker(SOURCE, { eval: true, workerData: { target } })
  const next = <T>(key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (!(key in m)) return
        worker.off('message', onMessage)
        resolve(m[key] as T)
      }
      worker.on('message', onMessage)
      worker.once('error', reject)
    })
  const port = await next<number>('port')
  return {
    url: `http://127.0.0.1:${port}`,
    async arrivals() {
      const answer = next<Arrival[]>('arrivals')
      worker.postMessage('arrivals')
      return answer
    },
    async close() {
      const closed = next<boolean>('closed')
      worker.postMessage('close')
      await closed
      await worker.terminate()
    },
  }
}
