import type { Kysely, Migration } from 'kysely'
import type { Dialect } from '../migrations.js'

/**
 * Migration 0006_rules (DESIGN §2, §13): rules (topic patterns, conditions and actions over the
 * event log, each with its own cursor like a subscription), one run per (rule, event) under a
 * unique constraint so a restart never runs a rule twice on one event, and the link from a
 * fallback message to the message it stands in for. Also an index that lets the subscription
 * dispatcher lease a large backlog without sorting it.
 */
export function migration0006(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('rules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('topics', 'text', (c) => c.notNull())
        .addColumn('conditions', 'text', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        .addColumn('secret_sealed', 'text', (c) => c.notNull())
        .addColumn('cursor_seq', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('rules_tenant_name', ['tenant_id', 'name'])
        .execute()

      await db.schema
        .createTable('rule_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_seq', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        // One run per (rule, event): a page read again after a crash finds its runs already there.
        .addUniqueConstraint('rule_runs_once', ['rule_id', 'event_id'])
        .execute()
      await db.schema.createIndex('rule_runs_rule_seq').on('rule_runs').columns(['rule_id', 'event_seq']).execute()
      await db.schema.createIndex('rule_runs_state').on('rule_runs').columns(['state', 'updated_at']).execute()

      await db.schema.alterTable('messages').addColumn('fallback_of', 'text').execute()
      await db.schema.createIndex('messages_fallback_of').on('messages').column('fallback_of').execute()

      // Subscription deliveries (issue 6, the 10,000-event sink run): leasing takes the due deliveries
      // of one subscription in (next_attempt_at, event_seq) order; with this index that is a range
      // read that stops after the free slots instead of sorting the whole backlog each time.
      await db.schema.createIndex('deliveries_lease_order').on('deliveries').columns(['subscription_id', 'state', 'next_attempt_at', 'event_seq']).execute()
    },
  }
}
