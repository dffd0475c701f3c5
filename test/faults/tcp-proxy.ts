import { createConnection, createServer, type Socket } from 'node:net'

/**
 * A TCP proxy on loopback put between the gateway and PostgreSQL, to drop the database connection
 * mid-run without touching the server:
 * - `pass`: bytes flow both ways;
 * - `cut`: every open connection is destroyed at once (both ends see a reset) and new ones are
 *   closed as soon as they arrive, like a server that went away;
 * - `blackhole`: connections stay open but nothing is forwarded in either direction and new ones
 *   are accepted and never answered, like a network partition. Held bytes are kept, as TCP would
 *   retransmit them, and flow again when the mode goes back to `pass`.
 *
 * @example
 * const proxy = await startTcpProxy('127.0.0.1', 5432)
 * const url = proxy.rewrite('postgres://postgres@127.0.0.1:5432/db') // → 127.0.0.1:<proxy port>
 * proxy.set('blackhole'); …; proxy.set('pass')
 */
export type ProxyMode = 'pass' | 'cut' | 'blackhole'

export interface TcpProxy {
  port: number
  mode(): ProxyMode
  set(mode: ProxyMode): void
  /** The same URL with host and port replaced by the proxy's. */
  rewrite(url: string): string
  /** Connections accepted so far, and open now. */
  counts(): { accepted: number; open: number; cut: number }
  close(): Promise<void>
}

interface Pair {
  client: Socket
  upstream?: Socket
  /** Bytes held while blackholed: client → server, server → client. */
  toServer: Buffer[]
  toClient: Buffer[]
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass'
  const pairs = new Set<Pair>()
  let accepted = 0
  let cut = 0

  const drop = (pair: Pair) => {
    pairs.delete(pair)
    pair.client.destroy()
    pair.upstream?.destroy()
  }

  const connectUpstream = (pair: Pair) => {
    const upstream = createConnection({ host: targetHost, port: targetPort })
    pair.upstream = upstream
    upstream.setNoDelay(true)
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'pass') pair.client.write(chunk)
      else pair.toClient.push(chunk)
    })
    upstream.on('error', () => drop(pair))
    upstream.on('close', () => drop(pair))
    flush(pair)
  }

  const flush = (pair: Pair) => {
    if (!pair.upstream) return connectUpstream(pair)
    for (const chunk of pair.toServer.splice(0)) pair.upstream.write(chunk)
    for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk)
  }

  const server = createServer((client) => {
    accepted++
    if (mode === 'cut') {
      cut++
      client.resetAndDestroy()
      return
    }
    client.setNoDelay(true)
    const pair: Pair = { client, toServer: [], toClient: [] }
    pairs.add(pair)
    client.on('data', (chunk: Buffer) => {
      if (mode === 'pass' && pair.upstream) pair.upstream.write(chunk)
      else pair.toServer.push(chunk)
    })
    client.on('error', () => drop(pair))
    client.on('close', () => drop(pair))
    if (mode === 'pass') connectUpstream(pair)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port

  return {
    port,
    mode: () => mode,
    set(next) {
      mode = next
      if (next === 'cut') {
        for (const pair of [...pairs]) {
          cut++
          pair.client.resetAndDestroy()
          pair.upstream?.resetAndDestroy()
          pairs.delete(pair)
        }
      }
      if (next === 'pass') for (const pair of [...pairs]) flush(pair)
    },
    rewrite(url) {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    counts: () => ({ accepted, open: pairs.size, cut }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of [...pairs]) drop(pair)
        server.close(() => resolve())
      }),
  }
}
