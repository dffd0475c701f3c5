import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Template, TemplateComponent } from './content.js'
import { checkTemplateParameters, countPlaceholders, RegisterTemplateSchema, shapeOfComponents, shapeOfRegistration, type TemplateShape } from './templates.js'

// The fixture's template (test/fixtures/meta/send-template-request.json) as Meta would list it.
const REVIVE_ISSUE = [
  { type: 'HEADER', format: 'IMAGE' },
  { type: 'BODY', text: 'Hi {{1}}, your issue {{2}} needs you.' },
  { type: 'FOOTER', text: 'wagate' },
  { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Sip' }, { type: 'URL', text: 'Open', url: 'https://example.com/issues/{{1}}' }] },
]

const text = (t: string) => ({ type: 'text' as const, text: t })

describe('shapeOfComponents', () => {
  it('reads Meta components: media header, body placeholders, button kinds', () => {
    expect(shapeOfComponents(REVIVE_ISSUE)).toEqual({ header: 1, body: 2, buttons: [{ type: 'quick_reply', parameters: 0 }, { type: 'url', parameters: 1 }] })
  })

  it('counts distinct placeholders, positional or named, and text headers', () => {
    expect(countPlaceholders('{{1}} and {{2}} and {{1}} again')).toBe(2)
    expect(countPlaceholders('Hi {{first_name}}, {{ order }}')).toBe(2)
    expect(countPlaceholders('no variables')).toBe(0)
    expect(shapeOfComponents([{ type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' }, { type: 'BODY', text: 'x' }])).toEqual({ header: 1, body: 0, buttons: [] })
    expect(shapeOfComponents([{ type: 'BUTTONS', buttons: [{ type: 'COPY_CODE' }, { type: 'PHONE_NUMBER' }, { type: 'URL', url: 'https://x.y/static' }] }])).toEqual({
      header: 0,
      body: 0,
      buttons: [{ type: 'copy_code', parameters: 1 }, { type: 'phone_number', parameters: 0 }, { type: 'url', parameters: 0 }],
    })
  })

  it('ignores what it cannot read', () => {
    expect(shapeOfComponents([null, 3, 'x', { type: 'BODY' }, { type: 'BUTTONS', buttons: 'no' }])).toEqual({ header: 0, body: 0, buttons: [] })
  })
})

describe('checkTemplateParameters', () => {
  const shape = shapeOfComponents(REVIVE_ISSUE)
  const good: TemplateComponent[] = [
    { type: 'header', parameters: [{ type: 'image', url: 'https://foo.bar/image.jpg' }] },
    { type: 'body', parameters: [text('Ryan'), text('niño')] },
    { type: 'button', sub_type: 'quick_reply', index: 0, parameters: [{ type: 'payload', payload: 'Sip' }] },
    { type: 'button', sub_type: 'url', index: 1, parameters: [text('id00231')] },
  ]
  const req = (components: TemplateComponent[]): Template => ({ name: 'revive_issue', language: 'en_US', components })

  it('accepts the right counts (a quick-reply payload is optional)', () => {
    expect(checkTemplateParameters(shape, req(good))).toEqual({ ok: true })
    expect(checkTemplateParameters(shape, req(good.filter((c) => c.sub_type !== 'quick_reply')))).toEqual({ ok: true })
  })

  it.each([
    ['a body parameter short', [good[0], { type: 'body', parameters: [text('Ryan')] }, good[3]], /body takes 2 parameters; the request gives 1/],
    ['no header', [good[1], good[3]], /header takes 1 parameter; the request gives 0/],
    ['an unknown button', [...good, { type: 'button', sub_type: 'url', index: 5, parameters: [text('x')] }], /no button at index 5/],
    ['the wrong button kind', [good[0], good[1], { type: 'button', sub_type: 'quick_reply', index: 1, parameters: [] }], /button 1 is a url button/],
    ['the URL variable missing', [good[0], good[1]], /button 1 \(url\) takes 1 parameter; the request gives none/],
    ['two payloads on a quick reply', [good[0], good[1], good[3], { type: 'button', sub_type: 'quick_reply', index: 0, parameters: [{ type: 'payload', payload: 'a' }, { type: 'payload', payload: 'b' }] }], /at most 1/],
  ] as Array<[string, TemplateComponent[], RegExp]>)('refuses %s', (_what, components, detail) => {
    const r = checkTemplateParameters(shape, req(components))
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.detail).toMatch(detail)
  })

  it('property: header and body pass exactly when the counts match', () => {
    fc.assert(
      fc.property(fc.nat(5), fc.nat(5), fc.nat(5), fc.nat(5), (h, b, gh, gb) => {
        const s: TemplateShape = { header: h, body: b, buttons: [] }
        const components: TemplateComponent[] = [
          ...(gh > 0 ? [{ type: 'header' as const, parameters: Array.from({ length: gh }, () => text('x')) }] : []),
          ...(gb > 0 ? [{ type: 'body' as const, parameters: Array.from({ length: gb }, () => text('y')) }] : []),
        ]
        expect(checkTemplateParameters(s, req(components)).ok).toBe(h === gh && b === gb)
      }),
    )
  })
})

describe('RegisterTemplateSchema', () => {
  it('defaults category and status, upper-cases them, and lets counts override components', () => {
    const input = RegisterTemplateSchema.parse({ name: 'x', language: 'en', category: 'marketing', components: REVIVE_ISSUE, body_parameters: 3 })
    expect(input.category).toBe('MARKETING')
    expect(input.status).toBe('APPROVED')
    expect(shapeOfRegistration(input)).toMatchObject({ header: 1, body: 3 })
    expect(shapeOfRegistration(RegisterTemplateSchema.parse({ name: 'y', language: 'en', buttons: [{ type: 'copy_code' }, { type: 'quick_reply' }] })).buttons).toEqual([
      { type: 'copy_code', parameters: 1 },
      { type: 'quick_reply', parameters: 0 },
    ])
  })

  it('refuses unknown categories and keys', () => {
    expect(RegisterTemplateSchema.safeParse({ name: 'x', language: 'en', category: 'SPAM' }).success).toBe(false)
    expect(RegisterTemplateSchema.safeParse({ name: 'x', language: 'en', extra: true }).success).toBe(false)
  })
})
