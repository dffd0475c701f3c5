import type { ProviderStatus, RawRequest, WebhookItem } from '../types.js'
import { normalizeWebhookError, partyFromId, readContacts, withContact } from './party.js'
import { parseInboundMessage } from './parse-message.js'
import { changeSchema, changeValueSchema, entrySchema, envelopeSchema, statusSchema, type MetaContact } from './webhook-schemas.js'

/** Meta's status words (providers/meta.md §2.6) in wagate's vocabulary. */
const STATUS_WORDS: Readonly<Record<string, ProviderStatus>> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  played: 'played',
  failed: 'failed',
  deleted: 'deleted',
}

function parseStatus(raw: unknown, contacts: readonly MetaContact[], address: string | undefined): WebhookItem {
  const parsed = statusSchema.safeParse(raw)
  if (!parsed.success) return { kind: 'rejected', reason: `malformed status: ${parsed.error.issues[0]?.message ?? 'invalid'}` }
  const s = parsed.data
  const status = Object.hasOwn(STATUS_WORDS, s.status) ? STATUS_WORDS[s.status] : undefined
  if (!status) return { kind: 'rejected', reason: `unknown status word '${s.status.slice(0, 40)}'` }
  const recipient = withContact(
    {
      ...partyFromId(s.recipient_id),
      ...(s.recipient_user_id ? { userId: s.recipient_user_id } : {}),
      ...(s.parent_recipient_user_id ? { parentUserId: s.parent_recipient_user_id } : {}),
    },
    contacts,
  )
  const firstError = s.errors?.[0]
  return {
    kind: 'status',
    status: {
      providerMessageId: s.id,
      status,
      providerStatus: s.status,
      timestamp: s.timestamp,
      recipient,
      ...(firstError !== undefined ? { error: normalizeWebhookError(firstError) } : {}),
      ...(address ? { address } : {}),
      raw,
    },
  }
}

function parseChangeValue(rawValue: unknown): WebhookItem[] {
  const parsed = changeValueSchema.safeParse(rawValue)
  if (!parsed.success) return [{ kind: 'rejected', reason: 'malformed messages change value' }]
  const value = parsed.data
  const address = value.metadata?.phone_number_id
  const contacts = readContacts(value.contacts)
  const items: WebhookItem[] = [
    ...(value.messages ?? []).map((m) => parseInboundMessage(m, contacts, address)),
    ...(value.statuses ?? []).map((s) => parseStatus(s, contacts, address)),
    ...(value.errors ?? []).map(
      (e): WebhookItem => ({ kind: 'account_error', error: normalizeWebhookError(e), ...(address ? { address } : {}), raw: e }),
    ),
  ]
  return items.length > 0 ? items : [{ kind: 'ignored', reason: 'messages change with no messages, statuses or errors' }]
}

function parseEntry(rawEntry: unknown): WebhookItem[] {
  const entry = entrySchema.safeParse(rawEntry)
  if (!entry.success) return [{ kind: 'rejected', reason: 'entry without changes[]' }]
  return entry.data.changes.flatMap((rawChange): WebhookItem[] => {
    const change = changeSchema.safeParse(rawChange)
    if (!change.success) return [{ kind: 'rejected', reason: 'change without field' }]
    // account_update, message_template_status_update, …: real traffic, just not message traffic
    if (change.data.field !== 'messages') return [{ kind: 'ignored', reason: `field '${change.data.field.slice(0, 60)}'` }]
    return parseChangeValue(change.data.value)
  })
}

/**
 * Reads a Cloud API webhook body into items: one per message, status and account error, across
 * every entry and change. Never throws; bad JSON or bad shapes become `rejected` items.
 *
 * @example
 * parseMetaWebhook(req) // [{ kind: 'message', message: { providerMessageId: 'wamid.…', from: { phone: '+9729…' }, … } }]
 */
export function parseMetaWebhook(req: RawRequest): WebhookItem[] {
  try {
    let json: unknown
    try {
      json = JSON.parse(req.body.toString('utf8'))
    } catch {
      return [{ kind: 'rejected', reason: 'body is not JSON' }]
    }
    const envelope = envelopeSchema.safeParse(json)
    if (!envelope.success) return [{ kind: 'rejected', reason: 'not a WhatsApp webhook envelope' }]
    if (envelope.data.object !== undefined && envelope.data.object !== 'whatsapp_business_account') {
      return [{ kind: 'ignored', reason: `object '${envelope.data.object.slice(0, 60)}'` }]
    }
    const items = envelope.data.entry.flatMap(parseEntry)
    return items.length > 0 ? items : [{ kind: 'ignored', reason: 'webhook with no entries' }]
  } catch {
    // defence in depth: the contract says parse never throws, whatever arrives
    return [{ kind: 'rejected', reason: 'unreadable webhook' }]
  }
}

/**
 * The phone_number_ids a webhook body names, for app-wide routing. Reads untrusted input, so it
 * only collects strings and never throws.
 *
 * @example
 * metaRouteKeys(req) // ['106540352242922']
 */
export function metaRouteKeys(req: RawRequest): string[] {
  try {
    const envelope = envelopeSchema.safeParse(JSON.parse(req.body.toString('utf8')))
    if (!envelope.success) return []
    const keys = new Set<string>()
    for (const rawEntry of envelope.data.entry) {
      const entry = entrySchema.safeParse(rawEntry)
      for (const rawChange of entry.success ? entry.data.changes : []) {
        const change = changeSchema.safeParse(rawChange)
        const value = change.success ? changeValueSchema.safeParse(change.data.value) : undefined
        const id = value?.success ? value.data.metadata?.phone_number_id : undefined
        if (id) keys.add(id)
      }
    }
    return [...keys]
  } catch {
    return []
  }
}
