import type { ColumnDefinitionBuilder, Kysely, Migration, MigrationProvider } from 'kysely'
import { migration0004 } from './migrations/0004_routing.js'
import { migration0005 } from './migrations/0005_window_templates.js'
import { migration0006 } from './migrations/0006_rules.js'
import { migration0007 } from './migrations/0007_scale.js'
import { migration0008 } from './migrations/0008_fair_lease.js'

/**
 * Schema migrations, written with Kysely's schema builder so the same code creates the tables on
 * SQLite and PostgreSQL. The only dialect difference is how an auto-incrementing key is declared.
 */
export type Dialect = 'sqlite' | 'postgres'

function serial(dialect: Dialect) {
  return dialect === 'postgres' ? ('bigserial' as const) : ('integer' as const)
}

export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_core': {
      async up(db: Kysely<unknown>) {
        const autoKey = (name: string) =>
          dialect === 'postgres'
            ? ([name, serial(dialect), (c: ColumnDefinitionBuilder) => c.primaryKey()] as const)
            : ([name, serial(dialect), (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement()] as const)

        await db.schema
          .createTable('tenants')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('default_country', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute()

        await db.schema
          .createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('prefix', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute()

        await db.schema
          .createTable('accounts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('provider', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('phone_number', 'text', (c) => c.notNull())
          .addColumn('config_sealed', 'text', (c) => c.notNull())
          .addColumn('route_key', 'text')
          .addColumn('default_country', 'text')
          .addColumn('window_policy', 'text', (c) => c.notNull())
          .addColumn('rate_limit', 'integer', (c) => c.notNull())
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('accounts_tenant_name', ['tenant_id', 'name'])
          .addUniqueConstraint('accounts_provider_route', ['provider', 'route_key'])
          .execute()

        await db.schema
          .createTable('contacts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('name', 'text')
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute()

        await db.schema
          .createTable('contact_urns')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id'))
          .addColumn('urn', 'text', (c) => c.notNull())
          .addColumn('unreachable_until', 'bigint')
          .addColumn('unreachable_reason', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('contact_urns_tenant_urn', ['tenant_id', 'urn'])
          .execute()
        await db.schema.createIndex('contact_urns_contact').on('contact_urns').column('contact_id').execute()

        await db.schema
          .createTable('messages')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('contact_id', 'text')
          .addColumn('direction', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('content', 'text', (c) => c.notNull())
          .addColumn('urn', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('provider_message_id', 'text')
          .addColumn('error', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('duplicate_risk', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('reply_to', 'text')
          .addColumn('reply_ref', 'text')
          .addColumn('topic', 'text')
          .addColumn('metadata', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          // Dedupe inbound messages and correlate statuses: NULLs (not yet sent) never collide.
          .addUniqueConstraint('messages_account_provider_id', ['account_id', 'provider_message_id'])
          .execute()
        await db.schema.createIndex('messages_tenant_created').on('messages').columns(['tenant_id', 'created_at']).execute()
        await db.schema.createIndex('messages_contact').on('messages').columns(['contact_id', 'created_at']).execute()

        await db.schema
          .createTable('message_history')
          .addColumn(...autoKey('id'))
          .addColumn('message_id', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('provider_status', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('error', 'text')
          .addUniqueConstraint('message_history_once', ['message_id', 'status', 'provider_status'])
          .execute()

        await db.schema
          .createTable('parked_statuses')
          .addColumn(...autoKey('id'))
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('provider_message_id', 'text', (c) => c.notNull())
          .addColumn('provider_status', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('parked_once', ['account_id', 'provider_message_id', 'provider_status'])
          .execute()

        await db.schema
          .createTable('outbox')
          .addColumn('message_id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('run_at', 'bigint', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute()
        await db.schema.createIndex('outbox_due').on('outbox').columns(['run_at']).execute()

        await db.schema
          .createTable('events')
          .addColumn(...autoKey('seq'))
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('topic', 'text', (c) => c.notNull())
          .addColumn('account', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .execute()
        await db.schema.createIndex('events_tenant_seq').on('events').columns(['tenant_id', 'seq']).execute()

        await db.schema
          .createTable('idempotency_keys')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('request_hash', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('response_status', 'integer')
          .addColumn('response_body', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('idempotency_pk', ['tenant_id', 'key'])
          .execute()

        await db.schema
          .createTable('conversations')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('contact_id', 'text', (c) => c.notNull())
          .addColumn('last_inbound_at', 'bigint')
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('conversations_pk', ['account_id', 'contact_id'])
          .execute()
      },
    },
    // Events out (DESIGN §10): subscriptions, one durable delivery row per (subscription, event), and
    // every attempt with its status code and latency.
    '0003_subscriptions': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('subscriptions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('topics', 'text', (c) => c.notNull())
          .addColumn('target', 'text')
          .addColumn('secret_sealed', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('disabled_reason', 'text')
          .addColumn('disabled_at', 'bigint')
          .addColumn('max_in_flight', 'integer', (c) => c.notNull())
          .addColumn('timeout_ms', 'integer', (c) => c.notNull())
          .addColumn('cursor_seq', 'bigint', (c) => c.notNull())
          .addColumn('last_success_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute()
        await db.schema.createIndex('subscriptions_tenant').on('subscriptions').columns(['tenant_id', 'state']).execute()

        await db.schema
          .createTable('deliveries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('subscription_id', 'text', (c) => c.notNull())
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('event_seq', 'bigint', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('retry_index', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('round_started_at', 'bigint', (c) => c.notNull())
          .addColumn('next_attempt_at', 'bigint')
          .addColumn('lease_until', 'bigint')
          .addColumn('last_status', 'integer')
          .addColumn('last_error', 'text')
          .addColumn('last_latency_ms', 'integer')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('delivered_at', 'bigint')
          // One delivery per (subscription, event): fan-out and replay can run again without duplicates.
          .addUniqueConstraint('deliveries_once', ['subscription_id', 'event_id'])
          .execute()
        await db.schema.createIndex('deliveries_due').on('deliveries').columns(['state', 'next_attempt_at']).execute()
        await db.schema.createIndex('deliveries_subscription').on('deliveries').columns(['subscription_id', 'state', 'next_attempt_at']).execute()

        await db.schema
          .createTable('delivery_attempts')
          .addColumn('id', serial(dialect), (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('delivery_id', 'text', (c) => c.notNull())
          .addColumn('attempt', 'integer', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('status_code', 'integer')
          .addColumn('latency_ms', 'integer', (c) => c.notNull())
          .addColumn('error', 'text')
          .addColumn('response_excerpt', 'text')
          .execute()
        await db.schema.createIndex('delivery_attempts_delivery').on('delivery_attempts').columns(['delivery_id', 'attempt']).execute()
      },
    },
    // Identity (issue 4): per-(account, contact) opt-out, and contacts folded into another one when
    // a provider reveals that two of them are one person. SQLite adds one column per statement.
    '0002_identity': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('conversations').addColumn('stopped_at', 'bigint').execute()
        await db.schema.alterTable('conversations').addColumn('stopped_reason', 'text').execute()
        await db.schema.alterTable('contacts').addColumn('merged_into', 'text').execute()
        await db.schema.createIndex('contacts_tenant_state').on('contacts').columns(['tenant_id', 'state']).execute()
      },
    },
    // Later migrations live in ./migrations/, one file each.
    '0004_routing': migration0004(dialect),
    '0005_window_templates': migration0005(dialect),
    '0006_rules': migration0006(dialect),
    '0007_scale': migration0007(dialect),
    '0008_fair_lease': migration0008(dialect),
  }
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) }
}
