import type { Dispatcher } from 'undici'
import type { SecretBox } from '../../crypto.js'
import { newId } from '../../domain/ids.js'
import { planRun, type EventEnvelope, type RuleSpec, type Step } from '../../domain/rules.js'
import { topic } from '../../domain/topics.js'
import type { Store, Tx } from '../../store/db.js'
import type { EventTable, RuleTable } from '../../store/schema.js'
import type { AccountService } from '../accounts.js'
import { ApiError } from '../api-error.js'
import type { Clock } from '../clock.js'
import { appendEvent, type Envelope } from '../events.js'
import type { AcceptedBody, MessageService } from '../messages.js'
import { envelopeJson } from '../subscriptions/envelope.js'
import { postWebhook } from '../subscriptions/http-post.js'
import { signWith, Webhook } from '../subscriptions/signing.js'
import { ActionFailed, applyStep, prepare, type ActionResult, type Prepared } from './actions.js'

/**
 * One run of one rule on one event (DESIGN §13):
 * 1. the plan (pure) says what each action acts on; one that cannot apply fails the run;
 * 2. the store actions (fallback_send, stop_contact, mark_urn_unreachable, add_urn) commit in ONE
 *    transaction with the run row, unique per (rule, event), so they happen exactly once: a run
 *    found already there is skipped, and an action refused rolls every store action back;
 * 3. then the webhook actions are posted, signed like subscription deliveries (at least once: the
 *    run row waits in state `webhooks` meanwhile, and a crash there posts them again);
 * 4. `rule.fired` or `rule.failed` is appended with each action's outcome.
 *
 * @example
 * const outcome = await runRule(ctx, ruleRow, eventRow, spec) // 'fired' | 'failed' | 'skipped' | 'aborted'
 */
export interface RunContext {
  store: Store
  accounts: AccountService
  messages: MessageService
  box: SecretBox
  clock: Clock
  http?: Dispatcher
  stop?: AbortSignal
  onEvents?: (events: Envelope[]) => void
}

/** `aborted`: the gateway is stopping; the run was not finished and must be taken up again. */
export type RunOutcome = 'fired' | 'failed' | 'skipped' | 'aborted'

export interface RunError {
  index: number | null
  type: string | null
  code: string
  detail: string
}

interface RunResult {
  actions: ActionResult[]
  error?: RunError
}

type EventRow = Pick<EventTable, 'id' | 'type' | 'topic' | 'account' | 'created_at' | 'data'> & { seq: number }

/** Thrown inside the run's transaction when the run row is already there: everything rolls back. */
class AlreadyRun extends Error {}

export function envelopeOf(row: EventRow): EventEnvelope {
  return { id: row.id, type: row.type, topic: row.topic, account: row.account, data: JSON.parse(row.data) as Record<string, unknown> }
}

async function insertRun(tx: Tx, rule: RuleTable, event: EventRow, state: string, result: RunResult, now: number): Promise<boolean> {
  const res = await tx
    .insertInto('rule_runs')
    .values({ id: newId('rrun', now), tenant_id: rule.tenant_id, rule_id: rule.id, event_id: event.id, event_seq: Number(event.seq), state, result: JSON.stringify(result), created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['rule_id', 'event_id']).doNothing())
    .executeTakeFirst()
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0
}

/** Moves a run out of `webhooks`; false when another process already did. */
async function finishRun(tx: Tx, rule: RuleTable, event: EventRow, state: string, result: RunResult, now: number): Promise<boolean> {
  const res = await tx
    .updateTable('rule_runs')
    .set({ state, result: JSON.stringify(result), updated_at: now })
    .where('rule_id', '=', rule.id)
    .where('event_id', '=', event.id)
    .where('state', '=', 'webhooks')
    .executeTakeFirst()
  return Number(res.numUpdatedRows ?? 0) > 0
}

function ruleEvent(tx: Tx, rule: RuleTable, e: EventEnvelope, kind: 'fired' | 'failed', result: RunResult, now: number): Promise<Envelope> {
  return appendEvent(
    tx,
    {
      tenantId: rule.tenant_id,
      type: `rule.${kind}`,
      topic: topic('rule', rule.name, kind),
      account: e.account,
      data: { rule: { id: rule.id, name: rule.name }, event: { id: e.id, type: e.type, topic: e.topic }, actions: result.actions, ...(result.error ? { error: result.error } : {}) },
    },
    now,
  )
}

/** Records a failed run (once) with its rule.failed event. */
export async function recordFailed(ctx: RunContext, rule: RuleTable, event: EventRow, e: EventEnvelope, result: RunResult, pending: boolean): Promise<RunOutcome> {
  const events = await ctx.store.write(async (tx) => {
    const now = ctx.clock.now()
    const recorded = pending ? await finishRun(tx, rule, event, 'failed', result, now) : await insertRun(tx, rule, event, 'failed', result, now)
    return recorded ? [await ruleEvent(tx, rule, e, 'failed', result, now)] : []
  })
  ctx.onEvents?.(events)
  return events.length > 0 ? 'failed' : 'skipped'
}

const failure = (err: ActionFailed): RunError => ({ index: err.index, type: err.type, code: err.code, detail: err.message })

/**
 * The store actions and the run row in one transaction: through the message service's accept()
 * when the rule falls back (so the fallback is validated, queued and announced like any send),
 * else in a plain write. Returns undefined when the run was already recorded.
 */
async function applyStoreActions(ctx: RunContext, p: Prepared, rule: RuleTable, event: EventRow, e: EventEnvelope, steps: Step[], state: 'fired' | 'webhooks'): Promise<ActionResult[] | undefined> {
  let collected: Envelope[] = []
  let results: ActionResult[] = []
  const body = async (tx: Tx, sent?: AcceptedBody) => {
    // Re-runnable (PostgreSQL retries a transaction): start from scratch each time.
    collected = []
    results = []
    const now = ctx.clock.now()
    for (const s of steps) {
      if (s.type === 'fallback_send' && sent && p.fallback) {
        const ids = sent.parts ?? [sent.id]
        await tx.updateTable('messages').set({ fallback_of: p.fallback.originalId }).where('id', 'in', ids).execute()
        results.push({ index: s.index, type: s.type, ok: true, account: p.fallback.account, to: p.fallback.request.to, message_id: sent.id, ...(sent.parts ? { parts: sent.parts } : {}), fallback_of: p.fallback.originalId })
      } else if (s.type !== 'webhook' && s.type !== 'fallback_send') {
        results.push(await applyStep(tx, p, s, e, now, collected))
      }
    }
    if (!(await insertRun(tx, rule, event, state, { actions: results }, now))) throw new AlreadyRun()
    if (state === 'fired') collected.push(await ruleEvent(tx, rule, e, 'fired', { actions: results }, now))
  }
  try {
    if (p.fallback) {
      const fallback = p.fallback
      try {
        await ctx.messages.accept(p.tenantId, fallback.request, undefined, (tx, sent) => body(tx, sent))
      } catch (err) {
        if (err instanceof ApiError) throw new ActionFailed(fallback.index, 'fallback_send', err.code, err.message)
        throw err
      }
    } else {
      await ctx.store.write((tx) => body(tx))
    }
  } catch (err) {
    if (err instanceof AlreadyRun) return undefined
    throw err
  }
  ctx.onEvents?.(collected)
  return results
}

/** Posts the webhook actions in order; the first that fails ends the run. */
async function postWebhooks(ctx: RunContext, rule: RuleTable, event: EventRow, steps: Step[]): Promise<{ results: ActionResult[]; error?: RunError; aborted?: boolean }> {
  const results: ActionResult[] = []
  if (steps.length === 0) return { results }
  const signer = new Webhook(ctx.box.open(rule.secret_sealed))
  const body = envelopeJson(event)
  for (const s of steps) {
    if (s.type !== 'webhook') continue
    // Unique per (event, rule): a receiver that also subscribes to the event does not drop one as a duplicate.
    const headers = { ...signWith(signer, `${event.id}.${rule.id}`, ctx.clock.now(), body), 'wagate-rule': rule.id }
    const outcome = await postWebhook(s.url, body, headers, { timeoutMs: s.timeoutMs, ...(ctx.http ? { dispatcher: ctx.http } : {}), ...(ctx.stop ? { stop: ctx.stop } : {}) })
    if (outcome.aborted) return { results, aborted: true }
    const ok = outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300
    results.push({ index: s.index, type: s.type, ok, url: s.url, status: outcome.status ?? null, latency_ms: outcome.latencyMs, ...(outcome.error ? { error: outcome.error } : {}) })
    if (!ok) {
      const status = outcome.status
      const detail = outcome.error ?? (status !== undefined && status >= 300 && status < 400 ? `HTTP ${status}: redirects are not followed` : `HTTP ${status ?? '?'}`)
      return { results, error: { index: s.index, type: s.type, code: 'webhook_failed', detail: `${s.url}: ${detail}` } }
    }
  }
  return { results }
}

/**
 * Runs `rule` on `event` (already known to match). `pending` holds the stored outcome of the store
 * actions when a run left in state `webhooks` (a crash) is taken up again.
 */
export async function runRule(ctx: RunContext, rule: RuleTable, event: EventRow, spec: RuleSpec, pending?: ActionResult[]): Promise<RunOutcome> {
  if (pending === undefined) {
    // Recorded already (a page read again): nothing to do. A run still in `webhooks` belongs to the resume pass.
    const seen = await ctx.store.read.selectFrom('rule_runs').select('state').where('rule_id', '=', rule.id).where('event_id', '=', event.id).executeTakeFirst()
    if (seen) return 'skipped'
  }
  const e = envelopeOf(event)
  const plan = planRun(spec, e)
  if (!plan.ok) return recordFailed(ctx, rule, event, e, { actions: [], error: { ...plan.error, code: 'not_applicable' } }, pending !== undefined)
  const storeSteps = plan.steps.filter((s) => s.type !== 'webhook')
  const hooks = plan.steps.filter((s) => s.type === 'webhook')
  let done: ActionResult[] = pending ?? []
  let stored = pending !== undefined
  if (!stored && (storeSteps.length > 0 || hooks.length === 0)) {
    try {
      const p = await prepare(ctx, rule.tenant_id, { id: rule.id, name: rule.name }, storeSteps)
      const results = await applyStoreActions(ctx, p, rule, event, e, storeSteps, hooks.length === 0 ? 'fired' : 'webhooks')
      if (!results) return 'skipped'
      if (hooks.length === 0) return 'fired'
      done = results
      stored = true
    } catch (err) {
      if (err instanceof ActionFailed) return recordFailed(ctx, rule, event, e, { actions: [], error: failure(err) }, false)
      throw err
    }
  }
  const posted = await postWebhooks(ctx, rule, event, hooks)
  // Stopping: the run row (if any) stays in `webhooks` and is taken up at the next start.
  if (posted.aborted) return 'aborted'
  const result: RunResult = { actions: [...done, ...posted.results], ...(posted.error ? { error: posted.error } : {}) }
  if (posted.error) return recordFailed(ctx, rule, event, e, result, stored)
  const events = await ctx.store.write(async (tx) => {
    const now = ctx.clock.now()
    const recorded = stored ? await finishRun(tx, rule, event, 'fired', result, now) : await insertRun(tx, rule, event, 'fired', result, now)
    return recorded ? [await ruleEvent(tx, rule, e, 'fired', result, now)] : []
  })
  ctx.onEvents?.(events)
  return events.length > 0 ? 'fired' : 'skipped'
}
