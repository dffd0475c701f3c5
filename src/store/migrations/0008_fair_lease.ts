import type { Kysely, Migration } from 'kysely'
import type { Dialect } from '../migrations.js'

/**
 * Migration 0008_fair_lease: the outbox worker leases each account's earliest due jobs separately
 * (engine/outbox-lease.ts), so it looks them up by account first, then by due time.
 */
export function migration0008(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('outbox_account_due').on('outbox').columns(['account_id', 'run_at', 'message_id']).execute()
    },
  }
}
