import { topic } from './topics.js'

/**
 * Routing of inbound messages (DESIGN §9): every inbound message gets exactly one topic, first
 * match wins:
 *
 * 1. `reply`: it quotes an outbound message that carried a `reply_ref` →
 *    `incoming.<account>.reply.<reply_ref>`
 * 2. `command`: the account has commands on and the text is a command →
 *    `incoming.<account>.command.<name>.target.<target>.from.<number>`
 * 3. `nextreply`: a next-reply ref is active → `incoming.<account>.nextreply.<ref>`
 * 4. `session`: a session ref is active → `incoming.<account>.session.<ref>`
 * 5. `unsolicited` → `incoming.<account>.from.<number>`
 *
 * Every value is one escaped token (`topic()`), so a ref, a target or a number holding `.`, `*`,
 * `>` or white space can neither split nor forge a topic: the token count is fixed per kind
 * (4, and 8 for commands). Pure: the caller loads the active refs and consumes a used next-reply ref.
 *
 * Commands: the text, after leading white space, is `/` + a name of 1–32 characters from
 * `[A-Za-z0-9_-]`, followed by white space or the end. The name is lower-cased (`/Order` is
 * `order`). The target is the next white-space-separated token, kept as written; a command without
 * one has the empty target, which is the token `%00` (the escape of ''), so the topic keeps its 8
 * tokens. Anything else (`/`, `//x`, `/a/b`, `/help!`, a name over 32 characters) is not a command.
 *
 * @example
 * route({ account: 'acme', from: '+14155550123', text: '/track AB.12', commands: true })
 * // { kind: 'command', topic: 'incoming.acme.command.track.target.AB%2E12.from.+14155550123', command: { name: 'track', target: 'AB.12' } }
 */
export type RoutingKind = 'reply' | 'command' | 'nextreply' | 'session' | 'unsolicited'

export interface RoutingInput {
  /** The account's name (unique in the tenant). */
  account: string
  /** The sender: E.164 number, else `+<wa_id>`, else the business-scoped user id. */
  from: string
  /** The text of a text message; other message types are never commands. */
  text?: string | undefined
  /** `reply_ref` of the outbound message this one quotes, if it carried one. */
  replyRef?: string | null | undefined
  /** Whether the account has commands on. */
  commands: boolean
  /** The active next-reply ref of (account, contact), if any. */
  nextReplyRef?: string | null | undefined
  /** The active session ref of (account, contact), if any. */
  sessionRef?: string | null | undefined
}

export interface Command {
  /** Lower-cased. */
  name: string
  /** As written; '' when the command has none. */
  target: string
}

export type RoutingDecision =
  | { kind: 'reply'; topic: string; ref: string }
  | { kind: 'command'; topic: string; command: Command }
  | { kind: 'nextreply'; topic: string; ref: string }
  | { kind: 'session'; topic: string; ref: string }
  | { kind: 'unsolicited'; topic: string }

/** Number of topic tokens per kind: subscribers can rely on the shape. */
export const TOKENS_PER_KIND: Record<RoutingKind, number> = { reply: 4, command: 8, nextreply: 4, session: 4, unsolicited: 4 }

const COMMAND = /^\s*\/([A-Za-z0-9_-]{1,32})(?:\s+(\S+))?(?:\s|$)/u

/**
 * Parses `/name target…` (see the module comment); undefined when the text is not a command.
 *
 * @example
 * parseCommand('/Status  A-1 please') // { name: 'status', target: 'A-1' }
 * parseCommand('/help')               // { name: 'help', target: '' }
 * parseCommand('/a/b')                // undefined
 */
export function parseCommand(text: string): Command | undefined {
  const m = COMMAND.exec(text)
  if (!m || m[1] === undefined) return undefined
  return { name: m[1].toLowerCase(), target: m[2] ?? '' }
}

/**
 * The one routing decision for an inbound message (DESIGN §9 precedence).
 *
 * @example
 * route({ account: 'acme', from: '+14155550123', commands: false, sessionRef: 'order.42' })
 * // { kind: 'session', topic: 'incoming.acme.session.order%2E42', ref: 'order.42' }
 */
export function route(input: RoutingInput): RoutingDecision {
  const { account, from } = input
  if (input.replyRef) return { kind: 'reply', topic: topic('incoming', account, 'reply', input.replyRef), ref: input.replyRef }
  const command = input.commands && input.text !== undefined ? parseCommand(input.text) : undefined
  if (command) {
    return { kind: 'command', topic: topic('incoming', account, 'command', command.name, 'target', command.target, 'from', from), command }
  }
  if (input.nextReplyRef) return { kind: 'nextreply', topic: topic('incoming', account, 'nextreply', input.nextReplyRef), ref: input.nextReplyRef }
  if (input.sessionRef) return { kind: 'session', topic: topic('incoming', account, 'session', input.sessionRef), ref: input.sessionRef }
  return { kind: 'unsolicited', topic: topic('incoming', account, 'from', from) }
}

/** What the `message.inbound` event carries about the decision (snake_case, API-facing). */
export function routingView(d: RoutingDecision): { kind: RoutingKind; ref?: string; command?: Command } {
  if (d.kind === 'command') return { kind: d.kind, command: d.command }
  if (d.kind === 'unsolicited') return { kind: d.kind }
  return { kind: d.kind, ref: d.ref }
}
