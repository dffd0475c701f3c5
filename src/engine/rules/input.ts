import { z } from 'zod'
import { httpUrl } from '../../domain/content.js'
import { CONDITION_PATH, normalizeUrn, parseCondition, type Condition, type RuleAction } from '../../domain/rules.js'
import { isValidPattern } from '../../domain/topics.js'

/**
 * What `POST /v1/rules` accepts: a name, topic patterns, conditions (objects, or the string form
 * `data.message.error.code == "recipient_not_on_whatsapp"`) and 1–10 actions. Conditions are
 * stored in object form whatever form they came in.
 *
 * @example
 * createRuleSchema.parse({ name: 'sms-fallback', topics: ['message.*.failed'],
 *   conditions: ['data.message.error.code == "recipient_not_on_whatsapp"'],
 *   actions: [{ type: 'fallback_send', account: 'twilio-sms' }] })
 */
const scalar = z.union([z.string().max(1000), z.number().refine(Number.isFinite, 'must be a finite number'), z.boolean(), z.null()])
const path = z.string().max(300).regex(CONDITION_PATH, 'keys separated by "." (letters, digits, _ and -), at most 16')

const conditionObject = z.union([
  z.object({ path, op: z.enum(['eq', 'ne']), value: scalar }).strict(),
  z.object({ path, op: z.enum(['in', 'not_in']), value: z.array(scalar).min(1).max(100) }).strict(),
  z.object({ path, op: z.literal('exists'), value: z.boolean().optional() }).strict(),
])

const conditionString = z
  .string()
  .max(2000)
  .transform((text, ctx): Condition => {
    const parsed = parseCondition(text)
    if (parsed.ok) return parsed.condition
    ctx.addIssue({ code: 'custom', message: parsed.reason })
    return z.NEVER
  })

const pattern = z
  .string()
  .min(1)
  .max(512)
  .refine(isValidPattern, 'not a valid topic pattern (tokens separated by ".", "*" for one token, ">" last for the rest)')
  .refine((p) => p !== 'rule' && !p.startsWith('rule.'), 'rule events never trigger rules')

const action = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('fallback_send'),
      /** The account (name) that sends the fallback: an SMS account gets text, a WhatsApp account the same content. */
      account: z.string().min(1).max(64),
      /** Text to send instead of the original content; `{{path}}` takes a value from the event. */
      text: z.string().min(1).max(4096).optional(),
    })
    .strict(),
  z.object({ type: z.literal('stop_contact'), reason: z.string().min(1).max(200).optional() }).strict(),
  z.object({ type: z.literal('mark_urn_unreachable') }).strict(),
  z
    .object({
      type: z.literal('add_urn'),
      /** `tel:+…`, `whatsapp:…` or `wauser:…`; `{{path}}` takes a value from the event. */
      urn: z.string().min(4).max(300),
    })
    .strict()
    .superRefine((a, ctx) => {
      if (a.urn.includes('{{')) return
      const urn = normalizeUrn(a.urn)
      if (!urn.ok) ctx.addIssue({ code: 'custom', path: ['urn'], message: urn.reason })
    }),
  z
    .object({
      type: z.literal('webhook'),
      url: httpUrl,
      /** Time allowed for the POST (default 5000 ms). */
      timeout_ms: z.number().int().min(100).max(30_000).optional(),
    })
    .strict(),
])

export const createRuleSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, - and _ (max 63), starting with a letter or digit'),
    description: z.string().max(500).optional(),
    topics: z.array(pattern).min(1).max(20),
    conditions: z.array(z.union([conditionObject, conditionString])).max(20).default([]),
    actions: z
      .array(action)
      .min(1)
      .max(10)
      .refine((list) => list.filter((a) => a.type === 'fallback_send').length <= 1, 'at most one fallback_send per rule'),
  })
  .strict()

export type CreateRuleInput = z.infer<typeof createRuleSchema>

/** The actions as stored (the parsed input, without zod's extras). */
export const storedActions = (input: CreateRuleInput): RuleAction[] => input.actions.map((a) => ({ ...a }))

export const runsQuerySchema = z.object({
  state: z.enum(['fired', 'failed', 'webhooks']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Run id: returns older runs than this one (from `next_cursor`). */
  before: z.string().max(64).optional(),
})
export type RunsQuery = z.infer<typeof runsQuerySchema>
