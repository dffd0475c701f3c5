import { z } from 'zod'

/**
 * Every setting, read from `WAGATE_*` environment variables and validated once at boot. A bad value
 * stops the process with a message that names the variable and what it expects.
 *
 * @example
 * const config = loadConfig(process.env)
 */
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')
/** Digits only: `Number()` would read " " as 0 (a random port), "0x10" as 16 and "1e3" as 1000. */
const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number (digits only)')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))

export const configSchema = z.object({
  WAGATE_PORT: int(0, 65535).default(3000),
  WAGATE_HOST: z.string().min(1).default('127.0.0.1'),
  /** The base URL providers reach this gateway at; webhook URLs and signatures are built from it. */
  WAGATE_PUBLIC_URL: z.url().optional(),
  WAGATE_DATA_DIR: z.string().min(1).default('./data'),
  WAGATE_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  WAGATE_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave unset for the embedded SQLite)')
    .optional(),
  WAGATE_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  /** 32 bytes as base64 or hex, or any passphrase of 16+ characters (stretched with scrypt). */
  WAGATE_SECRET_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  WAGATE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WAGATE_DEFAULT_COUNTRY: z.string().regex(/^[A-Za-z]{2}$/, 'must be a two-letter ISO country code').optional(),
  WAGATE_SEND_TIMEOUT_MS: int(100, 120_000).default(15_000),
  WAGATE_MAX_ATTEMPTS: int(1, 100).default(12),
  WAGATE_RETRY_BASE_MS: int(1, 3_600_000).default(2_000),
  WAGATE_RETRY_MAX_MS: int(1, 86_400_000).default(600_000),
  WAGATE_WORKER_CONCURRENCY: int(1, 10_000).default(256),
  WAGATE_LEASE_MS: int(1_000, 3_600_000).default(60_000),
  WAGATE_MAX_BODY_BYTES: int(1_024, 50 * 1024 * 1024).default(1024 * 1024),
  WAGATE_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  WAGATE_SANDBOX: bool.default(false),
  /** Subscription and rule webhooks may target loopback/private addresses (tests, the dev sandbox). */
  WAGATE_ALLOW_PRIVATE_WEBHOOKS: bool.default(false),
})

export type Config = z.infer<typeof configSchema>

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<Config> = {}): Config {
  const relevant = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('WAGATE_') && v !== undefined && v !== ''))
  const result = configSchema.safeParse(relevant)
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}${i.path[0] && relevant[String(i.path[0])] !== undefined ? ` (got "${redactValue(String(i.path[0]), relevant[String(i.path[0])])}")` : ''}`),
    )
  }
  const config = { ...result.data, ...overrides }
  if (config.WAGATE_DATABASE_URL && !config.WAGATE_SECRET_KEY) {
    throw new ConfigError(['WAGATE_SECRET_KEY: required with WAGATE_DATABASE_URL, so that every instance decrypts the same credentials'])
  }
  return config
}

function redactValue(name: string, value: string | undefined): string {
  if (value === undefined) return ''
  return /KEY|SECRET|URL/.test(name) ? '…' : value
}

export function publicUrl(config: Config, port: number): string {
  return (config.WAGATE_PUBLIC_URL ?? `http://${config.WAGATE_HOST === '0.0.0.0' ? '127.0.0.1' : config.WAGATE_HOST}:${port}`).replace(/\/$/, '')
}
