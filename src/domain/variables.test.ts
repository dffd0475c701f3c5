import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fillContent, fillText } from './variables.js'

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/)

describe('fillText', () => {
  it('fills names with or without inner spaces, and reports every missing one', () => {
    expect(fillText('Hi {{ name }}, order {{order}}', { name: 'Ana', order: '#12' })).toEqual({ ok: true, text: 'Hi Ana, order #12' })
    expect(fillText('{{a}} {{b}} {{a}} {{c}}', { b: '1' })).toEqual({ ok: false, missing: ['a', 'c'] })
  })

  it('leaves text that is not a placeholder alone', () => {
    expect(fillText('{ {a} } {{}} {{ a b }} {a}', {})).toEqual({ ok: true, text: '{ {a} } {{}} {{ a b }} {a}' })
  })

  it('does not find Object.prototype names', () => {
    expect(fillText('{{constructor}}', {})).toEqual({ ok: false, missing: ['constructor'] })
  })

  it('property: one pass — a value containing a placeholder is not expanded again', () => {
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(fillText(`<{{${a}}}>`, { [a]: `{{${b}}}` })).toEqual({ ok: true, text: `<{{${b}}}>` })
      }),
      { numRuns: 200 },
    )
  })

  it('property: text without braces is unchanged whatever the variables', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !s.includes('{')), fc.dictionary(name, fc.string()), (s, vars) => {
        expect(fillText(s, vars)).toEqual({ ok: true, text: s })
      }),
    )
  })

  it('property: every provided name is filled', () => {
    fc.assert(
      fc.property(fc.dictionary(name, fc.string().filter((v) => !v.includes('{'))), (vars) => {
        const template = Object.keys(vars).map((k) => `[{{${k}}}]`).join(' ')
        const r = fillText(template, vars)
        expect(r).toEqual({ ok: true, text: Object.values(vars).map((v) => `[${v}]`).join(' ') })
      }),
    )
  })
})

describe('fillContent', () => {
  const vars = { name: 'Ana', code: '42' }

  it('fills text, captions, interactive texts and template text parameters', () => {
    expect(fillContent({ type: 'text', text: 'Hi {{name}}' }, vars)).toEqual({ ok: true, value: { type: 'text', text: 'Hi Ana' } })
    expect(fillContent({ type: 'image', media: { url: 'https://x.y/a.jpg', caption: 'for {{name}}' } }, vars)).toEqual({ ok: true, value: { type: 'image', media: { url: 'https://x.y/a.jpg', caption: 'for Ana' } } })
    const interactive = fillContent({ type: 'interactive', interactive: { type: 'button', header: { type: 'text', text: '{{name}}' }, body: 'code {{code}}', footer: 'f', buttons: [{ id: 'a', title: 'A' }] } }, vars)
    expect(interactive).toMatchObject({ ok: true, value: { interactive: { header: { text: 'Ana' }, body: 'code 42', footer: 'f' } } })
    const template = fillContent(
      { type: 'template', template: { name: 't', language: 'en', components: [{ type: 'body', parameters: [{ type: 'text', text: '{{name}}' }, { type: 'payload', payload: '{{name}}' }] }] } },
      vars,
    )
    expect(template).toMatchObject({ ok: true, value: { template: { components: [{ parameters: [{ text: 'Ana' }, { payload: '{{name}}' }] }] } } })
  })

  it('reports the missing names of the whole content', () => {
    expect(fillContent({ type: 'interactive', interactive: { type: 'button', body: '{{a}}', footer: '{{b}}', buttons: [{ id: 'a', title: 'A' }] } }, {})).toEqual({ ok: false, missing: ['a', 'b'] })
  })
})
