import { z } from 'zod'

/**
 * The 24-hour customer-service window and what to do with a message when it is closed (DESIGN §8).
 * Pure: no I/O, time is passed in.
 *
 * WhatsApp lets a business send free-form messages for 24 h after the contact's last inbound
 * message; outside it only an approved template goes out. A template does not open the window: only
 * the contact writing does.
 *
 * @example
 * windowOf(Date.parse('2026-01-01T10:00:00Z'), Date.parse('2026-01-02T09:00:00Z'))
 * // { open: true, expiresAt: Date.parse('2026-01-02T10:00:00Z') }
 * closedWindowDecision('stash', 'text', { open: false, expiresAt: null }) // 'stash'
 * closedWindowDecision('reject', 'template', { open: false, expiresAt: null }) // 'send'
 */
export const WINDOW_MS = 24 * 3600 * 1000

export const WINDOW_POLICIES = ['reject', 'stash', 'send'] as const
export type WindowPolicy = (typeof WINDOW_POLICIES)[number]

export interface WindowState {
  open: boolean
  /** When the window closes (or closed); null when the contact never wrote. */
  expiresAt: number | null
}

/** The window of one (account, contact) from the time of the contact's last inbound message. */
export function windowOf(lastInboundAt: number | null | undefined, now: number): WindowState {
  if (lastInboundAt === null || lastInboundAt === undefined || !Number.isFinite(lastInboundAt)) return { open: false, expiresAt: null }
  const expiresAt = lastInboundAt + WINDOW_MS
  return { open: expiresAt > now, expiresAt }
}

/**
 * Whether a message of this type may only go out while the window is open. Templates never need
 * it. Reactions do: WhatsApp treats them as free-form messages (a business cannot react to a
 * contact who has not written in 24 h), so they follow the account's policy like text.
 */
export function needsOpenWindow(type: string): boolean {
  return type !== 'template'
}

/** `send` (go to the provider now), `reject` (refuse at the API) or `stash` (hold behind an interaction request). */
export type WindowDecision = 'send' | 'reject' | 'stash'

/**
 * What to do with an outbound message of `type` given the window and the account's policy. An open
 * window or a template always sends; a closed window follows the policy (`send` lets the provider
 * decide, and its window error becomes `outside_window`).
 */
export function closedWindowDecision(policy: WindowPolicy, type: string, window: WindowState): WindowDecision {
  if (window.open || !needsOpenWindow(type)) return 'send'
  return policy
}

/** Default payloads of the interaction template's quick-reply buttons (compared case-insensitively). */
export const DEFAULT_ACCEPT_PAYLOADS = ['accept', 'yes'] as const
export const DEFAULT_DECLINE_PAYLOADS = ['decline', 'no'] as const
/** How long a stashed message waits for the contact before it fails with `stash_expired`. */
export const DEFAULT_STASH_TTL_MINUTES = 24 * 60

/**
 * The account's interaction-request template: sent once when a message is stashed, to ask the
 * contact to reply (which opens the window). `parameters` are the body's text parameters, in order.
 * A quick-reply button whose payload (or, without one, its text) is in `decline_payloads` declines;
 * any other inbound message — an accept button or plain text — releases the stash.
 */
export const InteractionTemplateSchema = z
  .object({
    name: z.string().min(1).max(512),
    language: z.string().min(2).max(15),
    parameters: z.array(z.string().min(1).max(1024)).max(20).default([]),
    accept_payloads: z.array(z.string().min(1).max(256)).max(20).default([...DEFAULT_ACCEPT_PAYLOADS]),
    decline_payloads: z.array(z.string().min(1).max(256)).max(20).default([...DEFAULT_DECLINE_PAYLOADS]),
  })
  .strict()
export type InteractionTemplate = z.infer<typeof InteractionTemplateSchema>

/** The parts of an inbound message that say what the contact answered. */
export interface ReplySignal {
  type: string
  button?: { text: string; payload?: string } | undefined
  interactive?: { id: string; title: string } | undefined
}

export type ReplyIntent = 'accept' | 'decline' | 'reply'

const norm = (s: string) => s.trim().toLowerCase()

/**
 * What an inbound message means for a stash: a tapped button (template quick reply, or an
 * interactive reply) whose payload is a decline payload declines; one whose payload is an accept
 * payload accepts; anything else is a plain reply. Only accept and reply release the stash.
 *
 * @example
 * replyIntent({ type: 'button', button: { text: 'No', payload: 'No' } }, template) // 'decline'
 * replyIntent({ type: 'text' }, template) // 'reply'
 */
export function replyIntent(msg: ReplySignal, template: Pick<InteractionTemplate, 'accept_payloads' | 'decline_payloads'> | undefined): ReplyIntent {
  const tapped = msg.button ? (msg.button.payload ?? msg.button.text) : msg.interactive ? msg.interactive.id : undefined
  if (tapped === undefined) return 'reply'
  const accept = (template?.accept_payloads ?? DEFAULT_ACCEPT_PAYLOADS).map(norm)
  const decline = (template?.decline_payloads ?? DEFAULT_DECLINE_PAYLOADS).map(norm)
  if (decline.includes(norm(tapped))) return 'decline'
  if (accept.includes(norm(tapped))) return 'accept'
  return 'reply'
}
