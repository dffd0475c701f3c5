import type { Account } from '../../src/engine/accounts.js'

/**
 * The log scan every end-to-end test gets from `startTestGateway().close()` (issue 7): the secrets
 * the harness knows — the API key, WAGATE_SECRET_KEY, each account's provider credentials, the
 * `whsec_` secrets subscriptions were created with — must not appear in any captured log line.
 * The error names the kind of secret and the line, never the value.
 *
 * @example
 * const known = new KnownSecrets()
 * known.add('API key', apiKey)
 * known.scan(logs) // throws "secret leak: … the API key …" if a line contains it
 */

/** Config fields that hold credentials, whatever the provider (README "Adding a real account"). */
export const CREDENTIAL_FIELDS = ['access_token', 'app_secret', 'verify_token', 'auth_token', 'api_key_secret', 'key_secret', 'webhook_secret', 'webhook_token', 'api_key', 'password', 'token', 'secret']

/** Shorter values are too likely to occur by chance (tests use `'t'`, `'s'` as placeholders). */
const MIN_LENGTH = 8

export class KnownSecrets {
  private readonly kinds = new Map<string, string>()

  add(kind: string, value: unknown): void {
    if (typeof value !== 'string' || value.length < MIN_LENGTH || this.kinds.has(value)) return
    this.kinds.set(value, kind)
  }

  /** The credentials in an account config given to the API or held by an account. */
  addConfig(label: string, config: unknown): void {
    if (config === null || typeof config !== 'object') return
    for (const [field, value] of Object.entries(config)) if (CREDENTIAL_FIELDS.includes(field)) this.add(`${label} ${field}`, value)
  }

  /** An account's credentials: the adapter's own redact list, and the known credential fields. */
  addAccount(account: Account): void {
    const redacted = new Set(account.adapter.redact(account.ctx.config))
    for (const [field, value] of Object.entries(account.rawConfig)) {
      if (typeof value === 'string' && (redacted.has(value) || CREDENTIAL_FIELDS.includes(field))) this.add(`account ${account.row.name} ${field}`, value)
    }
  }

  /** Picks up what a request or its answer reveals: account configs sent, `whsec_` secrets returned. */
  observe(method: string, path: string, body: unknown, answer: unknown): void {
    if ((method === 'POST' || method === 'PATCH') && path.startsWith('/v1/accounts') && body && typeof body === 'object') {
      this.addConfig('account config', (body as { config?: unknown }).config)
    }
    const secret = (answer as { secret?: unknown } | undefined)?.secret
    if (typeof secret === 'string' && secret.startsWith('whsec_')) this.add('subscription whsec_ secret', secret)
  }

  /** Throws naming the first secret kind found in `lines` (and how many lines carry secrets). */
  scan(lines: readonly string[]): void {
    const leaks: string[] = []
    lines.forEach((line, i) => {
      for (const [value, kind] of this.kinds) {
        // JSON-escaped too: that is how a quote or backslash in a secret reaches a log line.
        if (line.includes(value) || line.includes(JSON.stringify(value).slice(1, -1))) leaks.push(`the ${kind} (log line ${i + 1} of ${lines.length})`)
      }
    })
    if (leaks.length > 0) {
      throw new Error(`secret leak: the captured log contains ${leaks[0]}${leaks.length > 1 ? ` and ${leaks.length - 1} more occurrence(s): ${[...new Set(leaks.map((l) => l.replace(/ \(log line.*$/, '')))].join(', ')}` : ''}`)
    }
  }

  get size(): number {
    return this.kinds.size
  }
}
