import type { Kysely, Migration } from 'kysely'
import type { Dialect } from '../migrations.js'

/** Migration 0006_rules: filled in by the work it belongs to (empty until then). */
export function migration0006(_dialect: Dialect): Migration {
  return {
    async up(_db: Kysely<unknown>) {},
  }
}
