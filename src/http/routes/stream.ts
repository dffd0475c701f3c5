import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { isValidPattern, matchTopic } from '../../domain/topics.js'
import { ApiError } from '../../engine/api-error.js'
import { cursor, eventBus } from '../../engine/events.js'
import { envelopeJson } from '../../engine/subscriptions/envelope.js'
import type { Store } from '../../store/db.js'
import { parseWith } from '../validate.js'

const streamQuery = z.object({
  /** Comma-separated topic patterns (NATS rules); all events when absent. */
  topics: z.string().max(4096).optional(),
  /** A cursor to resume after, for clients that cannot send Last-Event-ID. */
  after: z.string().max(64).optional(),
})

const PAGE = 500
const HEARTBEAT_MS = 15_000

/**
 * GET /v1/events/stream: the event log live, as Server-Sent Events. Each event's `id:` is its log
 * cursor, so a client that reconnects with Last-Event-ID (every EventSource does) gets what it
 * missed, in order, then the live tail. Without a cursor the stream starts at the present.
 * The log is the source: the bus only says "look again", so nothing is lost between a read and a wake.
 */
export function streamRoutes(app: FastifyInstance, deps: { store: Store }) {
  const open = new Set<() => void>()
  // Open streams would hold the server open forever: end them when the app closes.
  app.addHook('preClose', (done) => {
    for (const stop of open) stop()
    done()
  })

  app.get('/v1/events/stream', { schema: { tags: ['events'], summary: 'Live events as Server-Sent Events (resumable with Last-Event-ID)', querystring: streamQuery } }, async (req, reply) => {
    const q = parseWith(streamQuery, req.query, 'query')
    const patterns = (q.topics ?? '>').split(',').map((p) => p.trim()).filter((p) => p.length > 0)
    const bad = patterns.find((p) => !isValidPattern(p))
    if (bad !== undefined || patterns.length === 0 || patterns.length > 50) {
      throw new ApiError('invalid_request', `query.topics: "${bad ?? q.topics}" is not a list of valid topic patterns (tokens separated by ".", "*" for one token, ">" last for the rest)`)
    }
    const tenantId = req.tenant.id
    const resumeFrom = headerValue(req.headers['last-event-id']) ?? q.after
    let seq: number
    if (resumeFrom) {
      const decoded = cursor.decode(resumeFrom)
      if (decoded === undefined) throw new ApiError('invalid_cursor', 'Last-Event-ID: use an id received from this stream')
      seq = decoded
    } else {
      const last = await deps.store.read.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq')).where('tenant_id', '=', tenantId).executeTakeFirst()
      seq = Number(last?.seq ?? 0)
    }

    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' })
    res.write('retry: 2000\n\n')

    let closed = false
    let shutdown = false
    let nudge: (() => void) | undefined
    const end = () => {
      closed = true
      nudge?.()
    }
    const stopForShutdown = () => {
      shutdown = true
      end()
    }
    // An event committed while we read is caught by `pending`: the next read picks it up.
    let pending = false
    const onEvent = () => {
      pending = true
      nudge?.()
    }
    open.add(stopForShutdown)
    eventBus.on('event', onEvent)
    req.raw.on('close', end)
    res.on('close', end)
    try {
      while (!closed) {
        pending = false
        const upTo = await deps.store.eventHorizon()
        const rows = await deps.store.read
          .selectFrom('events')
          .select(['seq', 'id', 'type', 'topic', 'account', 'created_at', 'data'])
          .where('tenant_id', '=', tenantId)
          .where('seq', '>', seq)
          .where('seq', '<=', upTo)
          .orderBy('seq')
          .limit(PAGE)
          .execute()
        for (const row of rows) {
          seq = Number(row.seq)
          if (!patterns.some((p) => matchTopic(p, row.topic))) continue
          if (!res.write(`id: ${cursor.encode(seq)}\ndata: ${envelopeJson(row)}\n\n`)) await drained(res, () => closed)
          if (closed) break
        }
        if (closed || rows.length === PAGE || pending) continue
        const beat = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), HEARTBEAT_MS)
          nudge = () => {
            clearTimeout(timer)
            nudge = undefined
            resolve(false)
          }
        })
        if (beat && !closed) res.write(': keep-alive\n\n')
      }
    } catch (err) {
      req.log.error({ err }, 'event stream failed')
    } finally {
      eventBus.off('event', onEvent)
      open.delete(stopForShutdown)
      // At shutdown the socket goes too: left idle in keep-alive it would hold the server open.
      res.end(() => {
        if (shutdown) res.socket?.destroy()
      })
    }
  })
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value
  return v && v.trim() !== '' ? v.trim() : undefined
}

function drained(res: NodeJS.WritableStream, isClosed: () => boolean): Promise<void> {
  if (isClosed()) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}
