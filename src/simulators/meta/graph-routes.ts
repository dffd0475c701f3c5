import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FaultRule } from '../types.js'
import { WINDOW_MS, type SimCore } from './core.js'
import { graphErrors, reengagementError, type GraphErrorReply } from './graph-errors.js'
import { newWamid } from './ids.js'
import { checkSendBody, type CheckedSend } from './send-schema.js'
import type { MetaSimAccount } from './types.js'
import { isNotOnWhatsApp, waIdFor } from './wa-id.js'
import { newConversationId, wabaIdOf } from './webhooks.js'

/** Marks a request body that was not valid JSON, so the route can answer in Graph's shape. */
export class UnparsableBody {
  constructor(readonly raw: string) {}
}

const VERSION = /^v\d+(\.\d+)?$/

function bearer(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization
  if (typeof header !== 'string') return undefined
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim())
  return match?.[1]
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function sendError(reply: FastifyReply, error: GraphErrorReply): FastifyReply {
  if (error.status === 401) reply.header('www-authenticate', 'OAuth "Facebook Platform" "invalid_token"')
  return reply.code(error.status).send(error.body)
}

/**
 * Resolves the account a Graph call acts for and checks its Bearer token, the way Graph answers:
 * no or wrong token → 401 code 190; a known token on an unknown object → 400 code 100.
 */
function authorize(core: SimCore, req: FastifyRequest, find: () => MetaSimAccount | undefined, objectId: string): MetaSimAccount | GraphErrorReply {
  const token = bearer(req)
  if (!token) return graphErrors.invalidToken('Cannot parse access token')
  const account = find()
  if (!account) {
    const known = [...core.accounts.values()].some((a) => sameSecret(a.accessToken, token))
    return known ? graphErrors.unknownObject(objectId) : graphErrors.invalidToken('Cannot parse access token')
  }
  if (!sameSecret(account.accessToken, token)) return graphErrors.invalidToken('Cannot parse access token')
  return account
}

const isGraphError = (v: MetaSimAccount | GraphErrorReply): v is GraphErrorReply => 'status' in v && 'body' in v

function wait(core: SimCore, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      core.timers.delete(timer)
      resolve()
    }, ms)
    core.timers.add(timer)
  })
}

/** Applies a refusing fault; returns true when the reply has been taken care of. */
function applyRefusal(core: SimCore, fault: FaultRule, reply: FastifyReply): boolean {
  switch (fault.kind) {
    case 'rate_limit':
      sendError(reply, graphErrors.rateLimit())
      return true
    case 'pair_rate_limit':
      sendError(reply, graphErrors.pairRateLimit())
      return true
    case 'server_error':
      // Alternates: odd occurrences a Graph 500 (131000), even ones a bare 503 from the front end.
      core.serverErrors++
      if (core.serverErrors % 2 === 1) sendError(reply, graphErrors.serverError())
      else reply.code(503).send('')
      return true
    case 'timeout': {
      reply.hijack()
      const res = reply.raw
      core.hung.add(res)
      res.on('close', () => core.hung.delete(res))
      return true
    }
    default:
      return false
  }
}

/** meta.md §5: only templates go out when the contact has not written in the last 24 h. */
function outsideWindow(core: SimCore, account: MetaSimAccount, check: CheckedSend): boolean {
  if (!core.enforceWindow || check.type === 'template') return false
  const key = check.recipientKind === 'phone' ? waIdFor(check.recipient) : check.recipient
  const last = core.lastInbound.get(`${account.phoneNumberId}:${key}`)
  return last === undefined || Date.now() - last >= WINDOW_MS
}

function acceptSend(core: SimCore, account: MetaSimAccount, check: CheckedSend, body: unknown, version: string, failing: boolean) {
  const phone = check.recipientKind === 'phone'
  const waId = phone ? waIdFor(check.recipient) : undefined
  const wamid = newWamid(waId ?? check.recipient)
  core.recordSent({
    providerMessageId: wamid,
    account: account.phoneNumberId,
    to: check.recipient,
    type: check.type,
    body,
    ...(check.clientRef !== undefined ? { clientRef: check.clientRef } : {}),
    at: Date.now(),
  })
  const category =
    check.type !== 'template'
      ? 'service'
      : (core.templates.find((t) => t.name === check.template?.name)?.category.toLowerCase() ?? 'utility')
  core.scheduleStatuses(
    account,
    {
      wamid,
      recipientId: waId ?? check.recipient,
      recipientKind: check.recipientKind,
      ...(check.clientRef !== undefined ? { bizOpaque: check.clientRef } : {}),
      category,
      conversationId: newConversationId(),
      // meta.md §2.6: conversation is omitted from v24.0 on.
      withConversation: Number(version.slice(1)) < 24,
      // Meta accepts the call and reports the re-engagement error in a failed status (meta.md §3: 131047).
      ...(!failing && outsideWindow(core, account, check) ? { failure: reengagementError() } : {}),
    },
    failing || outsideWindow(core, account, check) ? 'failed' : check.type === 'reaction' ? 'sent_only' : 'full',
  )
  return {
    messaging_product: 'whatsapp',
    contacts: [waId !== undefined ? { input: check.recipient, wa_id: waId } : { input: check.recipient, user_id: check.recipient }],
    messages: [{ id: wamid }],
  }
}

/**
 * The fake Graph API: send / mark-read, media lookup and download, template listing.
 *
 * @example
 * registerGraphRoutes(app, core)
 */
export function registerGraphRoutes(app: FastifyInstance, core: SimCore): void {
  app.post<{ Params: { version: string; phoneNumberId: string } }>('/:version/:phoneNumberId/messages', async (req, reply) => {
    const { version, phoneNumberId } = req.params
    if (!VERSION.test(version)) return sendError(reply, graphErrors.unknownPath(req.url))
    const account = authorize(core, req, () => core.accounts.get(phoneNumberId), phoneNumberId)
    if (isGraphError(account)) {
      core.stats.rejected++
      return sendError(reply, account)
    }
    const check = req.body instanceof UnparsableBody ? { kind: 'invalid' as const, details: 'request body is not valid JSON' } : checkSendBody(req.body)
    if (check.kind === 'invalid') {
      core.stats.rejected++
      return sendError(reply, graphErrors.invalidParameter(check.details))
    }
    if (check.kind === 'read') return reply.send({ success: true })
    if (core.strictTemplates && check.template) {
      const { name, language } = check.template
      if (!core.templates.some((t) => t.name === name && t.language === language)) {
        core.stats.rejected++
        return sendError(reply, graphErrors.templateMissing(name, language))
      }
    }
    const fault = core.faults.pick(check.recipient)
    if (fault && applyRefusal(core, fault, reply)) {
      core.stats.faulted++
      return reply
    }
    if (fault?.kind === 'slow') await wait(core, fault.delayMs ?? 1000)
    const failing = fault?.kind === 'not_on_whatsapp' || (check.recipientKind === 'phone' && isNotOnWhatsApp(check.recipient))
    return reply.send(acceptSend(core, account, check, req.body, version, failing))
  })

  app.get<{ Params: { version: string; wabaId: string }; Querystring: { name?: string } }>(
    '/:version/:wabaId/message_templates',
    async (req, reply) => {
      const { wabaId } = req.params
      const account = authorize(core, req, () => [...core.accounts.values()].find((a) => wabaIdOf(a) === wabaId), wabaId)
      if (isGraphError(account)) return sendError(reply, account)
      const wanted = req.query.name
      const data = core.templates
        .filter((t) => wanted === undefined || t.name.includes(wanted))
        .map((t, i) => ({
          name: t.name,
          language: t.language,
          status: t.status ?? 'APPROVED',
          category: t.category,
          components: t.components,
          id: `${wabaId}${String(i + 1).padStart(3, '0')}`,
        }))
      return reply.send({ data, paging: { cursors: { before: 'MAZDZD', after: 'MjQZD' } } })
    },
  )

  app.get<{ Params: { version: string; mediaId: string } }>('/:version/:mediaId', async (req, reply) => {
    const { version, mediaId } = req.params
    if (!VERSION.test(version)) return sendError(reply, graphErrors.unknownPath(req.url))
    const stored = core.media.get(mediaId)
    const account = authorize(core, req, () => (stored ? core.accounts.get(stored.account) : undefined), mediaId)
    if (isGraphError(account)) return sendError(reply, account)
    if (!stored) return sendError(reply, graphErrors.unknownObject(mediaId))
    const url = `${core.baseUrl()}/whatsapp_business/attachments/?mid=${stored.id}&ext=${Math.floor(Date.now() / 1000)}&hash=${encodeURIComponent(stored.sha256.slice(0, 12))}`
    return reply.send({
      messaging_product: 'whatsapp',
      url,
      mime_type: stored.mimeType,
      sha256: stored.sha256,
      file_size: stored.bytes.length,
      id: stored.id,
    })
  })

  // Like Meta's lookaside URL, the download needs the same Bearer token as the lookup.
  app.get<{ Querystring: { mid?: string } }>('/whatsapp_business/attachments/', async (req, reply) => {
    const stored = req.query.mid ? core.media.get(req.query.mid) : undefined
    const account = authorize(core, req, () => (stored ? core.accounts.get(stored.account) : undefined), req.query.mid ?? '')
    if (isGraphError(account)) return sendError(reply, account)
    if (!stored) return sendError(reply, graphErrors.unknownObject(req.query.mid ?? ''))
    return reply.header('content-type', stored.mimeType).send(stored.bytes)
  })
}
