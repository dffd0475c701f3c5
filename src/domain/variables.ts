import type { OutboundContent, TemplateComponent } from './content.js'

/**
 * `{{name}}` variables in outbound text, filled from the request's `variables` (DESIGN §8). Pure.
 *
 * Only requests that carry `variables` are filled, so a text that merely contains braces (code,
 * examples) goes out as written. Filling is one pass: a value containing `{{x}}` is not expanded
 * again. Filled: the text body, media captions, interactive header/body/footer, and the text
 * parameters of templates.
 *
 * @example
 * fillText('Hi {{ name }}, order {{order}}', { name: 'Ana', order: '#12' }) // { ok: true, text: 'Hi Ana, order #12' }
 * fillText('Hi {{name}}', {})                                             // { ok: false, missing: ['name'] }
 */
export const VARIABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/
const VARIABLE = /\{\{\s*([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})\s*\}\}/g

export type Variables = Readonly<Record<string, string>>
export type Filled<T> = { ok: true; value: T } | { ok: false; missing: string[] }

export function fillText(text: string, variables: Variables): { ok: true; text: string } | { ok: false; missing: string[] } {
  const missing = new Set<string>()
  const out = text.replace(VARIABLE, (whole, name: string) => {
    if (Object.hasOwn(variables, name)) return variables[name] as string
    missing.add(name)
    return whole
  })
  return missing.size > 0 ? { ok: false, missing: [...missing] } : { ok: true, text: out }
}

/** Fills every text of `content`; the names missing anywhere are reported together. */
export function fillContent(content: OutboundContent, variables: Variables): Filled<OutboundContent> {
  const missing = new Set<string>()
  const fill = (s: string): string => {
    const r = fillText(s, variables)
    if (r.ok) return r.text
    for (const m of r.missing) missing.add(m)
    return s
  }
  const fillOpt = (s: string | undefined) => (s === undefined ? undefined : fill(s))
  let value: OutboundContent
  switch (content.type) {
    case 'text':
      value = { ...content, text: fill(content.text) }
      break
    case 'template':
      value = {
        ...content,
        template: {
          ...content.template,
          ...(content.template.components
            ? { components: content.template.components.map((c): TemplateComponent => ({ ...c, parameters: c.parameters.map((p) => (p.type === 'text' ? { ...p, text: fill(p.text) } : p)) })) }
            : {}),
        },
      }
      break
    case 'interactive': {
      const i = content.interactive
      value = {
        ...content,
        interactive: {
          ...i,
          body: fill(i.body),
          ...(i.footer !== undefined ? { footer: fillOpt(i.footer) as string } : {}),
          ...(i.header ? { header: { ...i.header, text: fill(i.header.text) } } : {}),
        },
      }
      break
    }
    case 'image':
    case 'video':
    case 'document':
    case 'audio':
    case 'sticker':
      value = content.media.caption !== undefined ? { ...content, media: { ...content.media, caption: fill(content.media.caption) } } : content
      break
    default:
      value = content
  }
  return missing.size > 0 ? { ok: false, missing: [...missing] } : { ok: true, value }
}
