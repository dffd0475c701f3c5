import type { FastifyInstance } from 'fastify'
import type { Store } from '../../store/db.js'
import { sendProblem } from '../errors.js'

export interface Metric {
  name: string
  help: string
  type: 'counter' | 'gauge'
  value: number
}

export interface Gauges {
  /** Name → value lines for /metrics (Prometheus text format); may read the store. */
  collect(): Metric[] | Promise<Metric[]>
}

/** Liveness, readiness (the store answers) and Prometheus metrics. */
export function opsRoutes(app: FastifyInstance, deps: { store: Store; gauges: Gauges }) {
  app.get('/healthz', { schema: { tags: ['ops'], summary: 'The process is up' } }, async () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { tags: ['ops'], summary: 'The store answers' } }, async (_req, reply) => {
    try {
      await deps.store.ping()
      return { status: 'ready' }
    } catch {
      reply.header('retry-after', '5')
      return sendProblem(reply, 'store_unavailable', 'the store does not answer')
    }
  })
  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    const lines: string[] = []
    for (const m of await deps.gauges.collect()) {
      lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, `${m.name} ${m.value}`)
    }
    return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`)
  })
}
