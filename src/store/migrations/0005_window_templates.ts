import type { Kysely, Migration } from 'kysely'
import type { Dialect } from '../migrations.js'

/**
 * Migration 0005_window_templates (DESIGN §8):
 * - `templates`: the per-account template registry, one row per (account, name, language), with the
 *   parameter counts a send is checked against;
 * - `stashed_messages`: outbound messages held while the window is closed (status `stashed`), with
 *   their expiry; they have no outbox row until released;
 * - `stash_episodes`: one row per (account, contact) while messages are stashed; its primary key makes
 *   "send the interaction request once" hold under concurrent accepts.
 */
export function migration0005(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('templates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('header_params', 'integer', (c) => c.notNull())
        .addColumn('body_params', 'integer', (c) => c.notNull())
        .addColumn('buttons', 'text', (c) => c.notNull())
        .addColumn('components', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('templates_account_name_language', ['account_id', 'name', 'language'])
        .execute()

      await db.schema
        .createTable('stashed_messages')
        .addColumn('message_id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('contact_id', 'text', (c) => c.notNull())
        .addColumn('stashed_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('stashed_messages_pair').on('stashed_messages').columns(['account_id', 'contact_id', 'message_id']).execute()
      await db.schema.createIndex('stashed_messages_expiry').on('stashed_messages').column('expires_at').execute()

      await db.schema
        .createTable('stash_episodes')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('contact_id', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('request_message_id', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('stash_episodes_pk', ['account_id', 'contact_id'])
        .execute()
    },
  }
}
