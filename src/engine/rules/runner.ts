import type { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { Agent, type Dispatcher } from 'undici'
import { createWaker } from '../waker.js'
import type { SecretBox } from '../../crypto.js'
import { ruleMatches, type RuleSpec } from '../../domain/rules.js'
import type { Store } from '../../store/db.js'
import type { RuleTable } from '../../store/schema.js'
import type { AccountService } from '../accounts.js'
import { systemClock, type Clock } from '../clock.js'
import { eventBus, type Envelope } from '../events.js'
import type { MessageService } from '../messages.js'
import type { ActionResult } from './actions.js'
import { bindRules } from './registry.js'
import { recordFailed, envelopeOf, runRule, type RunContext, type RunOutcome } from './run.js'
import { createRuleService, ruleSpecOf, type RuleService } from './service.js'

/**
 * The rule runner (DESIGN §13): reads the event log in `seq` order from each rule's stored cursor,
 * like the subscription fan-out, and runs every matching rule on every event, one run at a time.
 * A run is recorded under a unique (rule, event) key in the same transaction as its store actions,
 * so a restart neither loses a run (the cursor only moves past events whose runs are recorded)
 * nor repeats one (a page read again finds its runs there). Wakes on `eventBus`, polls as a
 * safety net. Runs left waiting for their webhooks by a crash are taken up again.
 *
 * @example
 * const rules = createRuleRunner({ store, box, logger, accounts, messages, onEvents })
 * rules.start()
 * await rules.stop()
 */
export interface RuleRunnerOptions {
  store: Store
  box: SecretBox
  logger: Logger
  accounts: AccountService
  messages: MessageService
  clock?: Clock
  /** Receives rule.* and contact.* events the runner appends, after commit. */
  onEvents?: (events: Envelope[]) => void
  /** Webhook actions may target loopback and private addresses (WAGATE_ALLOW_PRIVATE_WEBHOOKS). */
  allowPrivateWebhooks?: boolean
  pollMs?: number
  pageSize?: number
  dispatcher?: Dispatcher
  bus?: EventEmitter
}

export interface RuleRunnerStats {
  fired: number
  failed: number
}

/** A run that keeps failing for a reason other than its actions (a bug, a broken row) is recorded failed after this many tries. */
const MAX_INTERNAL_TRIES = 3
/** A run waiting for its webhooks longer than this was left by a process that died. */
const ABANDONED_AFTER_MS = 60_000

export function createRuleRunner(opts: RuleRunnerOptions) {
  const clock = opts.clock ?? systemClock
  const pollMs = opts.pollMs ?? 1_000
  const pageSize = opts.pageSize ?? 500
  const bus = opts.bus ?? eventBus
  const ownAgent = opts.dispatcher ? undefined : new Agent({ keepAliveTimeout: 10_000, connections: 16 })
  const stopping = new AbortController()
  const stats: RuleRunnerStats = { fired: 0, failed: 0 }
  const internalTries = new Map<string, number>()
  let running = false
  let dirty = true
  let seenUpTo = -1
  let lastResume = 0
  const waker = createWaker()
  let loopDone: Promise<void> | undefined

  const poke = () => {
    dirty = true
    waker.wake()
  }
  const service: RuleService = createRuleService({ store: opts.store, box: opts.box, clock, accounts: opts.accounts, allowPrivateWebhooks: opts.allowPrivateWebhooks ?? false, wake: poke })
  bindRules(opts.store, service)

  const ctx: RunContext = {
    store: opts.store,
    accounts: opts.accounts,
    messages: opts.messages,
    box: opts.box,
    clock,
    http: opts.dispatcher ?? (ownAgent as Dispatcher),
    stop: stopping.signal,
    ...(opts.onEvents ? { onEvents: opts.onEvents } : {}),
  }

  const count = (outcome: RunOutcome) => {
    if (outcome === 'fired') stats.fired++
    else if (outcome === 'failed') stats.failed++
  }

  /** Runs once; an unexpected error is retried on the next pass, then recorded as the run's failure. */
  const attempt = async (rule: RuleTable, event: Parameters<typeof runRule>[2], spec: RuleSpec, pending?: ActionResult[]): Promise<RunOutcome | 'retry'> => {
    const key = `${rule.id}|${event.id}`
    try {
      const outcome = await runRule(ctx, rule, event, spec, pending)
      internalTries.delete(key)
      return outcome
    } catch (err) {
      const tries = (internalTries.get(key) ?? 0) + 1
      internalTries.set(key, tries)
      opts.logger.error({ err, rule: rule.id, event: event.id, tries }, 'rule run failed unexpectedly')
      if (tries < MAX_INTERNAL_TRIES) return 'retry'
      internalTries.delete(key)
      const detail = err instanceof Error ? err.message : String(err)
      return recordFailed(ctx, rule, event, envelopeOf(event), { actions: [], error: { index: null, type: null, code: 'internal_error', detail } }, pending !== undefined)
    }
  }

  /** Runs whose webhooks were never posted (the process died in between) are finished now. */
  const resumeAbandoned = async () => {
    const now = clock.now()
    if (now - lastResume < ABANDONED_AFTER_MS / 2) return
    lastResume = now
    const runs = await opts.store.read.selectFrom('rule_runs').selectAll().where('state', '=', 'webhooks').where('updated_at', '<', now - ABANDONED_AFTER_MS).limit(50).execute()
    for (const run of runs) {
      if (!running) return
      const rule = await opts.store.read.selectFrom('rules').selectAll().where('id', '=', run.rule_id).executeTakeFirst()
      const event = await opts.store.read.selectFrom('events').select(['seq', 'id', 'type', 'topic', 'account', 'created_at', 'data']).where('id', '=', run.event_id).executeTakeFirst()
      if (!rule || !event) continue
      const pending = (JSON.parse(run.result) as { actions?: ActionResult[] }).actions ?? []
      const outcome = await attempt(rule, { ...event, seq: Number(event.seq) }, ruleSpecOf(rule), pending)
      if (outcome !== 'retry') count(outcome)
    }
  }

  /** One page of the log per tenant; true when there may be more to read at once. */
  const runPage = async (): Promise<boolean> => {
    const top = await opts.store.read.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst()
    const maxSeq = Number(top?.seq ?? 0)
    if (!dirty && maxSeq <= seenUpTo) return false
    dirty = false
    const rules = await opts.store.read.selectFrom('rules').selectAll().orderBy('id').execute()
    if (rules.length === 0) {
      seenUpTo = Math.max(seenUpTo, maxSeq)
      return false
    }
    // Never past a seq a concurrent writer may still commit below (PostgreSQL; see Store.eventHorizon).
    const upTo = await opts.store.eventHorizon()
    const byTenant = new Map<string, RuleTable[]>()
    for (const r of rules) byTenant.set(r.tenant_id, [...(byTenant.get(r.tenant_id) ?? []), r])
    let more = false
    let stalled = false
    for (const [tenantId, tenantRules] of byTenant) {
      const from = Math.min(...tenantRules.map((r) => Number(r.cursor_seq)))
      const events = await opts.store.read
        .selectFrom('events')
        .select(['seq', 'id', 'type', 'topic', 'account', 'created_at', 'data'])
        .where('tenant_id', '=', tenantId)
        .where('seq', '>', from)
        .where('seq', '<=', upTo)
        .orderBy('seq')
        .limit(pageSize)
        .execute()
      if (events.length === 0) continue
      if (events.length === pageSize) more = true
      const specs = tenantRules.map(ruleSpecOf)
      let doneUpTo = from
      pass: for (const row of events) {
        const event = { ...row, seq: Number(row.seq) }
        const envelope = envelopeOf(event)
        for (const [i, rule] of tenantRules.entries()) {
          const spec = specs[i] as RuleSpec
          if (Number(rule.cursor_seq) >= event.seq || !ruleMatches(spec, envelope)) continue
          const outcome = await attempt(rule, event, spec)
          if (outcome === 'retry' || outcome === 'aborted') {
            // Not recorded: the cursor stays before this event and the page is read again.
            stalled = true
            break pass
          }
          count(outcome)
        }
        doneUpTo = event.seq
        if (!running) break
      }
      if (doneUpTo > from) {
        await opts.store.write((tx) =>
          tx
            .updateTable('rules')
            .set({ cursor_seq: doneUpTo })
            .where('id', 'in', tenantRules.map((r) => r.id))
            .where('cursor_seq', '<', doneUpTo)
            .execute(),
        )
      }
    }
    if (more || stalled) dirty = true
    else seenUpTo = Math.max(seenUpTo, Math.min(maxSeq, upTo))
    return more
  }

  const loop = async () => {
    while (running) {
      let busy = false
      try {
        await resumeAbandoned()
        busy = await runPage()
      } catch (err) {
        dirty = true
        opts.logger.error({ err }, 'rule runner pass failed')
      }
      if (!running) break
      if (busy) continue
      await waker.sleep(pollMs)
    }
  }

  const onBusEvent = () => poke()

  return {
    service,
    stats: () => ({ ...stats }),
    start() {
      if (running) return
      running = true
      bus.on('event', onBusEvent)
      loopDone = loop()
    },
    poke,
    /** Lets the run in progress finish for `graceMs`, then aborts its webhook (taken up at the next start). */
    async stop(graceMs = 5_000) {
      running = false
      bus.off('event', onBusEvent)
      waker.wake()
      const timer = setTimeout(() => stopping.abort(), graceMs)
      await loopDone
      clearTimeout(timer)
      await ownAgent?.close()
    },
  }
}

export type RuleRunner = ReturnType<typeof createRuleRunner>
