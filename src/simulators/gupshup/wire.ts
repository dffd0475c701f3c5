import { z } from 'zod'
import type { GupshupSimApp } from './types.js'

/**
 * What the Gupshup v1 send API accepts and how it refuses. Shapes follow docs.gupshup.io (session
 * messages, post_wa-api-v1-msg-*, postback-text-support); see /work/shared/providers/gupshup.md §1.
 */

export interface GupshupErrorAnswer {
  status: number
  body: { message: string; status: 'error' }
}

const refusal = (status: number, message: string): GupshupErrorAnswer => ({ status, body: { message, status: 'error' } })

/**
 * Documented answers: `Authentication Failed`, `Invalid App Details`, `Invalid Destination`
 * (400), `Too Many Requests` (429) and the internal error (500). The HTTP status of the auth
 * refusal is not in the docs' table; 401 is what Gupshup integrators report. `Invalid Channel`,
 * `Invalid Message` and `Invalid Template` wordings are the simulator's own (undocumented).
 */
export const GUPSHUP_ERRORS = {
  authFailed: refusal(401, 'Authentication Failed'),
  invalidAppDetails: refusal(400, 'Invalid App Details'),
  invalidDestination: refusal(400, 'Invalid Destination'),
  invalidChannel: refusal(400, 'Invalid Channel'),
  invalidMessage: refusal(400, 'Invalid Message'),
  invalidTemplate: refusal(400, 'Invalid Template'),
  tooManyRequests: refusal(429, 'Too Many Requests'),
  internal: refusal(500, 'Internal server error. Please try again later'),
} as const

const text = z.string().min(1)
const replyContext = z.object({ msgId: text }).optional()
const numeric = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)])

/** Media may be given by public URL or by a media id uploaded earlier. */
const byUrlOrId = (urlKey: 'url' | 'originalUrl') => (m: Record<string, unknown>) =>
  typeof m[urlKey] === 'string' || typeof m.id === 'string'

const listOption = z.looseObject({ type: z.string().optional(), title: text, description: z.string().optional(), postbackText: z.string().optional() })
const quickReplyOption = z.looseObject({ type: z.string().optional(), title: text, postbackText: z.string().optional() })

/** The `message` JSON of a session send, one member per documented type. */
export const sessionMessageSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text'), text: text.max(4096), previewUrl: z.union([z.boolean(), z.string()]).optional(), context: replyContext }),
  z
    .looseObject({ type: z.literal('image'), originalUrl: z.url().optional(), previewUrl: z.string().optional(), id: text.optional(), caption: z.string().optional(), context: replyContext })
    .refine(byUrlOrId('originalUrl'), 'image needs originalUrl or id'),
  z.looseObject({ type: z.literal('video'), url: z.url().optional(), id: text.optional(), caption: z.string().optional(), context: replyContext }).refine(byUrlOrId('url'), 'video needs url or id'),
  z.looseObject({ type: z.literal('audio'), url: z.url().optional(), id: text.optional(), context: replyContext }).refine(byUrlOrId('url'), 'audio needs url or id'),
  z.looseObject({ type: z.literal('sticker'), url: z.url().optional(), id: text.optional(), context: replyContext }).refine(byUrlOrId('url'), 'sticker needs url or id'),
  z
    .looseObject({ type: z.literal('file'), url: z.url().optional(), id: text.optional(), filename: z.string().optional(), caption: z.string().optional(), context: replyContext })
    .refine(byUrlOrId('url'), 'file needs url or id'),
  z.looseObject({ type: z.literal('location'), latitude: numeric, longitude: numeric, name: z.string().optional(), address: z.string().optional(), context: replyContext }),
  z.looseObject({
    type: z.literal('list'),
    title: z.string().optional(),
    body: text,
    msgid: z.string().optional(),
    globalButtons: z.array(z.looseObject({ type: z.string(), title: text })).min(1),
    items: z.array(z.looseObject({ title: z.string().optional(), options: z.array(listOption).min(1) })).min(1),
    context: replyContext,
  }),
  z.looseObject({
    type: z.literal('quick_reply'),
    msgid: z.string().optional(),
    content: z.looseObject({ type: text }),
    options: z.array(quickReplyOption).min(1).max(3),
    context: replyContext,
  }),
  z.looseObject({ type: z.literal('contact'), contact: z.looseObject({}), context: replyContext }),
  z.looseObject({ type: z.literal('reaction'), msgId: text, emoji: z.string() }),
])
export type SessionMessage = z.infer<typeof sessionMessageSchema>

/** `template` field of a template send: template uuid and its variables in order. */
export const templateSchema = z.looseObject({
  id: text,
  params: z.array(z.string()).default([]),
  expiration: z.number().int().positive().optional(),
  mpm: z.looseObject({ sections: z.array(z.unknown()) }).optional(),
})
export type TemplateRef = z.infer<typeof templateSchema>

const templateHeaderSchema = z.looseObject({ type: text })
const postbackTextsSchema = z.array(z.object({ index: z.number().int().nonnegative(), text: z.string() }))

export type ParsedSend =
  | { ok: true; kind: 'session'; app: GupshupSimApp; destination: string; type: string; message: SessionMessage; fields: Record<string, unknown> }
  | { ok: true; kind: 'template'; app: GupshupSimApp; destination: string; type: 'template'; template: TemplateRef; fields: Record<string, unknown> }
  | { ok: false; error: GupshupErrorAnswer }

const jsonField = (raw: string | null): unknown => {
  if (raw === null) return undefined
  try {
    return JSON.parse(raw) as unknown
  } catch {
    return Symbol.for('invalid-json')
  }
}

/**
 * Checks a send's form fields in Gupshup's order: app details, channel, destination, then the
 * message or template JSON. `candidates` are the apps whose api key matched.
 *
 * @example
 * const r = parseSendForm('session', new URLSearchParams(raw), appsForKey)
 * if (!r.ok) reply(r.error.status, r.error.body)
 */
export function parseSendForm(kind: 'session' | 'template', form: URLSearchParams, candidates: GupshupSimApp[]): ParsedSend {
  const app = candidates.find((a) => a.appName === form.get('src.name'))
  if (!app || form.get('source') !== app.sourceNumber) return { ok: false, error: GUPSHUP_ERRORS.invalidAppDetails }
  const channel = form.get('channel')
  // The template API lists channel as optional on the partner variant; the v1 APIs always send it.
  if (channel !== 'whatsapp' && !(kind === 'template' && channel === null)) return { ok: false, error: GUPSHUP_ERRORS.invalidChannel }
  const destination = form.get('destination') ?? ''
  if (!/^\d{8,15}$/.test(destination)) return { ok: false, error: GUPSHUP_ERRORS.invalidDestination }

  const fields: Record<string, unknown> = Object.fromEntries(form.entries())
  const message = jsonField(form.get('message'))
  if (kind === 'session') {
    const parsed = sessionMessageSchema.safeParse(message)
    if (!parsed.success) return { ok: false, error: GUPSHUP_ERRORS.invalidMessage }
    fields.message = parsed.data
    return { ok: true, kind, app, destination, type: parsed.data.type, message: parsed.data, fields }
  }
  const template = templateSchema.safeParse(jsonField(form.get('template')))
  if (!template.success) return { ok: false, error: GUPSHUP_ERRORS.invalidTemplate }
  fields.template = template.data
  if (message !== undefined) {
    const header = templateHeaderSchema.safeParse(message)
    if (!header.success) return { ok: false, error: GUPSHUP_ERRORS.invalidMessage }
    fields.message = header.data
  }
  const postbacks = jsonField(form.get('postbackTexts'))
  if (postbacks !== undefined) {
    const parsed = postbackTextsSchema.safeParse(postbacks)
    if (!parsed.success) return { ok: false, error: GUPSHUP_ERRORS.invalidTemplate }
    fields.postbackTexts = parsed.data
  }
  return { ok: true, kind, app, destination, type: 'template', template: template.data, fields }
}
