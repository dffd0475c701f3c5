import type { Kysely, Migration } from 'kysely'
import type { Dialect } from '../migrations.js'

/** Migration 0005_window_templates: filled in by the work it belongs to (empty until then). */
export function migration0005(_dialect: Dialect): Migration {
  return {
    async up(_db: Kysely<unknown>) {},
  }
}
