import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseCommand, route, routingView, TOKENS_PER_KIND, type RoutingInput } from './routing.js'
import { unescapeToken } from './topics.js'

const base: RoutingInput = { account: 'acme', from: '+14155550123', commands: true }

describe('route: precedence table (DESIGN §9)', () => {
  const cases: Array<{ what: string; input: Partial<RoutingInput>; kind: string; topic: string }> = [
    { what: 'nothing active → unsolicited', input: { text: 'hello' }, kind: 'unsolicited', topic: 'incoming.acme.from.+14155550123' },
    { what: 'quoted reply_ref → reply', input: { replyRef: 'q-1', text: 'yes' }, kind: 'reply', topic: 'incoming.acme.reply.q-1' },
    { what: 'command', input: { text: '/track AB12' }, kind: 'command', topic: 'incoming.acme.command.track.target.AB12.from.+14155550123' },
    { what: 'next-reply ref', input: { text: 'hi', nextReplyRef: 'ask-name' }, kind: 'nextreply', topic: 'incoming.acme.nextreply.ask-name' },
    { what: 'session ref', input: { text: 'hi', sessionRef: 'order-42' }, kind: 'session', topic: 'incoming.acme.session.order-42' },
    // Conflicts: the higher rule wins.
    { what: 'reply beats command', input: { replyRef: 'q-1', text: '/track AB12' }, kind: 'reply', topic: 'incoming.acme.reply.q-1' },
    { what: 'reply beats next-reply and session', input: { replyRef: 'q-1', nextReplyRef: 'n', sessionRef: 's' }, kind: 'reply', topic: 'incoming.acme.reply.q-1' },
    { what: 'command beats next-reply', input: { text: '/stop', nextReplyRef: 'n' }, kind: 'command', topic: 'incoming.acme.command.stop.target.%00.from.+14155550123' },
    { what: 'command beats session', input: { text: '/stop', sessionRef: 's' }, kind: 'command', topic: 'incoming.acme.command.stop.target.%00.from.+14155550123' },
    { what: 'next-reply beats session', input: { text: 'x', nextReplyRef: 'n', sessionRef: 's' }, kind: 'nextreply', topic: 'incoming.acme.nextreply.n' },
    { what: 'session beats unsolicited', input: { text: 'x', sessionRef: 's' }, kind: 'session', topic: 'incoming.acme.session.s' },
    // Commands off: the text is just text.
    { what: 'commands off: /track falls to next-reply', input: { commands: false, text: '/track AB12', nextReplyRef: 'n' }, kind: 'nextreply', topic: 'incoming.acme.nextreply.n' },
    { what: 'commands off: /track is unsolicited', input: { commands: false, text: '/track AB12' }, kind: 'unsolicited', topic: 'incoming.acme.from.+14155550123' },
    { what: 'no text (media, button) is never a command', input: { text: undefined, sessionRef: 's' }, kind: 'session', topic: 'incoming.acme.session.s' },
    // Escaping: values cannot split or forge.
    { what: 'a dotted ref stays one token', input: { sessionRef: 'a.b' }, kind: 'session', topic: 'incoming.acme.session.a%2Eb' },
    { what: 'a forging ref stays one token', input: { nextReplyRef: 'x.reply.y' }, kind: 'nextreply', topic: 'incoming.acme.nextreply.x%2Ereply%2Ey' },
    { what: 'wildcards and spaces in a reply_ref', input: { replyRef: '* >' }, kind: 'reply', topic: 'incoming.acme.reply.%2A%20%3E' },
    { what: 'a dotted command target', input: { text: '/Track A.B*' }, kind: 'command', topic: 'incoming.acme.command.track.target.A%2EB%2A.from.+14155550123' },
    { what: 'a user id sender', input: { from: 'US.1234', text: 'hi' }, kind: 'unsolicited', topic: 'incoming.acme.from.US%2E1234' },
  ]
  it.each(cases)('$what', ({ input, kind, topic }) => {
    const d = route({ ...base, ...input })
    expect(d.kind).toBe(kind)
    expect(d.topic).toBe(topic)
  })

  it('carries the ref or the command it chose', () => {
    expect(route({ ...base, sessionRef: 's', nextReplyRef: 'n' })).toMatchObject({ kind: 'nextreply', ref: 'n' })
    expect(route({ ...base, text: '/Buy  Milk later' })).toMatchObject({ kind: 'command', command: { name: 'buy', target: 'Milk' } })
    expect(routingView(route({ ...base, text: '/buy' }))).toEqual({ kind: 'command', command: { name: 'buy', target: '' } })
    expect(routingView(route({ ...base, sessionRef: 's' }))).toEqual({ kind: 'session', ref: 's' })
    expect(routingView(route(base))).toEqual({ kind: 'unsolicited' })
  })
})

describe('parseCommand', () => {
  const table: Array<[string, { name: string; target: string } | undefined]> = [
    ['/help', { name: 'help', target: '' }],
    ['/help   ', { name: 'help', target: '' }],
    ['  /Help me now', { name: 'help', target: 'me' }],
    ['/order\nAB-1', { name: 'order', target: 'AB-1' }],
    ['/snake_case-1 x', { name: 'snake_case-1', target: 'x' }],
    [`/${'a'.repeat(32)} t`, { name: 'a'.repeat(32), target: 't' }],
    [`/${'a'.repeat(33)} t`, undefined],
    ['/', undefined],
    ['/ help', undefined],
    ['//help', undefined],
    ['/a/b', undefined],
    ['/help!', undefined],
    ['/héllo', undefined],
    ['help /me', undefined],
    ['', undefined],
  ]
  it.each(table)('%j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected)
  })
})

/** Strings rich in what could split or forge a topic. */
const hostile = fc
  .array(fc.oneof(fc.constantFrom('.', '*', '>', '%', '%2E', '%00', ' ', '\t', '\n', '\u3000', '\u2028', 'reply', 'session'), fc.string({ maxLength: 4 })), { maxLength: 10 })
  .map((xs) => xs.join(''))
const value = fc.oneof(hostile, fc.string({ unit: 'binary', maxLength: 30 }))
const ref = value.filter((v) => v.length > 0)
const commandText = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), fc.option(value.map((v) => v.replace(/\s/g, '')).filter((v) => v.length > 0), { nil: undefined }))
  .map(([name, target]) => ({ text: `/${name}${target !== undefined ? ` ${target} rest` : ''}`, name: name.toLowerCase(), target: target ?? '' }))

const inputs = fc.record({
  account: fc.oneof(fc.constant('acme'), value),
  from: value,
  text: fc.option(fc.oneof(value, commandText.map((c) => c.text)), { nil: undefined }),
  replyRef: fc.option(ref, { nil: undefined }),
  commands: fc.boolean(),
  nextReplyRef: fc.option(ref, { nil: undefined }),
  sessionRef: fc.option(ref, { nil: undefined }),
})

describe('route: properties', () => {
  it('the token count is fixed per kind and the decoded tokens equal the inputs', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const d = route(input)
        const tokens = d.topic.split('.')
        expect(tokens).toHaveLength(TOKENS_PER_KIND[d.kind])
        expect(tokens[0]).toBe('incoming')
        const decoded = tokens.slice(1).map(unescapeToken)
        switch (d.kind) {
          case 'reply':
            expect(decoded).toEqual([input.account, 'reply', input.replyRef])
            break
          case 'command':
            expect(decoded).toEqual([input.account, 'command', d.command.name, 'target', d.command.target, 'from', input.from])
            break
          case 'nextreply':
            expect(decoded).toEqual([input.account, 'nextreply', input.nextReplyRef])
            break
          case 'session':
            expect(decoded).toEqual([input.account, 'session', input.sessionRef])
            break
          case 'unsolicited':
            expect(decoded).toEqual([input.account, 'from', input.from])
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('follows the precedence: the first rule that applies wins, whatever else is set', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const d = route(input)
        const isCommand = input.commands && input.text !== undefined && parseCommand(input.text) !== undefined
        const expected = input.replyRef ? 'reply' : isCommand ? 'command' : input.nextReplyRef ? 'nextreply' : input.sessionRef ? 'session' : 'unsolicited'
        expect(d.kind).toBe(expected)
      }),
      { numRuns: 2000 },
    )
  })

  it('a command names its lower-cased name and its first token as target', () => {
    fc.assert(
      fc.property(commandText, (c) => {
        const d = route({ ...base, text: c.text })
        expect(d).toMatchObject({ kind: 'command', command: { name: c.name, target: c.target } })
      }),
    )
  })

  it('two inputs that differ in the chosen value never share a topic', () => {
    fc.assert(
      fc.property(ref, ref, (a, b) => {
        fc.pre(a !== b)
        expect(route({ ...base, sessionRef: a }).topic).not.toBe(route({ ...base, sessionRef: b }).topic)
        expect(route({ ...base, nextReplyRef: a }).topic).not.toBe(route({ ...base, sessionRef: a }).topic)
      }),
    )
  })
})
