import { z } from 'zod'
import type { Template } from './content.js'

/**
 * Message templates as the registry knows them (DESIGN §8): name, language, category and how many
 * parameters each component takes, so a send can be checked before any provider call. Pure.
 *
 * The parameter counts come either from Meta-style `components` (as `GET /<WABA>/message_templates`
 * lists them: `{{1}}` / `{{name}}` placeholders in the header and body text, a media header, URL
 * buttons with a `{{1}}` suffix, copy-code buttons) or are given as numbers.
 *
 * @example
 * const shape = shapeOfComponents([{ type: 'BODY', text: 'Hi {{1}}, order {{2}} shipped' }])
 * // { header: 0, body: 2, buttons: [] }
 * checkTemplateParameters(shape, { name: 'x', language: 'en', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }] })
 * // { ok: false, detail: 'body takes 2 parameters; the request gives 1' }
 */
export const TEMPLATE_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number]

export const TEMPLATE_STATUSES = ['APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED', 'IN_APPEAL', 'LIMIT_EXCEEDED'] as const

export const BUTTON_TYPES = ['quick_reply', 'url', 'copy_code', 'phone_number', 'flow', 'other'] as const
export type ButtonType = (typeof BUTTON_TYPES)[number]

/** The parameters a template takes, per component. Button `index` is the position in the template. */
export interface TemplateShape {
  header: number
  body: number
  buttons: Array<{ type: ButtonType; parameters: number }>
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g

/** Distinct `{{1}}` / `{{name}}` placeholders in a template text. */
export function countPlaceholders(text: string | undefined): number {
  if (!text) return 0
  return new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1])).size
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined)

function buttonOf(raw: Record<string, unknown>): { type: ButtonType; parameters: number } {
  const kind = (str(raw.type) ?? '').toUpperCase()
  switch (kind) {
    case 'QUICK_REPLY':
      return { type: 'quick_reply', parameters: 0 }
    case 'URL':
      return { type: 'url', parameters: countPlaceholders(str(raw.url)) }
    case 'COPY_CODE':
      return { type: 'copy_code', parameters: 1 }
    // Authentication templates: the code is sent as the button's one parameter.
    case 'OTP':
      return { type: 'url', parameters: 1 }
    case 'PHONE_NUMBER':
      return { type: 'phone_number', parameters: 0 }
    case 'FLOW':
      return { type: 'flow', parameters: 0 }
    default:
      return { type: 'other', parameters: 0 }
  }
}

/** Parameter counts read from Meta-style template components; unknown shapes count as nothing. */
export function shapeOfComponents(components: readonly unknown[]): TemplateShape {
  const shape: TemplateShape = { header: 0, body: 0, buttons: [] }
  for (const c of components) {
    if (typeof c !== 'object' || c === null) continue
    const comp = c as Record<string, unknown>
    const type = (str(comp.type) ?? '').toUpperCase()
    if (type === 'HEADER') {
      const format = (str(comp.format) ?? 'TEXT').toUpperCase()
      shape.header = format === 'TEXT' ? countPlaceholders(str(comp.text)) : ['IMAGE', 'VIDEO', 'DOCUMENT', 'LOCATION'].includes(format) ? 1 : 0
    } else if (type === 'BODY') {
      shape.body = countPlaceholders(str(comp.text))
    } else if (type === 'BUTTONS' && Array.isArray(comp.buttons)) {
      for (const b of comp.buttons) if (typeof b === 'object' && b !== null) shape.buttons.push(buttonOf(b as Record<string, unknown>))
    }
  }
  return shape
}

export type TemplateCheck = { ok: true } | { ok: false; detail: string }

const plural = (n: number) => `${n} parameter${n === 1 ? '' : 's'}`

/**
 * Checks a send request's components against the registered shape: header and body take exactly
 * their counts; a button component must name a button the template has, of the same kind, with its
 * count (a quick reply may carry one payload or none); a button whose URL has a variable must be given.
 */
export function checkTemplateParameters(shape: TemplateShape, request: Template): TemplateCheck {
  const components = request.components ?? []
  for (const part of ['header', 'body'] as const) {
    const given = components.filter((c) => c.type === part)
    if (given.length > 1) return { ok: false, detail: `the request gives ${given.length} ${part} components; a template has one` }
    const count = given[0]?.parameters.length ?? 0
    if (count !== shape[part]) return { ok: false, detail: `${part} takes ${plural(shape[part])}; the request gives ${count}` }
  }
  const seen = new Set<number>()
  for (const c of components.filter((x) => x.type === 'button')) {
    const index = c.index ?? 0
    if (seen.has(index)) return { ok: false, detail: `button ${index} is given twice` }
    seen.add(index)
    const button = shape.buttons[index]
    if (!button) return { ok: false, detail: `the template has no button at index ${index} (it has ${shape.buttons.length})` }
    if (c.sub_type && c.sub_type !== button.type) return { ok: false, detail: `button ${index} is a ${button.type} button, not ${c.sub_type}` }
    const count = c.parameters.length
    if (button.type === 'quick_reply' ? count > 1 : count !== button.parameters) {
      return { ok: false, detail: `button ${index} (${button.type}) takes ${button.type === 'quick_reply' ? 'at most 1 parameter (its payload)' : plural(button.parameters)}; the request gives ${count}` }
    }
  }
  for (const [index, button] of shape.buttons.entries()) {
    if (button.parameters > 0 && !seen.has(index)) return { ok: false, detail: `button ${index} (${button.type}) takes ${plural(button.parameters)}; the request gives none` }
  }
  return { ok: true }
}

const count = z.number().int().min(0).max(100)

/**
 * `POST /v1/accounts/{id}/templates`: a template with Meta-style `components` (the counts are read
 * from them) and/or explicit counts, which win over the components.
 */
export const RegisterTemplateSchema = z
  .object({
    name: z.string().min(1).max(512),
    language: z.string().min(2).max(15),
    category: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(TEMPLATE_CATEGORIES))
      .default('UTILITY'),
    status: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(TEMPLATE_STATUSES))
      .default('APPROVED'),
    components: z.array(z.record(z.string(), z.unknown())).max(20).optional(),
    header_parameters: count.optional(),
    body_parameters: count.optional(),
    buttons: z
      .array(z.object({ type: z.enum(BUTTON_TYPES), parameters: count.optional() }).strict())
      .max(10)
      .optional(),
  })
  .strict()
export type RegisterTemplate = z.infer<typeof RegisterTemplateSchema>

/** The shape of a registration: components first, explicit counts over them. */
export function shapeOfRegistration(input: RegisterTemplate): TemplateShape {
  const shape = shapeOfComponents(input.components ?? [])
  if (input.header_parameters !== undefined) shape.header = input.header_parameters
  if (input.body_parameters !== undefined) shape.body = input.body_parameters
  if (input.buttons) shape.buttons = input.buttons.map((b) => ({ type: b.type, parameters: b.parameters ?? (b.type === 'copy_code' ? 1 : 0) }))
  return shape
}
