import { z } from 'zod'
import type { SecretBox } from '../crypto.js'
import { newWebhookToken } from '../crypto.js'
import { newId } from '../domain/ids.js'
import { parsePhone } from '../domain/phone.js'
import { DEFAULT_STASH_TTL_MINUTES, InteractionTemplateSchema } from '../domain/window.js'
import type { AccountContext, Channel, ProviderId } from '../providers/types.js'
import type { AnyAdapter, Registry } from '../providers/registry.js'
import type { Store, Tx } from '../store/db.js'
import type { AccountTable } from '../store/schema.js'
import { iso, type Clock } from './clock.js'
import { ApiError } from './api-error.js'

/**
 * Accounts: one WhatsApp (or SMS) sender on one provider. Credentials are sealed at rest and never
 * leave the process again after creation; the decrypted, parsed config is cached per account.
 */

export const ACCOUNT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/

/** Longest a stashed message may wait: 30 days. */
const STASH_TTL_MAX_MINUTES = 30 * 24 * 60

export const accountSettingsSchema = z
  .object({
    sandbox: z.boolean().default(false),
    split_long_text: z.boolean().default(true),
    allow_private_media: z.boolean().default(false),
    commands: z.boolean().default(false),
    // window (issue 5): the template sent once when a message is stashed, and how long stashed messages wait
    interaction_template: InteractionTemplateSchema.optional().catch(undefined),
    stash_ttl_minutes: z.number().int().min(1).max(STASH_TTL_MAX_MINUTES).default(DEFAULT_STASH_TTL_MINUTES).catch(DEFAULT_STASH_TTL_MINUTES),
  })
  .strip()
export type AccountSettings = z.infer<typeof accountSettingsSchema>

export const windowPolicies = ['reject', 'stash', 'send'] as const

export const createAccountSchema = z
  .object({
    name: z.string().regex(ACCOUNT_NAME, 'lower-case letters, digits, - and _ (max 63), starting with a letter or digit'),
    provider: z.enum(['meta', 'twilio', 'sinch', 'gupshup']),
    phone_number: z.string().min(3).max(32),
    channel: z.enum(['whatsapp', 'sms']).default('whatsapp'),
    config: z.record(z.string(), z.unknown()),
    default_country: z.string().regex(/^[A-Za-z]{2}$/).optional(),
    window_policy: z.enum(windowPolicies).default('send'),
    rate_limit: z.number().int().min(1).max(1000).default(80),
    split_long_text: z.boolean().optional(),
    allow_private_media: z.boolean().optional(),
    commands: z.boolean().optional(),
    interaction_template: InteractionTemplateSchema.optional(),
    stash_ttl_minutes: z.number().int().min(1).max(STASH_TTL_MAX_MINUTES).optional(),
  })
  .strict()
export type CreateAccountInput = z.infer<typeof createAccountSchema>

export const updateAccountSchema = createAccountSchema
  .omit({ name: true, provider: true })
  .partial()
  .extend({ config: z.record(z.string(), z.unknown()).optional(), interaction_template: InteractionTemplateSchema.nullable().optional() })
  .strict()
export type UpdateAccountInput = z.infer<typeof updateAccountSchema>

export interface Account {
  row: AccountTable
  adapter: AnyAdapter
  ctx: AccountContext<unknown>
  settings: AccountSettings
  /** Raw (unparsed) config, kept for PATCH merges. */
  rawConfig: Record<string, unknown>
}

export interface AccountServiceOptions {
  store: Store
  registry: Registry
  box: SecretBox
  clock: Clock
  publicUrl: () => string
  /** How long a looked-up account is trusted without reading its row again (default ACCOUNT_CACHE_TTL_MS). */
  cacheTtlMs?: number
  /** Receives each loaded account's credentials (the adapter's `redact` list), so the logger masks them. */
  onSecrets?: (values: string[]) => void
}

/**
 * Webhook routing and the outbox worker look accounts up on every request / job. A resolved account
 * (adapter, unsealed and parsed config) is reused for this long without reading the store: changes
 * made in this process (create, PATCH, DELETE) drop the cache at once; another process's change is
 * seen after at most this long.
 */
export const ACCOUNT_CACHE_TTL_MS = 5_000

export function webhookUrlFor(base: string, provider: string, name: string, rawConfig: Record<string, unknown>): string {
  if (provider === 'gupshup') return `${base}/webhooks/gupshup/${name}/${String(rawConfig.webhook_token ?? '')}`
  return `${base}/webhooks/${provider}/${name}`
}

/** The `stash` policy sends the interaction template when it holds a message, so it needs one. */
function assertStashable(policy: string, settings: AccountSettings): void {
  if (policy === 'stash' && !settings.interaction_template) {
    throw new ApiError('invalid_request', 'window_policy "stash" needs an interaction_template ({name, language, parameters?, accept_payloads?, decline_payloads?}) to ask the contact to reply')
  }
}

export function createAccountService(opts: AccountServiceOptions) {
  const { store, registry, box, clock } = opts
  const ttlMs = opts.cacheTtlMs ?? ACCOUNT_CACHE_TTL_MS
  const byId = new Map<string, Account>()
  /** When each `byId` entry was last matched against its row in the store (monotonic ms). */
  const checkedAt = new Map<string, number>()
  /** Webhook routing lookups (provider + name, provider + route key, all of a provider): non-empty results only. */
  const routes = new Map<string, { at: number; accounts: Account[] }>()
  /** Bumped by every change made here, so a lookup that read the store before the change does not cache what it read. */
  let generation = 0
  const fresh = (at: number | undefined) => at !== undefined && performance.now() - at < ttlMs

  const invalidate = (id: string) => {
    generation++
    byId.delete(id)
    checkedAt.delete(id)
    routes.clear()
  }

  const routed = async (key: string, load: () => Promise<AccountTable[]>): Promise<Account[]> => {
    const hit = routes.get(key)
    if (hit && fresh(hit.at)) return hit.accounts
    const seen = generation
    const accounts = (await load()).map(hydrate)
    if (accounts.length > 0 && seen === generation) routes.set(key, { at: performance.now(), accounts })
    else routes.delete(key)
    return accounts
  }

  /** Every row reaching here was just read from (or written to) the store. */
  const hydrate = (row: AccountTable): Account => {
    checkedAt.set(row.id, performance.now())
    const cached = byId.get(row.id)
    // updated_at only grows: a row read before a change made here must not replace the newer account.
    if (cached && Number(cached.row.updated_at) >= Number(row.updated_at)) return cached
    const adapter = registry.get(row.provider)
    if (!adapter) throw new ApiError('provider_unavailable', `provider "${row.provider}" is not available in this build`)
    const rawConfig = JSON.parse(box.open(row.config_sealed)) as Record<string, unknown>
    const config = adapter.configSchema.parse(rawConfig)
    opts.onSecrets?.(adapter.redact(config))
    const settings = accountSettingsSchema.parse(JSON.parse(row.settings))
    const account: Account = {
      row,
      adapter,
      settings,
      rawConfig,
      ctx: {
        id: row.id,
        name: row.name,
        provider: row.provider as ProviderId,
        channel: row.channel as Channel,
        phoneNumber: row.phone_number,
        config,
        webhookUrl: webhookUrlFor(opts.publicUrl(), row.provider, row.name, rawConfig),
      },
    }
    byId.set(row.id, account)
    return account
  }

  const validateConfig = (adapter: AnyAdapter, raw: Record<string, unknown>) => {
    const parsed = adapter.configSchema.safeParse(raw)
    if (!parsed.success) {
      throw new ApiError(
        'invalid_account_config',
        `config for ${adapter.id} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ')}`,
      )
    }
    return parsed.data
  }

  const view = (account: Account) => {
    const { row } = account
    const secrets = new Set(account.adapter.redact(account.ctx.config))
    const config = Object.fromEntries(
      Object.entries(account.rawConfig).filter(([, v]) => !(typeof v === 'string' && secrets.has(v))),
    )
    return {
      id: row.id,
      name: row.name,
      provider: row.provider,
      channel: row.channel,
      phone_number: row.phone_number,
      default_country: row.default_country,
      window_policy: row.window_policy,
      rate_limit: row.rate_limit,
      sandbox: account.settings.sandbox,
      split_long_text: account.settings.split_long_text,
      allow_private_media: account.settings.allow_private_media,
      commands: account.settings.commands,
      interaction_template: account.settings.interaction_template ?? null,
      stash_ttl_minutes: account.settings.stash_ttl_minutes,
      webhook_url: account.ctx.webhookUrl,
      config,
      created_at: iso(row.created_at),
      updated_at: iso(row.updated_at),
    }
  }

  const findRow = async (db: Tx, tenantId: string, idOrName: string) =>
    db
      .selectFrom('accounts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst()

  return {
    view,

    async create(tenantId: string, input: CreateAccountInput, extra: { sandbox?: boolean } = {}): Promise<Account> {
      const adapter = registry.get(input.provider)
      if (!adapter) throw new ApiError('provider_unavailable', `provider "${input.provider}" is not available in this build`)
      const phone = parsePhone(input.phone_number, input.default_country)
      if (!phone.ok) throw new ApiError('invalid_phone_number', `phone_number: ${phone.reason}`)
      const rawConfig: Record<string, unknown> = { ...input.config }
      if (adapter.id === 'gupshup' && rawConfig.webhook_token === undefined) rawConfig.webhook_token = newWebhookToken()
      const config = validateConfig(adapter, rawConfig)
      const now = clock.now()
      const settings: AccountSettings = accountSettingsSchema.parse({
        sandbox: extra.sandbox ?? false,
        split_long_text: input.split_long_text,
        allow_private_media: input.allow_private_media ?? extra.sandbox,
        commands: input.commands,
        interaction_template: input.interaction_template,
        stash_ttl_minutes: input.stash_ttl_minutes,
      })
      assertStashable(input.window_policy, settings)
      const row: AccountTable = {
        id: newId('acc'),
        tenant_id: tenantId,
        name: input.name,
        provider: input.provider,
        channel: input.channel,
        phone_number: phone.e164,
        config_sealed: box.seal(JSON.stringify(rawConfig)),
        route_key: adapter.routeKeyOf ? adapter.routeKeyOf(config) : null,
        default_country: input.default_country?.toUpperCase() ?? null,
        window_policy: input.window_policy,
        rate_limit: input.rate_limit,
        settings: JSON.stringify(settings),
        created_at: now,
        updated_at: now,
      }
      await store.write(async (tx) => {
        const clash = await findRow(tx, tenantId, input.name)
        if (clash) throw new ApiError('account_name_taken', `an account named "${input.name}" already exists`)
        if (row.route_key) {
          const routed = await tx
            .selectFrom('accounts')
            .select('id')
            .where('provider', '=', row.provider)
            .where('route_key', '=', row.route_key)
            .executeTakeFirst()
          if (routed) throw new ApiError('account_route_taken', `another ${row.provider} account already uses ${row.route_key}`)
        }
        await tx.insertInto('accounts').values(row).execute()
      })
      invalidate(row.id)
      return hydrate(row)
    },

    async update(tenantId: string, idOrName: string, input: UpdateAccountInput): Promise<Account> {
      const current = await this.get(tenantId, idOrName)
      const rawConfig = input.config ? { ...current.rawConfig, ...input.config } : current.rawConfig
      const config = validateConfig(current.adapter, rawConfig)
      let phoneNumber = current.row.phone_number
      if (input.phone_number) {
        const phone = parsePhone(input.phone_number, input.default_country ?? current.row.default_country ?? undefined)
        if (!phone.ok) throw new ApiError('invalid_phone_number', `phone_number: ${phone.reason}`)
        phoneNumber = phone.e164
      }
      const settings = accountSettingsSchema.parse({
        ...current.settings,
        ...(input.split_long_text !== undefined ? { split_long_text: input.split_long_text } : {}),
        ...(input.allow_private_media !== undefined ? { allow_private_media: input.allow_private_media } : {}),
        ...(input.commands !== undefined ? { commands: input.commands } : {}),
        ...(input.interaction_template !== undefined ? { interaction_template: input.interaction_template ?? undefined } : {}),
        ...(input.stash_ttl_minutes !== undefined ? { stash_ttl_minutes: input.stash_ttl_minutes } : {}),
      })
      assertStashable(input.window_policy ?? current.row.window_policy, settings)
      const next: AccountTable = {
        ...current.row,
        phone_number: phoneNumber,
        channel: input.channel ?? current.row.channel,
        config_sealed: box.seal(JSON.stringify(rawConfig)),
        route_key: current.adapter.routeKeyOf ? current.adapter.routeKeyOf(config) : null,
        default_country: input.default_country?.toUpperCase() ?? current.row.default_country,
        window_policy: input.window_policy ?? current.row.window_policy,
        rate_limit: input.rate_limit ?? current.row.rate_limit,
        settings: JSON.stringify(settings),
        updated_at: Math.max(clock.now(), current.row.updated_at + 1),
      }
      await store.write((tx) => tx.updateTable('accounts').set(next).where('id', '=', next.id).execute())
      invalidate(next.id)
      return hydrate(next)
    },

    async remove(tenantId: string, idOrName: string): Promise<void> {
      const current = await this.get(tenantId, idOrName)
      await store.write(async (tx) => {
        const used = await tx.selectFrom('messages').select('id').where('account_id', '=', current.row.id).limit(1).executeTakeFirst()
        if (used) throw new ApiError('account_in_use', `account "${current.row.name}" has messages; it cannot be deleted`)
        await tx.deleteFrom('accounts').where('id', '=', current.row.id).execute()
      })
      invalidate(current.row.id)
    },

    async get(tenantId: string, idOrName: string): Promise<Account> {
      const row = await findRow(store.read, tenantId, idOrName)
      if (!row) throw new ApiError('unknown_account', `no account "${idOrName}" in this tenant`)
      return hydrate(row)
    },

    /**
     * `get` for the hot API path (accepting messages): served from memory like webhook routing (see
     * ACCOUNT_CACHE_TTL_MS). Reads that must see the row as stored now (PATCH merges) use `get`.
     */
    async resolve(tenantId: string, idOrName: string): Promise<Account> {
      const [found] = await routed(`api\0${tenantId}\0${idOrName}`, async () => {
        const row = await findRow(store.read, tenantId, idOrName)
        return row ? [row] : []
      })
      if (!found) throw new ApiError('unknown_account', `no account "${idOrName}" in this tenant`)
      return found
    },

    async find(tenantId: string, idOrName: string): Promise<Account | undefined> {
      const row = await findRow(store.read, tenantId, idOrName)
      return row ? hydrate(row) : undefined
    },

    async list(tenantId: string): Promise<Account[]> {
      const rows = await store.read.selectFrom('accounts').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').execute()
      return rows.map(hydrate)
    },

    /** Cached lookup by id for the worker and pipelines (accounts change rarely; see ACCOUNT_CACHE_TTL_MS). */
    async byId(id: string): Promise<Account | undefined> {
      const cached = byId.get(id)
      if (cached && fresh(checkedAt.get(id))) return cached
      const row = await store.read.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst()
      if (!row) {
        byId.delete(id)
        checkedAt.delete(id)
        return undefined
      }
      return hydrate(row)
    },

    /** App-wide webhook routing (Meta `/webhooks/meta`): the account whose route key matches (cached, see ACCOUNT_CACHE_TTL_MS). */
    async byRouteKey(provider: string, routeKey: string): Promise<Account | undefined> {
      const found = await routed(`key\0${provider}\0${routeKey}`, async () => {
        const row = await store.read
          .selectFrom('accounts')
          .selectAll()
          .where('provider', '=', provider)
          .where('route_key', '=', routeKey)
          .executeTakeFirst()
        return row ? [row] : []
      })
      return found[0]
    },

    /**
     * Webhook routes address accounts by name without a tenant: names are looked up across tenants by
     * provider. Cached (see ACCOUNT_CACHE_TTL_MS); an unknown name is read again every time.
     */
    async byProviderAndName(provider: string, name: string): Promise<Account[]> {
      return routed(`name\0${provider}\0${name}`, () => store.read.selectFrom('accounts').selectAll().where('provider', '=', provider).where('name', '=', name).execute())
    },

    async allOfProvider(provider: string): Promise<Account[]> {
      return routed(`all\0${provider}`, () => store.read.selectFrom('accounts').selectAll().where('provider', '=', provider).execute())
    },
  }
}

export type AccountService = ReturnType<typeof createAccountService>
