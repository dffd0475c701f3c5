import type { Kysely } from 'kysely'
import type { Dispatcher } from 'undici'
import type { Template } from '../domain/content.js'
import { SendError } from '../domain/errors.js'
import { newId } from '../domain/ids.js'
import { checkTemplateParameters, shapeOfComponents, shapeOfRegistration, type RegisterTemplate, type TemplateShape } from '../domain/templates.js'
import type { ProviderTemplate } from '../providers/types.js'
import type { Store, Tx } from '../store/db.js'
import type { Database, TemplateTable } from '../store/schema.js'
import type { Account, AccountService } from './accounts.js'
import { ApiError } from './api-error.js'
import { iso, type Clock } from './clock.js'

/**
 * The template registry (DESIGN §8): per account, one row per (name, language) with its category,
 * review status and parameter counts. Filled by `POST /v1/accounts/{id}/templates` and, where the
 * provider has an API (Meta), by `POST /v1/accounts/{id}/templates/sync`.
 *
 * Sends are checked against it before anything is queued — but only when the account has at least
 * one registered template: an empty registry (a provider without a listing API, an account never
 * synced) leaves the check to the provider, so registering is opt-in and nothing breaks on upgrade.
 *
 * @example
 * const templates = createTemplateService({ store, accounts, clock, timeoutMs: 15_000 })
 * await templates.sync(tenantId, 'acme-meta')               // { synced: 12, removed: 0, data: [...] }
 * await checkTemplate(store.read, account, { name: 'order_update', language: 'en_US', components: [...] })
 */
type Db = Kysely<Database> | Tx

const shapeOfRow = (row: Pick<TemplateTable, 'header_params' | 'body_params' | 'buttons'>): TemplateShape => ({
  header: Number(row.header_params),
  body: Number(row.body_params),
  buttons: JSON.parse(row.buttons) as TemplateShape['buttons'],
})

/**
 * Refuses (ApiError `template_invalid`) a template the account's registry does not know in that
 * language, one not approved, or one whose parameters do not match. No-op for an empty registry.
 */
export async function checkTemplate(db: Db, account: Account, template: Template, what = 'template'): Promise<void> {
  const rows = await db
    .selectFrom('templates')
    .select(['language', 'status', 'header_params', 'body_params', 'buttons'])
    .where('account_id', '=', account.row.id)
    .where('name', '=', template.name)
    .execute()
  if (rows.length === 0) {
    const any = await db.selectFrom('templates').select('id').where('account_id', '=', account.row.id).limit(1).executeTakeFirst()
    if (!any) return
    throw new ApiError('template_invalid', `${what}: no template "${template.name}" is registered for account "${account.row.name}" (GET /v1/accounts/${account.row.name}/templates lists them)`)
  }
  const row = rows.find((r) => r.language === template.language)
  if (!row) {
    throw new ApiError('template_invalid', `${what}: template "${template.name}" has no "${template.language}" translation; registered: ${rows.map((r) => r.language).join(', ')}`)
  }
  if (row.status !== 'APPROVED') throw new ApiError('template_invalid', `${what}: template "${template.name}" (${template.language}) is ${row.status}, not APPROVED`)
  const check = checkTemplateParameters(shapeOfRow(row), template)
  if (!check.ok) throw new ApiError('template_invalid', `${what}: template "${template.name}" (${template.language}): ${check.detail}`)
}

export interface TemplateServiceOptions {
  store: Store
  accounts: AccountService
  clock: Clock
  /** Timeout of the provider's listing call. */
  timeoutMs: number
  dispatcher?: Dispatcher
}

export function createTemplateService(opts: TemplateServiceOptions) {
  const { store, accounts, clock } = opts

  const view = (row: TemplateTable, account: Account) => {
    const shape = shapeOfRow(row)
    return {
      id: row.id,
      account: account.row.name,
      name: row.name,
      language: row.language,
      category: row.category,
      status: row.status,
      parameters: { header: shape.header, body: shape.body, buttons: shape.buttons.map((b, index) => ({ index, ...b })) },
      source: row.source,
      components: row.components ? (JSON.parse(row.components) as unknown) : null,
      created_at: iso(Number(row.created_at)),
      updated_at: iso(Number(row.updated_at)),
    }
  }

  /** Inserts or replaces one (name, language); the id and created_at of a replaced row are kept. */
  const upsert = async (tx: Tx, account: Account, t: { name: string; language: string; category: string; status: string; components: unknown[] | null; shape: TemplateShape; source: 'api' | 'sync' }, now: number) => {
    const values = {
      category: t.category,
      status: t.status,
      header_params: t.shape.header,
      body_params: t.shape.body,
      buttons: JSON.stringify(t.shape.buttons),
      components: t.components ? JSON.stringify(t.components) : null,
      source: t.source,
      updated_at: now,
    }
    await tx
      .insertInto('templates')
      .values({ id: newId('tpl', now), tenant_id: account.row.tenant_id, account_id: account.row.id, name: t.name, language: t.language, created_at: now, ...values })
      .onConflict((oc) => oc.columns(['account_id', 'name', 'language']).doUpdateSet(values))
      .execute()
  }

  const rowsOf = (db: Db, accountId: string, name?: string) => {
    let q = db.selectFrom('templates').selectAll().where('account_id', '=', accountId)
    if (name) q = q.where('name', '=', name)
    return q.orderBy('name').orderBy('language').execute()
  }

  /** Makes the account's synced templates exactly `listed` (the sync's second half; the sandbox preloads with it). */
  const replaceSynced = async (tenantId: string, accountRef: string, listed: readonly ProviderTemplate[]) => {
    const account = await accounts.get(tenantId, accountRef)
    const now = clock.now()
    const removed = await store.write(async (tx) => {
      const keep = new Set<string>()
      for (const t of listed) {
        keep.add(`${t.name}\u0000${t.language}`)
        await upsert(tx, account, { name: t.name, language: t.language, category: t.category.toUpperCase(), status: t.status.toUpperCase(), components: t.components, shape: shapeOfComponents(t.components), source: 'sync' }, now)
      }
      const stale = (await tx.selectFrom('templates').select(['id', 'name', 'language']).where('account_id', '=', account.row.id).where('source', '=', 'sync').execute()).filter((r) => !keep.has(`${r.name}\u0000${r.language}`))
      if (stale.length > 0) await tx.deleteFrom('templates').where('id', 'in', stale.map((r) => r.id)).execute()
      return stale.length
    })
    const data = (await rowsOf(store.read, account.row.id)).map((r) => view(r, account))
    return { synced: listed.length, removed, data }
  }

  return {
    async register(tenantId: string, accountRef: string, input: RegisterTemplate) {
      const account = await accounts.get(tenantId, accountRef)
      const now = clock.now()
      const row = await store.write(async (tx) => {
        await upsert(tx, account, { name: input.name, language: input.language, category: input.category, status: input.status, components: input.components ?? null, shape: shapeOfRegistration(input), source: 'api' }, now)
        return tx.selectFrom('templates').selectAll().where('account_id', '=', account.row.id).where('name', '=', input.name).where('language', '=', input.language).executeTakeFirstOrThrow()
      })
      return view(row, account)
    },

    async list(tenantId: string, accountRef: string, name?: string) {
      const account = await accounts.get(tenantId, accountRef)
      return (await rowsOf(store.read, account.row.id, name)).map((r) => view(r, account))
    },

    /** Deletes one language of a template, or every language when `language` is absent. */
    async remove(tenantId: string, accountRef: string, name: string, language?: string): Promise<number> {
      const account = await accounts.get(tenantId, accountRef)
      const deleted = await store.write(async (tx) => {
        let q = tx.deleteFrom('templates').where('account_id', '=', account.row.id).where('name', '=', name)
        if (language) q = q.where('language', '=', language)
        const r = await q.executeTakeFirst()
        return Number(r.numDeletedRows)
      })
      if (deleted === 0) throw new ApiError('unknown_template', `no template "${name}"${language ? ` in "${language}"` : ''} for account "${account.row.name}"`)
      return deleted
    },

    /**
     * Reads the provider's templates and makes the registry match: listed ones are inserted or
     * replaced (source `sync`), synced ones the provider no longer lists are removed; templates
     * registered through the API and not listed stay.
     */
    async sync(tenantId: string, accountRef: string) {
      const account = await accounts.get(tenantId, accountRef)
      const list = account.adapter.listTemplates
      if (!list) throw new ApiError('template_sync_unavailable', `${account.row.provider} has no template listing API; register templates with POST /v1/accounts/${account.row.name}/templates`)
      let listed: ProviderTemplate[]
      try {
        listed = await list.call(account.adapter, account.ctx, { timeoutMs: opts.timeoutMs, ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}) })
      } catch (err) {
        if (err instanceof SendError && err.code === 'config_error' && !err.providerCode) throw new ApiError('template_sync_unavailable', err.providerMessage ?? err.message)
        throw new ApiError('template_sync_failed', `${account.row.provider} answered: ${err instanceof Error ? err.message : String(err)}`)
      }
      return replaceSynced(tenantId, account.row.id, listed)
    },

    replaceSynced,
  }
}

export type TemplateService = ReturnType<typeof createTemplateService>
