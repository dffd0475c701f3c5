import type { Kysely, Migration } from 'kysely'
import type { Dialect } from '../migrations.js'

/**
 * Migration 0004_routing (DESIGN §9): the routing state of one (account, contact), one row each —
 * a session ref and a next-reply ref, each with its expiry (unix ms). A ref is active while its
 * expiry is in the future; expired values are simply ignored and overwritten by the next set.
 */
export function migration0004(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('routing_refs')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('contact_id', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('session_ref', 'text')
        .addColumn('session_expires_at', 'bigint')
        .addColumn('nextreply_ref', 'text')
        .addColumn('nextreply_expires_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('routing_refs_pk', ['account_id', 'contact_id'])
        .execute()
      // Contact merges move a contact's rows to the survivor.
      await db.schema.createIndex('routing_refs_contact').on('routing_refs').column('contact_id').execute()
    },
  }
}
