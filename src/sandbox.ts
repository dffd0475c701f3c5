import { randomBytes } from 'node:crypto'
import type { Account } from './engine/accounts.js'
import type { Gateway } from './gateway.js'
import type { SandboxHooks } from './http/routes/sandbox.js'
import { createGupshupSimulator } from './simulators/gupshup/index.js'
import { createMetaSimulator, type MetaSimulator } from './simulators/meta/index.js'
import type { ProviderTemplate } from './providers/types.js'
import { createSinchSimulator } from './simulators/sinch/index.js'
import { createTwilioSimulator } from './simulators/twilio/index.js'
import type { Simulator, SimulatedInbound, StatusTimings } from './simulators/types.js'

/**
 * The in-process sandbox behind `npm start`: each provider's simulator on a loopback port and one
 * ready account per provider pointed at it. Accounts survive restarts (their secrets stay in the
 * store); only the simulator URL changes and is patched in at each start.
 *
 * @example
 * const sandbox = await startSandbox(gateway)
 * sandbox.accounts // [{ name: 'sandbox-meta', … }]
 */
export interface SandboxProvider {
  provider: Account['row']['provider']
  name: string
  phoneNumber: string
  /** Config for a new account (secrets generated here, once). */
  initialConfig(): Record<string, unknown>
  /** Starts the simulator and registers the account with it. */
  start(account: Account, gatewayUrl: string): Promise<Simulator>
  /** The account's key in the simulator (Meta phone_number_id, Twilio sender number…). */
  key(account: Account): string
  /** Config to patch after the simulator started (its URL, and ids the simulator was given). */
  pointAt(sim: Simulator, account: Account): Record<string, unknown>
  /** The simulator's templates, for providers with a template listing API (Meta). */
  templates?(sim: Simulator): ProviderTemplate[]
}

/** Sandbox options beyond status timings. */
export interface SandboxOptions {
  /** The simulator fails free-form sends outside the 24 h window (off by default so a first message to any number works). */
  enforceWindow?: boolean
}

/** The WABA id of a sandbox Meta account: the config's, or one derived from the phone number id (as the simulator does). */
const wabaOf = (config: Record<string, unknown>) => String(config.waba_id ?? `1${String(config.phone_number_id)}`)

const secret = () => randomBytes(18).toString('base64url')

export function metaSandbox(timings?: Partial<StatusTimings>, options: SandboxOptions = {}): SandboxProvider {
  return {
    provider: 'meta',
    name: 'sandbox-meta',
    phoneNumber: '+14155552671',
    initialConfig: () => ({ phone_number_id: '100000000000001', access_token: `EAAsandbox${secret()}`, app_secret: secret(), verify_token: secret() }),
    async start(account, gatewayUrl) {
      const config = account.rawConfig
      const sim = createMetaSimulator({
        ...(timings ? { timings } : {}),
        ...(options.enforceWindow ? { enforceWindow: true } : {}),
        accounts: [
          {
            phoneNumberId: String(config.phone_number_id),
            displayPhoneNumber: account.row.phone_number.replace(/\D/g, ''),
            accessToken: String(config.access_token),
            appSecret: String(config.app_secret),
            webhookUrl: `${gatewayUrl}/webhooks/meta/${account.row.name}`,
            wabaId: wabaOf(config),
          },
        ],
      })
      await sim.start()
      return sim
    },
    key: (account) => String(account.rawConfig.phone_number_id),
    // waba_id lets the template registry sync from the simulator's message_templates.
    pointAt: (sim, account) => ({ base_url: sim.url, waba_id: wabaOf(account.rawConfig) }),
    templates: (sim) => (sim as MetaSimulator).templates().map((t) => ({ ...t, status: t.status ?? 'APPROVED' })),
  }
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex')

export function twilioSandbox(timings?: Partial<StatusTimings>, options: SandboxOptions = {}): SandboxProvider {
  return {
    provider: 'twilio',
    name: 'sandbox-twilio',
    phoneNumber: '+14155238886',
    initialConfig: () => ({ account_sid: `AC${hex(16)}`, auth_token: hex(16) }),
    async start(account, gatewayUrl) {
      const sim = createTwilioSimulator({
        ...(timings ? { timings } : {}),
        ...(options.enforceWindow ? { enforceWindow: true } : {}),
        accounts: [{ accountSid: String(account.rawConfig.account_sid), authToken: String(account.rawConfig.auth_token), numbers: [account.row.phone_number], inboundWebhookUrl: `${gatewayUrl}/webhooks/twilio/${account.row.name}` }],
      })
      await sim.start()
      return sim
    },
    key: (account) => account.row.phone_number,
    pointAt: (sim) => ({ base_url: sim.url }),
  }
}

export function sinchSandbox(timings?: Partial<StatusTimings>): SandboxProvider {
  return {
    provider: 'sinch',
    name: 'sandbox-sinch',
    phoneNumber: '+12025550143',
    initialConfig: () => ({ project_id: `prj-${hex(6)}`, app_id: `app-${hex(6)}`, key_id: `key-${hex(6)}`, key_secret: secret(), webhook_secret: secret(), region: 'us' }),
    async start(account, gatewayUrl) {
      const c = account.rawConfig
      const sim = createSinchSimulator({
        ...(timings ? { timings } : {}),
        apps: [{ projectId: String(c.project_id), appId: String(c.app_id), keyId: String(c.key_id), keySecret: String(c.key_secret), webhookSecret: String(c.webhook_secret), webhookUrl: `${gatewayUrl}/webhooks/sinch/${account.row.name}`, senderNumber: account.row.phone_number }],
      })
      await sim.start()
      return sim
    },
    key: (account) => String(account.rawConfig.app_id),
    pointAt: (sim) => ({ base_url: sim.url, auth_url: `${sim.url}/oauth2/token` }),
  }
}

export function gupshupSandbox(timings?: Partial<StatusTimings>): SandboxProvider {
  return {
    provider: 'gupshup',
    name: 'sandbox-gupshup',
    phoneNumber: '+14155551000',
    initialConfig: () => ({ api_key: secret(), app_name: `sandboxapp${hex(3)}` }),
    async start(account) {
      const sim = createGupshupSimulator({
        host: '127.0.0.1',
        ...(timings ? { timings } : {}),
        apps: [{ appName: String(account.rawConfig.app_name), apiKey: String(account.rawConfig.api_key), sourceNumber: account.row.phone_number.replace(/\D/g, ''), callbackUrl: account.ctx.webhookUrl }],
      })
      await sim.start()
      return sim
    },
    key: (account) => String(account.rawConfig.app_name),
    pointAt: (sim) => ({ base_url: sim.url }),
  }
}

export const ALL_SANDBOXES = (timings?: Partial<StatusTimings>) => [metaSandbox(timings), twilioSandbox(timings), sinchSandbox(timings), gupshupSandbox(timings)]

export interface RunningSandbox {
  accounts: Account[]
  simulators: Map<string, Simulator>
  hooks: SandboxHooks
  stop(): Promise<void>
}

export async function startSandbox(gateway: Gateway, providers: SandboxProvider[] = ALL_SANDBOXES()): Promise<RunningSandbox> {
  const simulators = new Map<string, Simulator>()
  const keys = new Map<string, (a: Account) => string>()
  const accounts: Account[] = []
  for (const p of providers) {
    if (!gateway.registry.get(p.provider)) continue
    let account = await gateway.accounts.find(gateway.tenantId, p.name)
    if (!account) {
      account = await gateway.accounts.create(
        gateway.tenantId,
        { name: p.name, provider: p.provider as 'meta' | 'twilio' | 'sinch' | 'gupshup', phone_number: p.phoneNumber, channel: 'whatsapp', config: p.initialConfig(), window_policy: 'send', rate_limit: 80 },
        { sandbox: true },
      )
    }
    const sim = await p.start(account, gateway.url)
    account = await gateway.accounts.update(gateway.tenantId, account.row.id, { config: p.pointAt(sim, account) })
    // templates (issue 5): the registry holds the simulator's templates, so sends are checked as for a
    // real account. Read from the simulator object, not its API: starting the sandbox is no provider traffic.
    const listed = p.templates?.(sim)
    if (listed) await gateway.templates.replaceSynced(gateway.tenantId, account.row.id, listed)
    simulators.set(account.row.id, sim)
    keys.set(account.row.id, p.key)
    accounts.push(account)
  }

  const hooks: SandboxHooks = {
    async inbound(account, message: SimulatedInbound) {
      const sim = simulators.get(account.row.id)
      const key = keys.get(account.row.id)
      if (!sim || !key) throw new Error(`no simulator runs for ${account.row.name}`)
      let replyTo = message.reply_to
      if (replyTo?.startsWith('msg_')) {
        const row = await gateway.store.read.selectFrom('messages').select('provider_message_id').where('id', '=', replyTo).executeTakeFirst()
        replyTo = row?.provider_message_id ?? replyTo
      }
      return sim.inbound(key(account), { ...message, ...(replyTo ? { reply_to: replyTo } : {}) })
    },
  }
  gateway.setSandbox(hooks)
  return {
    accounts,
    simulators,
    hooks,
    async stop() {
      for (const sim of simulators.values()) await sim.stop()
    },
  }
}
