import pino, { type Logger } from 'pino'

/**
 * The process logger. Headers that carry credentials are redacted by path; URLs lose the Gupshup
 * webhook token, Meta's verify token and a Sinch `?token=`; and every configured secret value (API keys, provider
 * credentials) is masked wherever it appears in a log line's strings.
 *
 * @example
 * const logger = createLogger({ level: 'info' })
 * logger.info({ url: '/webhooks/gupshup/acme/s3cr3t' }, 'hello') // url: /webhooks/gupshup/acme/[redacted]
 */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/webhooks\/gupshup\/[^/?#]+\/)[^/?#]+/, '$1[redacted]')
    .replace(/([?&]hub\.verify_token=)[^&#]*/, '$1[redacted]')
    // Sinch's optional webhook token rides in the query (sinch.md §3).
    .replace(/([?&]token=)[^&#]*/g, '$1[redacted]')
}

/** Masks secrets in each serialized line, whatever object or message carried them. */
function maskingStream(target: pino.DestinationStream, mask: (s: string) => string): pino.DestinationStream {
  return { write: (line: string) => target.write(mask(line)) }
}

export interface LoggerOptions {
  level: string
  /** Where lines go; defaults to stdout. Tests pass a stream to scan for secrets. */
  destination?: pino.DestinationStream
  /** Secret values to mask in any log line (added as they become known). */
  secrets?: Set<string>
}

export function createLogger(opts: LoggerOptions): Logger {
  const secrets = opts.secrets ?? new Set<string>()
  const mask = (line: string) => {
    let out = line
    // Longest first, so a secret that contains another is not left half-masked; each also in its
    // JSON-escaped form, since that is how a quote, backslash or control character reaches the line.
    const ordered = [...secrets].filter((s) => s.length >= 6).sort((a, b) => b.length - a.length)
    for (const secret of ordered) {
      for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
        if (out.includes(form)) out = out.split(form).join('[redacted]')
      }
    }
    return out
  }
  return pino(
    {
      level: opts.level,
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-hub-signature-256"]', 'req.headers["x-twilio-signature"]', 'req.headers["x-sinch-webhook-signature"]', 'req.headers.apikey', 'headers.authorization', 'config'],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { method?: string; url?: string; id?: string }) => ({ method: req.method, url: redactUrl(req.url ?? ''), id: req.id }),
        err: pino.stdSerializers.err,
      },
    },
    maskingStream(opts.destination ?? pino.destination(1), mask),
  )
}
