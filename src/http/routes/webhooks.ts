import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Account, AccountService } from '../../engine/accounts.js'
import type { InboundPipeline } from '../../engine/inbound.js'
import type { RawRequest, WebhookItem } from '../../providers/types.js'
import { sendProblem } from '../errors.js'

/**
 * Provider callbacks (DESIGN §3 inbound). The raw body is kept as bytes for signature checks; the
 * route answers 200 only after the pipeline's transaction committed, 401 for a bad signature
 * (nothing written), 400 for a signed body that cannot be read (nothing written).
 */
export interface WebhookDeps {
  accounts: AccountService
  inbound: InboundPipeline
  publicUrl: () => string
  bodyLimit: number
}

type Req = FastifyRequest<{ Params: Record<string, string> }>

export function webhookRoutes(app: FastifyInstance, deps: WebhookDeps) {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimit }, (_req, body, done) => done(null, body))

  const raw = (req: FastifyRequest): RawRequest => ({
    method: req.method,
    url: deps.publicUrl() + req.url,
    headers: req.headers as Record<string, string | undefined>,
    body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
  })

  const answer = (reply: FastifyReply, provider: string, counts: Record<string, number>) =>
    provider === 'twilio'
      ? reply.code(200).type('text/xml').send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>')
      : reply.code(200).send({ ok: true, ...counts })

  /** Verifies against each candidate (names are unique per tenant only) and ingests for the one that matches. */
  const handle = async (req: Req, reply: FastifyReply, provider: string, candidates: Account[], filter?: (item: WebhookItem) => boolean) => {
    if (candidates.length === 0) return sendProblem(reply, 'unknown_account', `no ${provider} account "${req.params.account ?? ''}"`)
    const request = raw(req)
    const account = candidates.find((c) => c.adapter.verify(c.ctx, request).ok)
    if (!account) {
      req.log.warn({ provider, account: candidates[0]?.row.name }, 'webhook refused: signature missing or invalid')
      return sendProblem(reply, 'invalid_signature', 'the webhook signature is missing or does not match')
    }
    let items = account.adapter.parse(account.ctx, request)
    if (filter) items = items.filter(filter)
    if (items.length > 0 && items.every((i) => i.kind === 'rejected')) {
      req.log.warn({ provider, account: account.row.name, reasons: items.map((i) => (i.kind === 'rejected' ? i.reason : '')).slice(0, 3) }, 'webhook body could not be read')
      return sendProblem(reply, 'invalid_request', 'the webhook body could not be read; nothing was recorded')
    }
    const result = await deps.inbound.ingest(account, items)
    const { envelopes: _e, ...counts } = result
    return answer(reply, provider, counts)
  }

  app.get('/webhooks/meta', async (req: Req, reply) => {
    const query = new URL(req.url, 'http://x').searchParams
    for (const account of await deps.accounts.allOfProvider('meta')) {
      const challenge = account.adapter.handshake?.(account.ctx, query)
      if (challenge !== undefined) return reply.code(200).type('text/plain').send(challenge)
    }
    return sendProblem(reply, 'invalid_signature', 'hub.verify_token does not match any Meta account')
  })

  app.get('/webhooks/meta/:account', async (req: Req, reply) => {
    const query = new URL(req.url, 'http://x').searchParams
    for (const account of await deps.accounts.byProviderAndName('meta', req.params.account ?? '')) {
      const challenge = account.adapter.handshake?.(account.ctx, query)
      if (challenge !== undefined) return reply.code(200).type('text/plain').send(challenge)
    }
    return sendProblem(reply, 'invalid_signature', 'hub.verify_token does not match this account')
  })

  // App-wide Meta callback: one URL for every number of the app, routed by metadata.phone_number_id.
  app.post('/webhooks/meta', async (req: Req, reply) => {
    const request = raw(req)
    const all = await deps.accounts.allOfProvider('meta')
    if (all.length === 0) return sendProblem(reply, 'unknown_account', 'no Meta account is configured, so no Meta webhook can be checked')
    // Authenticity before anything is read: a body no Meta account's app secret signed is a forgery,
    // whatever it names (an unknown number or unreadable JSON must not earn a 200 or a 400).
    if (!all.some((a) => a.adapter.verify(a.ctx, request).ok)) {
      req.log.warn({ provider: 'meta' }, 'app-wide webhook refused: signature missing or invalid')
      return sendProblem(reply, 'invalid_signature', 'the webhook signature is missing or does not match')
    }
    const keys = all[0]?.adapter.routeKeys?.(request) ?? []
    if (keys.length === 0) return sendProblem(reply, 'invalid_request', 'the webhook names no metadata.phone_number_id, so it cannot be routed; nothing was recorded')
    const totals: Record<string, number> = {}
    for (const key of new Set(keys)) {
      const account = await deps.accounts.byRouteKey('meta', key)
      if (!account) {
        req.log.warn({ phone_number_id: key }, 'Meta webhook for a number no account has')
        continue
      }
      if (!account.adapter.verify(account.ctx, request).ok) return sendProblem(reply, 'invalid_signature', 'the webhook signature is missing or does not match')
    }
    for (const key of new Set(keys)) {
      const account = await deps.accounts.byRouteKey('meta', key)
      if (!account) continue
      const items = account.adapter.parse(account.ctx, request).filter((i) => itemAddress(i) === undefined || itemAddress(i) === key)
      const { envelopes: _e, ...counts } = await deps.inbound.ingest(account, items)
      for (const [k, v] of Object.entries(counts)) totals[k] = (totals[k] ?? 0) + v
    }
    return answer(reply, 'meta', totals)
  })

  for (const provider of ['meta', 'twilio', 'sinch'] as const) {
    app.post(`/webhooks/${provider}/:account`, async (req: Req, reply) => handle(req, reply, provider, await deps.accounts.byProviderAndName(provider, req.params.account ?? '')))
  }
  app.post('/webhooks/gupshup/:account/:token', async (req: Req, reply) => handle(req, reply, 'gupshup', await deps.accounts.byProviderAndName('gupshup', req.params.account ?? '')))
}

function itemAddress(item: WebhookItem): string | undefined {
  if (item.kind === 'message') return item.message.address
  if (item.kind === 'status') return item.status.address
  if (item.kind === 'contact') return item.event.address
  if (item.kind === 'account_error') return item.address
  return undefined
}
