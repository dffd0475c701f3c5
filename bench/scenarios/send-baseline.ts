import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { buildMetaBody } from '../../src/providers/meta/body.js'
import { addSimAccount, recipients, simAccountFor } from '../lib/gateway-api.js'
import { fixedCount, type BenchRequest, type LoadResult } from '../lib/load.js'
import type { CpuUse } from '../lib/monitor.js'
import { startMetaSimulator } from '../lib/procs.js'
import type { RunContext } from './context.js'

/**
 * The send baseline: the Graph calls the gateway's worker would make, straight from this process to
 * the Meta simulator with undici (no API, no store), on as many accounts as the send scenario. It
 * bounds what any client gets from this simulator on this machine. The flow scenario runs it with
 * its own simulator; `runSendBaselineAlone` starts one when no SQLite flow ran (`--backend postgres`).
 *
 * @example
 * const { baseline } = await runSendBaselineAlone(ctx)
 * baseline.map((r) => r.throughput) // [5153, 4980, …]
 */
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Answers every webhook 200 (the simulator's `sent` statuses during the send baseline). */
export async function startSink(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** The simulator settings of the flow scenario: `sent` at once, delivered/read pushed past the run. */
export const FLOW_SIM_ENV = { SIM_SENT_MS: '0', SIM_DELIVERED_MS: '3600000', SIM_READ_MS: '3600000' }

export async function runSendBaseline(ctx: RunContext, simUrl: string, sinkUrl: string, accounts: number, nextRecipient: () => string): Promise<{ baseline: LoadResult[]; cpu: CpuUse }> {
  const { opts, monitor, log } = ctx
  log('send baseline: undici straight to the simulator')
  const base = Array.from({ length: accounts }, (_, i) => simAccountFor(4, i, `${sinkUrl}/hook`))
  for (const b of base) await addSimAccount(simUrl, b)
  const simPool = new Pool(simUrl, { connections: opts.send.baselineConcurrency, pipelining: 1, keepAliveTimeout: 60_000 })
  const baseline: LoadResult[] = []
  const markBase = monitor.mark()
  try {
    for (let rep = 0; rep < opts.reps; rep++) {
      const res = await fixedCount(
        simPool,
        (i): BenchRequest => {
          const acct = base[i % base.length] as (typeof base)[number]
          const body = buildMetaBody({ id: `b${rep}-${i}`, to: { phone: nextRecipient() }, content: { type: 'text', text: `baseline ${rep}-${i}` }, attempt: 1 })
          return {
            method: 'POST',
            path: `/v25.0/${acct.phoneNumberId}/messages`,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${acct.accessToken}` },
            body: JSON.stringify(body),
          }
        },
        { count: opts.send.messagesPerRep, concurrency: opts.send.baselineConcurrency },
      )
      baseline.push(res)
      log(`  baseline #${rep + 1}: ${Math.round(res.throughput)} msg/s, p99 ${res.latency.p99.toFixed(1)} ms${res.errors ? `, ${res.errors} errors (${res.firstError})` : ''}`)
      await pause(300)
    }
  } finally {
    await simPool.close()
  }
  return { baseline, cpu: monitor.cpuBetween(markBase, monitor.mark()) }
}

/** The baseline with a simulator and sink of its own. */
export async function runSendBaselineAlone(ctx: RunContext): Promise<{ baseline: LoadResult[]; cpu: CpuUse; rssPeak: Record<string, number> }> {
  const sim = await startMetaSimulator(FLOW_SIM_ENV)
  const sink = await startSink()
  const recips = recipients(60_000)
  let r = 0
  try {
    ctx.monitor.watch('simulator', sim.pid)
    ctx.monitor.takeWindowPeaks()
    const res = await runSendBaseline(ctx, sim.url, sink.url, ctx.opts.send.accounts, () => recips[r++ % recips.length] as string)
    return { ...res, rssPeak: ctx.monitor.takeWindowPeaks() }
  } finally {
    await sim.stop()
    ctx.monitor.unwatch('simulator')
    await new Promise<void>((resolve) => sink.server.close(() => resolve()))
  }
}
