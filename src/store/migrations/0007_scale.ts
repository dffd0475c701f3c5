import type { Kysely, Migration } from 'kysely'
import type { Dialect } from '../migrations.js'

/**
 * Migration 0007_scale: the outbox knows each job's recipient, so that with several worker
 * processes (PostgreSQL) a job is leased only after the earlier jobs of the same (account,
 * recipient) are done or held by the same worker: order per recipient holds across processes.
 */
export function migration0007(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('outbox').addColumn('recipient', 'text').execute()
      await db.schema.createIndex('outbox_recipient').on('outbox').columns(['account_id', 'recipient', 'message_id']).execute()
    },
  }
}
