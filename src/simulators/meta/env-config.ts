import { z } from 'zod'
import { metaSimAccountSchema } from './control-routes.js'
import type { MetaSimAccount, MetaSimulatorOptions } from './types.js'

const int = z.coerce.number().int().min(0)

const envSchema = z.object({
  SIM_PORT: int.optional(),
  SIM_HOST: z.string().min(1).optional(),
  SIM_SEED: int.optional(),
  SIM_API_VERSION: z.string().regex(/^v\d+(\.\d+)?$/).optional(),
  /** JSON array of accounts; or the single-account variables below. */
  SIM_ACCOUNTS: z.string().optional(),
  SIM_PHONE_NUMBER_ID: z.string().optional(),
  SIM_DISPLAY_PHONE_NUMBER: z.string().optional(),
  SIM_ACCESS_TOKEN: z.string().optional(),
  SIM_APP_SECRET: z.string().optional(),
  SIM_WEBHOOK_URL: z.string().optional(),
  SIM_WABA_ID: z.string().optional(),
  SIM_SENT_MS: int.optional(),
  SIM_DELIVERED_MS: int.optional(),
  SIM_READ_MS: int.optional(),
  SIM_SHUFFLE_STATUSES: z.enum(['0', '1', 'true', 'false']).optional(),
  /** Comma-separated milliseconds, e.g. `50,200,1000`. */
  SIM_WEBHOOK_RETRY_DELAYS_MS: z.string().regex(/^\d+(,\d+)*$/).optional(),
  SIM_WEBHOOK_MAX_IN_FLIGHT: z.coerce.number().int().min(1).optional(),
})

/**
 * Simulator options from environment variables, for running it as its own process. Throws with a
 * readable message on a bad value (this is a start-up path, not hostile input).
 *
 * @example
 * optionsFromEnv({ SIM_PORT: '4010', SIM_PHONE_NUMBER_ID: '1001', SIM_DISPLAY_PHONE_NUMBER: '15550001001',
 *   SIM_ACCESS_TOKEN: 'tok', SIM_APP_SECRET: 'sec', SIM_WEBHOOK_URL: 'http://127.0.0.1:3000/webhooks/meta' })
 */
export function optionsFromEnv(env: Record<string, string | undefined>): MetaSimulatorOptions {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) throw new Error(`meta simulator: bad environment\n${z.prettifyError(parsed.error)}`)
  const e = parsed.data
  const options: MetaSimulatorOptions = { accounts: accountsFromEnv(e) }
  if (e.SIM_PORT !== undefined) options.port = e.SIM_PORT
  if (e.SIM_HOST !== undefined) options.host = e.SIM_HOST
  if (e.SIM_SEED !== undefined) options.seed = e.SIM_SEED
  if (e.SIM_API_VERSION !== undefined) options.apiVersion = e.SIM_API_VERSION
  const timings = {
    ...(e.SIM_SENT_MS !== undefined ? { sentMs: e.SIM_SENT_MS } : {}),
    ...(e.SIM_DELIVERED_MS !== undefined ? { deliveredMs: e.SIM_DELIVERED_MS } : {}),
    ...(e.SIM_READ_MS !== undefined ? { readMs: e.SIM_READ_MS } : {}),
  }
  if (Object.keys(timings).length > 0) options.timings = timings
  if (e.SIM_SHUFFLE_STATUSES !== undefined) options.shuffleStatuses = e.SIM_SHUFFLE_STATUSES === '1' || e.SIM_SHUFFLE_STATUSES === 'true'
  if (e.SIM_WEBHOOK_RETRY_DELAYS_MS !== undefined) options.webhookRetryDelaysMs = e.SIM_WEBHOOK_RETRY_DELAYS_MS.split(',').map(Number)
  if (e.SIM_WEBHOOK_MAX_IN_FLIGHT !== undefined) options.webhookMaxInFlight = Number(e.SIM_WEBHOOK_MAX_IN_FLIGHT)
  return options
}

function accountsFromEnv(e: z.infer<typeof envSchema>): MetaSimAccount[] {
  const accounts: MetaSimAccount[] = []
  if (e.SIM_ACCOUNTS) {
    let raw: unknown
    try {
      raw = JSON.parse(e.SIM_ACCOUNTS)
    } catch {
      throw new Error('meta simulator: SIM_ACCOUNTS is not JSON')
    }
    const list = z.array(metaSimAccountSchema).safeParse(raw)
    if (!list.success) throw new Error(`meta simulator: bad SIM_ACCOUNTS\n${z.prettifyError(list.error)}`)
    accounts.push(...list.data)
  }
  if (e.SIM_PHONE_NUMBER_ID) {
    const single = metaSimAccountSchema.safeParse({
      phoneNumberId: e.SIM_PHONE_NUMBER_ID,
      displayPhoneNumber: e.SIM_DISPLAY_PHONE_NUMBER,
      accessToken: e.SIM_ACCESS_TOKEN,
      appSecret: e.SIM_APP_SECRET,
      webhookUrl: e.SIM_WEBHOOK_URL,
      ...(e.SIM_WABA_ID ? { wabaId: e.SIM_WABA_ID } : {}),
    })
    if (!single.success) throw new Error(`meta simulator: bad SIM_* account\n${z.prettifyError(single.error)}`)
    accounts.push(single.data)
  }
  return accounts
}
