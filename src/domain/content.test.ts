import { describe, expect, it } from 'vitest'
import {
  InteractiveSchema,
  LocationSchema,
  MediaSchema,
  mimeFromName,
  ReactionSchema,
  TemplateComponentSchema,
  TemplateParameterSchema,
  TemplateSchema,
} from './content.js'

const row = (i: number) => ({ id: `r${i}`, title: `Row ${i}` })

describe('MediaSchema', () => {
  it.each([
    [{ url: 'https://example.com/a.jpg' }],
    [{ url: 'http://example.com/a.jpg', caption: 'hi', filename: 'a.jpg', mime_type: 'image/jpeg', size: 1234 }],
    [{ id: '1234567890' }],
    [{ id: 'media-1', caption: '' }],
  ])('accepts %j', (media) => {
    expect(MediaSchema.safeParse(media).success).toBe(true)
  })

  it.each([
    ['both url and id', { url: 'https://example.com/a.jpg', id: '123' }],
    ['neither url nor id', { caption: 'hi' }],
    ['a relative URL', { url: '/a.jpg' }],
    ['a non-http scheme', { url: 'file:///etc/passwd' }],
    ['a data URL', { url: 'data:image/png;base64,AAAA' }],
    ['an unknown field', { url: 'https://example.com/a.jpg', link: 'x' }],
    ['a negative size', { url: 'https://example.com/a.jpg', size: -1 }],
    ['a fractional size', { url: 'https://example.com/a.jpg', size: 1.5 }],
    ['an empty id', { id: '' }],
    ['an empty filename', { url: 'https://example.com/a.jpg', filename: '' }],
    ['a URL over 2048 characters', { url: `https://example.com/${'a'.repeat(2040)}` }],
  ])('refuses %s', (_name, media) => {
    expect(MediaSchema.safeParse(media).success).toBe(false)
  })
})

describe('Template schemas', () => {
  // providers/meta.md §1.2 template body: header image, body text, quick_reply and url buttons
  const documented = {
    name: 'order_update',
    language: 'en_US',
    components: [
      { type: 'header', parameters: [{ type: 'image', url: 'https://example.com/h.png' }] },
      { type: 'body', parameters: [{ type: 'text', text: 'Ana' }] },
      { type: 'button', sub_type: 'quick_reply', index: 0, parameters: [{ type: 'payload', payload: 'yes' }] },
      { type: 'button', sub_type: 'url', index: 1, parameters: [{ type: 'text', text: 'abc' }] },
    ],
  }

  it('accepts the documented template shape, and one without components', () => {
    expect(TemplateSchema.safeParse(documented).success).toBe(true)
    expect(TemplateSchema.safeParse({ name: 'hello_world', language: 'en' }).success).toBe(true)
  })

  it('defaults parameters to an empty list', () => {
    expect(TemplateComponentSchema.parse({ type: 'body' })).toEqual({ type: 'body', parameters: [] })
  })

  it.each([
    ['a button without sub_type', { type: 'button', index: 0 }],
    ['a button without index', { type: 'button', sub_type: 'url' }],
    ['an index over 9', { type: 'button', sub_type: 'url', index: 10 }],
    ['an unknown component type', { type: 'footer' }],
    ['an unknown sub_type', { type: 'button', sub_type: 'call', index: 0 }],
  ])('refuses a component with %s', (_name, component) => {
    expect(TemplateComponentSchema.safeParse(component).success).toBe(false)
  })

  it.each([
    ['an unknown parameter type', { type: 'currency', text: 'x' }],
    ['a text parameter without text', { type: 'text' }],
    ['a media parameter with a relative URL', { type: 'image', url: 'h.png' }],
    ['a media parameter with a stray field', { type: 'video', url: 'https://example.com/v.mp4', caption: 'x' }],
  ])('refuses %s', (_name, param) => {
    expect(TemplateParameterSchema.safeParse(param).success).toBe(false)
  })

  it('refuses an empty name, a one-letter language and unknown fields', () => {
    expect(TemplateSchema.safeParse({ name: '', language: 'en' }).success).toBe(false)
    expect(TemplateSchema.safeParse({ name: 'x', language: 'e' }).success).toBe(false)
    expect(TemplateSchema.safeParse({ name: 'x', language: 'en', namespace: 'n' }).success).toBe(false)
  })
})

describe('InteractiveSchema', () => {
  const buttons = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `b${i}`, title: `Button ${i}` }))

  it('accepts 1 to 3 reply buttons (providers/meta.md: max 3)', () => {
    for (const n of [1, 3]) expect(InteractiveSchema.safeParse({ type: 'button', body: 'Pick one', buttons: buttons(n) }).success).toBe(true)
  })

  it('refuses 0 or 4 buttons, and a button title over 20 characters', () => {
    expect(InteractiveSchema.safeParse({ type: 'button', body: 'Pick', buttons: [] }).success).toBe(false)
    expect(InteractiveSchema.safeParse({ type: 'button', body: 'Pick', buttons: buttons(4) }).success).toBe(false)
    expect(InteractiveSchema.safeParse({ type: 'button', body: 'Pick', buttons: [{ id: 'a', title: 'x'.repeat(21) }] }).success).toBe(false)
  })

  const list = (sections: Array<{ title?: string; rows: Array<{ id: string; title: string; description?: string }> }>) => ({ type: 'list', body: 'Menu', button: 'Open', sections })

  it('accepts a list with 10 rows, in one section or spread over several', () => {
    expect(InteractiveSchema.safeParse(list([{ rows: Array.from({ length: 10 }, (_, i) => row(i)) }])).success).toBe(true)
    expect(InteractiveSchema.safeParse(list([{ title: 'A', rows: [row(1), row(2), row(3), row(4), row(5)] }, { title: 'B', rows: [row(6), row(7), row(8), row(9), row(10)] }])).success).toBe(true)
  })

  it('refuses more than 10 rows, per section or in total (providers/meta.md: 10 rows max)', () => {
    expect(InteractiveSchema.safeParse(list([{ rows: Array.from({ length: 11 }, (_, i) => row(i)) }])).success).toBe(false)
    const six = (k: number) => Array.from({ length: 6 }, (_, i) => row(k * 10 + i))
    expect(InteractiveSchema.safeParse(list([{ title: 'A', rows: six(1) }, { title: 'B', rows: six(2) }])).success).toBe(false)
  })

  it('refuses an empty section, a row title over 24, a description over 72, a button label over 20', () => {
    expect(InteractiveSchema.safeParse(list([{ rows: [] }])).success).toBe(false)
    expect(InteractiveSchema.safeParse(list([{ rows: [{ id: 'a', title: 'x'.repeat(25) }] }])).success).toBe(false)
    expect(InteractiveSchema.safeParse(list([{ rows: [{ ...row(1), description: 'd'.repeat(73) }] }])).success).toBe(false)
    expect(InteractiveSchema.safeParse({ ...list([{ rows: [row(1)] }]), button: 'x'.repeat(21) }).success).toBe(false)
  })

  it('refuses an unknown interactive type and a non-text header', () => {
    expect(InteractiveSchema.safeParse({ type: 'product', body: 'x' }).success).toBe(false)
    expect(InteractiveSchema.safeParse({ type: 'button', header: { type: 'image', text: 'x' }, body: 'b', buttons: buttons(1) }).success).toBe(false)
  })
})

describe('LocationSchema and ReactionSchema', () => {
  it('accepts coordinates in range and refuses out-of-range ones', () => {
    expect(LocationSchema.safeParse({ latitude: -90, longitude: 180, name: 'Pole' }).success).toBe(true)
    expect(LocationSchema.safeParse({ latitude: 90.1, longitude: 0 }).success).toBe(false)
    expect(LocationSchema.safeParse({ latitude: 0, longitude: -180.5 }).success).toBe(false)
    expect(LocationSchema.safeParse({ latitude: '37.4', longitude: '-122.1' }).success).toBe(false)
  })

  it('accepts an empty emoji (removes the reaction) and refuses a missing message id', () => {
    expect(ReactionSchema.safeParse({ message_id: 'msg_1', emoji: '' }).success).toBe(true)
    expect(ReactionSchema.safeParse({ message_id: '', emoji: '👍' }).success).toBe(false)
  })
})

describe('mimeFromName', () => {
  it.each([
    ['photo.JPG', 'image/jpeg'],
    ['https://example.com/a/b/photo.jpeg?x=1#frag', 'image/jpeg'],
    ['https://example.com/report.pdf', 'application/pdf'],
    ['voice.opus', 'audio/ogg'],
    ['clip.3gp', 'video/3gp'],
    ['sheet.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['archive.tar.zip', 'application/zip'],
  ])('%s → %s', (name, mime) => {
    expect(mimeFromName(name)).toBe(mime)
  })

  it.each([
    [undefined],
    [''],
    ['README'],
    ['pdf'], // a bare word is not an extension
    ['https://example.com/download'], // the host's dot is not an extension
    ['https://example.com/get?file=a.pdf'], // the query is not the path
    ['a.unknownext'],
    ['a.constructor'], // must not reach Object.prototype
    ['a.__proto__'],
    ['a.toString'],
  ])('%j → undefined', (name) => {
    expect(mimeFromName(name)).toBeUndefined()
  })
})
