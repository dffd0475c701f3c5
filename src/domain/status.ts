/**
 * The outbound message state machine (DESIGN §2). Status only moves forward; `failed` is terminal
 * and reachable from any state before `read`. Pure: no I/O.
 *
 * @example
 * advance('read', 'delivered')   // { status: 'read', changed: false } — a late delivered never overwrites read
 * advance('sending', 'delivered') // { status: 'delivered', changed: true }
 */
export const MESSAGE_STATUSES = ['accepted', 'stashed', 'queued', 'sending', 'sent', 'delivered', 'read', 'failed'] as const
export type MessageStatus = (typeof MESSAGE_STATUSES)[number]

/** Inbound messages have their own single status. */
export type InboundStatus = 'received'

const RANK: Record<Exclude<MessageStatus, 'failed'>, number> = {
  accepted: 0,
  stashed: 1,
  queued: 2,
  sending: 3,
  sent: 4,
  delivered: 5,
  read: 6,
}

export function isTerminal(status: MessageStatus): boolean {
  return status === 'failed' || status === 'read'
}

export interface Advance {
  status: MessageStatus
  changed: boolean
}

/** Applies an incoming status to the current one, keeping the maximum; failed wins unless read. */
export function advance(current: MessageStatus, incoming: MessageStatus): Advance {
  if (current === 'failed') return { status: current, changed: false }
  if (incoming === 'failed') return current === 'read' ? { status: current, changed: false } : { status: 'failed', changed: true }
  if (RANK[incoming] > RANK[current]) return { status: incoming, changed: true }
  return { status: current, changed: false }
}

/** Maps a normalized provider status word to the message status it implies, if any. */
export function statusFromProvider(word: string): MessageStatus | undefined {
  switch (word) {
    case 'accepted':
    case 'queued':
      return 'sending'
    case 'sent':
      return 'sent'
    case 'delivered':
      return 'delivered'
    case 'read':
    case 'played':
      return 'read'
    case 'failed':
      return 'failed'
    default:
      return undefined
  }
}
