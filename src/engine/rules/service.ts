import type { SecretBox } from '../../crypto.js'
import { newId } from '../../domain/ids.js'
import type { Condition, RuleAction, RuleSpec } from '../../domain/rules.js'
import type { Store } from '../../store/db.js'
import type { RuleRunTable, RuleTable } from '../../store/schema.js'
import type { AccountService } from '../accounts.js'
import { ApiError } from '../api-error.js'
import { iso, type Clock } from '../clock.js'
import { assertPublicWebhook } from '../subscriptions/input.js'
import { newWebhookSecret } from '../subscriptions/signing.js'
import { storedActions, type CreateRuleInput, type RunsQuery } from './input.js'

/**
 * Rules as the API sees them: create (the `whsec_` secret that signs the rule's webhook actions is
 * returned once), list, get (with run counts), delete, and the run log. Running them is the
 * runner's job; a new rule sees the events appended after its creation.
 *
 * @example
 * const rules = createRuleService({ store, box, clock, accounts, allowPrivateWebhooks: false, wake })
 * const { rule, secret } = await rules.create(tenantId, input)
 */
export interface RuleServiceOptions {
  store: Store
  box: SecretBox
  clock: Clock
  accounts: AccountService
  /** Webhook actions may target loopback and private addresses (tests, the dev sandbox). */
  allowPrivateWebhooks: boolean
  wake: () => void
}

export interface RuleView {
  id: string
  name: string
  description: string | null
  topics: string[]
  conditions: Condition[]
  actions: RuleAction[]
  created_at: string
  updated_at: string
}

export function ruleSpecOf(row: RuleTable): RuleSpec {
  return { id: row.id, name: row.name, topics: JSON.parse(row.topics) as string[], conditions: JSON.parse(row.conditions) as Condition[], actions: JSON.parse(row.actions) as RuleAction[] }
}

export function ruleView(row: RuleTable): RuleView {
  const spec = ruleSpecOf(row)
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    topics: spec.topics,
    conditions: spec.conditions,
    actions: spec.actions,
    created_at: iso(Number(row.created_at)),
    updated_at: iso(Number(row.updated_at)),
  }
}

export function runView(row: RuleRunTable) {
  const result = JSON.parse(row.result) as { actions?: unknown[]; error?: unknown }
  return {
    id: row.id,
    rule_id: row.rule_id,
    event_id: row.event_id,
    state: row.state,
    actions: result.actions ?? [],
    error: result.error ?? null,
    created_at: iso(Number(row.created_at)),
    updated_at: iso(Number(row.updated_at)),
  }
}

export function createRuleService(opts: RuleServiceOptions) {
  const { store, box, clock } = opts

  const find = async (tenantId: string, id: string): Promise<RuleTable> => {
    const row = await store.read.selectFrom('rules').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row) throw new ApiError('not_found', `no rule ${id} in this tenant`)
    return row
  }

  return {
    async create(tenantId: string, input: CreateRuleInput): Promise<{ rule: RuleView; secret: string }> {
      const actions = storedActions(input)
      for (const [i, a] of actions.entries()) {
        if (a.type === 'webhook') assertPublicWebhook(a.url, opts.allowPrivateWebhooks, `actions.${i}.url`)
        // The account must exist now; if it is deleted later, runs fail naming it.
        if (a.type === 'fallback_send') await opts.accounts.get(tenantId, a.account)
      }
      const secret = newWebhookSecret()
      const row = await store.write(async (tx) => {
        const now = clock.now()
        const clash = await tx.selectFrom('rules').select('id').where('tenant_id', '=', tenantId).where('name', '=', input.name).executeTakeFirst()
        if (clash) throw new ApiError('rule_name_taken', `a rule named "${input.name}" already exists`)
        // Starts after the newest event of the log: a rule acts on what happens from now on.
        const last = await tx.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq')).where('tenant_id', '=', tenantId).executeTakeFirst()
        const values: RuleTable = {
          id: newId('rule', now),
          tenant_id: tenantId,
          name: input.name,
          description: input.description ?? null,
          topics: JSON.stringify(input.topics),
          conditions: JSON.stringify(input.conditions),
          actions: JSON.stringify(actions),
          secret_sealed: box.seal(secret),
          cursor_seq: Number(last?.seq ?? 0),
          created_at: now,
          updated_at: now,
        }
        await tx.insertInto('rules').values(values).execute()
        return values
      })
      opts.wake()
      return { rule: ruleView(row), secret }
    },

    async list(tenantId: string): Promise<RuleView[]> {
      const rows = await store.read.selectFrom('rules').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute()
      return rows.map(ruleView)
    },

    /** The rule with how many runs fired and failed, and when it last ran. */
    async get(tenantId: string, id: string) {
      const row = await find(tenantId, id)
      const counts = await store.read
        .selectFrom('rule_runs')
        .select(['state', (eb) => eb.fn.countAll().as('n'), (eb) => eb.fn.max('updated_at').as('last')])
        .where('rule_id', '=', id)
        .groupBy('state')
        .execute()
      const of = (state: string) => Number(counts.find((c) => c.state === state)?.n ?? 0)
      const last = Math.max(0, ...counts.map((c) => Number(c.last ?? 0)))
      return { ...ruleView(row), runs: { fired: of('fired'), failed: of('failed'), last_run_at: last > 0 ? iso(last) : null } }
    },

    /** Deletes the rule and its run log. */
    async remove(tenantId: string, id: string): Promise<void> {
      await find(tenantId, id)
      await store.write(async (tx) => {
        await tx.deleteFrom('rule_runs').where('rule_id', '=', id).execute()
        await tx.deleteFrom('rules').where('id', '=', id).where('tenant_id', '=', tenantId).execute()
      })
    },

    /** Runs, newest first. */
    async runs(tenantId: string, id: string, q: RunsQuery) {
      await find(tenantId, id)
      let query = store.read.selectFrom('rule_runs').selectAll().where('rule_id', '=', id).orderBy('id', 'desc').limit(q.limit)
      if (q.state) query = query.where('state', '=', q.state)
      if (q.before) query = query.where('id', '<', q.before)
      const rows = await query.execute()
      const last = rows[rows.length - 1]
      return { data: rows.map(runView), next_cursor: rows.length === q.limit && last ? last.id : null }
    },
  }
}

export type RuleService = ReturnType<typeof createRuleService>
